#include "reports/html_report.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

namespace lmh::reports {

namespace {

std::string esc(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string ms(const std::optional<double>& v) { return v ? fmt::format("{:.1f} ms", *v) : "-"; }

// Lanes top to bottom in the order a migration flows: the API and
// conductor, the computes, neutron and its agents, the hypervisor, the
// guest, the fabric; anything else after.
int lane_rank(const std::string& source) {
  static const std::vector<std::pair<std::string, int>> kPrefixes = {
      {"nova.api", 0}, {"conductor", 1}, {"compute.", 2}, {"nova.compute", 3}, {"neutron", 4}, {"l2pop", 5},
      {"agent.", 6},   {"ovn", 7},       {"libvirt", 8},  {"hypervisor", 8},   {"guest", 9},   {"fabric", 10},
      {"faults", 11},  {"runner", 12},   {"prober", 12}};
  for (const auto& [prefix, rank] : kPrefixes)
    if (source.rfind(prefix, 0) == 0) return rank;
  return 11;
}

bool is_phase(const std::string& kind) {
  return kind == "begin" || kind == "prepare" || kind == "perform" || kind == "finish" || kind == "confirm";
}

// An announce's path from the guest to the peer, by capture point kind:
// where it was last seen on the way is where it stopped.
std::string furthest_point(const AnnounceEntry& a) {
  static const char* kOrder[] = {".tap", ".uplink", ".fabric_port"};
  if (std::find(a.seen_at.begin(), a.seen_at.end(), "peer") != a.seen_at.end()) return "peer";
  std::string best;
  int best_rank = -1;
  for (const auto& p : a.seen_at) {
    for (int r = 0; r < 3; ++r) {
      const std::string suffix = kOrder[r];
      if (p.size() > suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          p.rfind("dst.", 0) == 0 && r > best_rank) {
        best_rank = r;
        best = p;
      }
    }
  }
  return best.empty() ? (a.seen_at.empty() ? "nowhere" : a.seen_at.front()) : best;
}

constexpr double kWidth = 1100;  // SVG width
constexpr double kLabelWidth = 150;
constexpr double kLaneHeight = 22;
constexpr double kTop = 28;      // room for the phase labels

struct Axis {
  double from = 0, to = 1;
  double x(double t) const {
    return kLabelWidth + (std::clamp(t, from, to) - from) / (to - from) * (kWidth - kLabelWidth - 10);
  }
  bool inside(double t) const { return t >= from && t <= to; }
};

// The switchover and what followed it: from a little before the guest
// paused (or the first gap began) to a little after the last gap ended
// and the last announce; nullopt when the guest never paused.
// When the guest first paused and last resumed, as the timeline says.
struct Switchover {
  std::optional<double> paused, resumed;
};
Switchover switchover_of(const ScenarioResult& s) {
  Switchover w;
  for (const auto& t : s.timeline) {
    if (t.kind == "guest_paused" && !w.paused) w.paused = t.t_ms;
    if (t.kind == "guest_resumed") w.resumed = t.t_ms;
  }
  return w;
}

std::optional<Axis> switchover_axis(const ScenarioResult& s) {
  const auto [paused, resumed] = switchover_of(s);
  if (!paused) return std::nullopt;
  Axis a{*paused, resumed.value_or(*paused)};
  for (const auto& [from, to] : s.metrics.reply_gaps_ms) {
    if (to < *paused - 5000) continue;  // an earlier stretch is another story
    a.from = std::min(a.from, from);
    a.to = std::max(a.to, to);
  }
  for (const auto& an : s.announces) a.to = std::max(a.to, an.t_ms);
  if (s.metrics.recovery_ms && resumed) a.to = std::max(a.to, *resumed + *s.metrics.recovery_ms);
  const double margin = std::max(100.0, (a.to - a.from) * 0.1);
  a.from -= margin;
  a.to += margin;
  return a;
}

std::string timeline_svg(const ScenarioResult& s, std::optional<Axis> zoom, const char* view) {
  // The time axis: the measurement window (the migration and what the peer
  // saw), widened to every migration phase and announce; or 'zoom'.
  Axis axis;
  if (zoom) {
    axis = *zoom;
  } else if (s.metrics.window_ms.second > s.metrics.window_ms.first) {
    axis.from = s.metrics.window_ms.first;
    axis.to = s.metrics.window_ms.second;
  } else if (!s.timeline.empty()) {
    axis.from = s.timeline.front().t_ms;
    axis.to = s.timeline.back().t_ms;
  }
  if (!zoom) {
    for (const auto& t : s.timeline)
      if (is_phase(t.kind) || t.kind.rfind("guest_", 0) == 0) {
        if (t.t_ms >= axis.from - 60000) axis.from = std::min(axis.from, t.t_ms);
        axis.to = std::max(axis.to, t.t_ms);
      }
    for (const auto& a : s.announces) axis.to = std::max(axis.to, a.t_ms);
    if (axis.to <= axis.from) axis.to = axis.from + 1;
    const double span = axis.to - axis.from;
    axis.from -= span * 0.01;
    axis.to += span * 0.01;
  }

  // Lanes: every source with an event in range, then probes and announces.
  std::vector<std::string> sources;
  for (const auto& t : s.timeline)
    if (axis.inside(t.t_ms) && std::find(sources.begin(), sources.end(), t.source) == sources.end())
      sources.push_back(t.source);
  std::stable_sort(sources.begin(), sources.end(),
                   [](const auto& a, const auto& b) { return lane_rank(a) < lane_rank(b) || (lane_rank(a) == lane_rank(b) && a < b); });
  sources.push_back("probes (peer)");
  sources.push_back("announces");
  std::map<std::string, double> lane_y;
  for (size_t i = 0; i < sources.size(); ++i) lane_y[sources[i]] = kTop + static_cast<double>(i) * kLaneHeight;
  const double height = kTop + static_cast<double>(sources.size()) * kLaneHeight + 24;

  std::string svg = fmt::format(
      "<svg class=\"timeline\" data-view=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" "
      "height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" data-from-ms=\"{:.1f}\" data-to-ms=\"{:.1f}\">\n",
      view, kWidth, height, kWidth, height, axis.from, axis.to);
  // Lane backgrounds and labels.
  for (size_t i = 0; i < sources.size(); ++i) {
    const double y = lane_y[sources[i]];
    svg += fmt::format(
        "<g class=\"lane\" data-lane=\"{0}\"><rect x=\"0\" y=\"{1:.1f}\" width=\"{2:.0f}\" height=\"{3:.0f}\" "
        "class=\"{4}\"/><text x=\"4\" y=\"{5:.1f}\" class=\"lane-label\">{0}</text></g>\n",
        esc(sources[i]), y, kWidth, kLaneHeight, i % 2 ? "odd" : "even", y + 15);
  }
  // The switchover: paused on the source until resumed on the destination.
  const auto [paused, resumed] = switchover_of(s);
  if (paused && resumed && *resumed >= *paused)
    svg += fmt::format(
        "<rect class=\"switchover\" x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{:.0f}\"><title>switchover: "
        "paused {:.1f} ms .. resumed {:.1f} ms</title></rect>\n",
        axis.x(*paused), kTop, std::max(1.5, axis.x(*resumed) - axis.x(*paused)), height - kTop - 24, *paused,
        *resumed);
  // Migration phases: a line across every lane, named at the top (on two
  // rows, so phases close together stay readable).
  int phase_row = 0;
  for (const auto& t : s.timeline) {
    if (!is_phase(t.kind) || !axis.inside(t.t_ms)) continue;
    const double x = axis.x(t.t_ms);
    const int label_y = phase_row++ % 2 ? 22 : 11;
    svg += fmt::format(
        "<g class=\"phase\" data-kind=\"{0}\"><line x1=\"{1:.1f}\" y1=\"{2:.0f}\" x2=\"{1:.1f}\" y2=\"{3:.0f}\"/>"
        "<text x=\"{4:.1f}\" y=\"{7}\">{0}</text><title>{5:.1f} ms {6}</title></g>\n",
        esc(t.kind), x, kTop - 6, height - 24, x + 2, t.t_ms, esc(t.event), label_y);
  }
  // Events, one mark each on their lane; faults as diamonds.
  int guest_label = 0;
  for (const auto& t : s.timeline) {
    if (!axis.inside(t.t_ms)) continue;
    const double x = axis.x(t.t_ms), y = lane_y[t.source] + kLaneHeight / 2;
    const bool fault = t.source == "faults";
    const std::string title = fmt::format("{:.1f} ms {}: {}", t.t_ms, t.source, t.event);
    if (fault)
      svg += fmt::format(
          "<path class=\"event fault\" data-kind=\"fault\" d=\"M{0:.1f} {1:.1f} l5 5 l-5 5 l-5 -5 z\"><title>{2}</title></path>\n",
          x, y - 5, esc(title));
    else
      svg += fmt::format(
          "<circle class=\"event\" data-kind=\"{}\" data-source=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\"><title>{}</title></circle>\n",
          esc(t.kind), esc(t.source), x, y, esc(title));
    // The guest's own events say where it is: worth reading without hovering.
    if (t.kind.rfind("guest_", 0) == 0)
      svg += fmt::format("<text class=\"event-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x + 5,
                         y + (guest_label++ % 2 ? 9 : -2), esc(t.event.substr(0, 60)));
  }
  // Probe replies: answered across the window, each gap in red.
  const double py = lane_y["probes (peer)"] + 5;
  svg += fmt::format("<rect class=\"replies\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"12\"/>\n",
                     axis.x(s.metrics.window_ms.first), py,
                     std::max(0.0, axis.x(s.metrics.window_ms.second) - axis.x(s.metrics.window_ms.first)));
  double longest = 0;
  for (const auto& [from, to] : s.metrics.reply_gaps_ms) longest = std::max(longest, to - from);
  for (const auto& [from, to] : s.metrics.reply_gaps_ms) {
    const double x0 = axis.x(from), x1 = axis.x(to);
    svg += fmt::format(
        "<rect class=\"gap{}\" data-ms=\"{:.1f}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"12\"><title>no "
        "reply for {:.1f} ms ({:.1f} .. {:.1f} ms)</title></rect>\n",
        to - from == longest ? " longest" : "", to - from, x0, py, std::max(2.0, x1 - x0), to - from, from, to);
    if (to - from == longest)
      svg += fmt::format("<text class=\"gap-label\" x=\"{:.1f}\" y=\"{:.1f}\">gap {:.1f} ms</text>\n",
                         std::max(x1, x0 + 2) + 4, py + 10, to - from);
  }
  // Announces: green when the peer saw it, red where it stopped.
  const double ay = lane_y["announces"] + kLaneHeight / 2;
  for (const auto& a : s.announces) {
    const std::string stop = furthest_point(a);
    const bool arrived = stop == "peer";
    std::string seen;
    for (const auto& p : a.seen_at) seen += (seen.empty() ? "" : ", ") + p;
    svg += fmt::format(
        "<path class=\"announce {}\" data-seq=\"{}\" data-stopped=\"{}\" d=\"M{:.1f} {:.1f} l5 8 l-10 0 z\"><title>RARP "
        "{} at {:.1f} ms; seen at {}; {}</title></path>\n",
        arrived ? "arrived" : "lost", a.seq, esc(stop), axis.x(a.t_ms), ay - 5, a.seq, a.t_ms,
        seen.empty() ? "nowhere" : esc(seen), arrived ? "reached the peer" : "stopped at " + esc(stop));
  }
  // Time axis.
  const double axis_y = height - 16;
  svg += fmt::format("<line class=\"axis\" x1=\"{:.0f}\" y1=\"{:.0f}\" x2=\"{:.0f}\" y2=\"{:.0f}\"/>\n", kLabelWidth,
                     axis_y, kWidth - 10, axis_y);
  for (int i = 0; i <= 8; ++i) {
    const double t = axis.from + (axis.to - axis.from) * i / 8.0;
    svg += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.0f}\">{:.0f} ms</text>\n", axis.x(t) - 14,
                       axis_y + 13, t);
  }
  return svg + "</svg>\n";
}

const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}
h1{font-size:20px} h3{font-size:14px;margin:10px 0 0;color:#555} h2{font-size:17px;margin-top:32px;border-top:1px solid #ccc;padding-top:12px}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.summary td:nth-child(2){max-width:340px;overflow-wrap:anywhere} table.summary td:last-child{min-width:320px}
.verdict-pass{color:#176f2c;font-weight:bold}.verdict-fail{color:#b3261e;font-weight:bold}.verdict-error{color:#8a5300;font-weight:bold}
.broken{background:#fde7e7}.banner{background:#fde7e7;border-left:4px solid #b3261e;padding:6px 10px;margin:8px 0}
svg.timeline{display:block;margin:8px 0;font:11px system-ui,sans-serif}
svg .even{fill:#f7f7f7} svg .odd{fill:#ffffff} svg .lane-label{fill:#333}
svg .switchover{fill:#ffd54f;opacity:.35} svg .phase line{stroke:#555;stroke-dasharray:3 3} svg .phase text{fill:#333}
svg .event{fill:#1565c0} svg .event.fault{fill:#b3261e} svg .event-label{fill:#555;font-size:10px}
svg .replies{fill:#43a047} svg .gap{fill:#e53935} svg .gap-label{fill:#b3261e;font-weight:bold}
svg .announce.arrived{fill:#2e7d32} svg .announce.lost{fill:#b3261e} svg .axis{stroke:#999} svg .tick{fill:#666}
svg .event:hover,svg .announce:hover,svg .gap:hover{stroke:#000;stroke-width:2}
details{margin:6px 0} .events td:first-child{text-align:right;white-space:nowrap}
tr.fault td{color:#b3261e}
)";

// Filters the summary by verdict; nothing else needs script.
const char* kScript = R"(
document.addEventListener('DOMContentLoaded', function () {
  var box = document.getElementById('only-failing');
  if (!box) return;
  box.addEventListener('change', function () {
    document.querySelectorAll('tr.summary-row').forEach(function (row) {
      row.style.display = box.checked && row.dataset.verdict === 'pass' ? 'none' : '';
    });
  });
});
)";

std::string scenario_html(const ScenarioResult& s, size_t index) {
  const std::string verdict = to_string(s.verdict);
  std::string html = fmt::format(
      "<section class=\"scenario\" id=\"s-{}\" data-verdict=\"{}\">\n<h2>{}. {} <span class=\"verdict-{}\">{}</span></h2>\n",
      index, verdict, index, esc(s.name), verdict, verdict);
  if (!s.verdict_reason.empty()) html += "<p class=\"reason\">" + esc(s.verdict_reason) + "</p>\n";
  for (const auto& inv : s.invariants)
    if (!inv.ok)
      html += "<div class=\"banner\">invariant <b>" + esc(inv.name) + "</b> broken: " + esc(inv.detail) + "</div>\n";
  const auto& m = s.metrics;
  html += fmt::format(
      "<p class=\"metrics\">tier {}{}; downtime <b>{:.1f} ms</b> (longest gap {:.1f} ms, probes every {:.1f} ms, "
      "{} of {} lost); recovery {} after resume ({}); stale forwarding {}; QEMU's own downtime {}; migration {}</p>\n",
      esc(s.tier), s.accel.empty() ? "" : " (" + esc(s.accel) + ")", m.downtime_ms, m.max_gap_ms, m.interval_ms, m.loss,
      m.probes, ms(m.recovery_ms), esc(s.recovery_cause.empty() ? "-" : s.recovery_cause), ms(m.stale_forwarding_ms),
      ms(m.hypervisor_downtime_ms), esc(s.migration_status));
  if (auto zoom = switchover_axis(s)) {
    html += "<h3>around the switchover</h3>\n" + timeline_svg(s, zoom, "switchover");
    html += "<h3>the whole migration</h3>\n";
  }
  html += timeline_svg(s, std::nullopt, "migration");
  html += "<table class=\"invariants\"><tr><th>invariant</th><th>ok</th><th>detail</th></tr>\n";
  for (const auto& inv : s.invariants)
    html += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>\n", inv.ok ? "ok" : "broken",
                        esc(inv.name), inv.ok ? "yes" : "NO", esc(inv.detail));
  html += "</table>\n";
  if (!s.faults.empty()) {
    html += "<p class=\"faults\">faults: ";
    for (const auto& f : s.faults)
      html += fmt::format("{}={} (reached {}, injected {}) ", esc(f.point), esc(f.action), f.reached, f.injected);
    html += "</p>\n";
  }
  html += "<p class=\"files\">";
  for (const auto& p : s.pcaps) html += "<a class=\"pcap\" href=\"" + esc(p) + "\">" + esc(p) + "</a> ";
  for (const auto& l : s.serial_logs) html += "<a class=\"serial\" href=\"" + esc(l) + "\">" + esc(l) + "</a> ";
  html += "</p>\n<details><summary>every event (" + std::to_string(s.timeline.size()) +
          ")</summary><table class=\"events\">\n";
  for (const auto& t : s.timeline)
    html += fmt::format("<tr{}><td>{:.1f}</td><td>{}</td><td>{}</td></tr>\n",
                        t.source == "faults" ? " class=\"fault\"" : "", t.t_ms, esc(t.source), esc(t.event));
  return html + "</table></details>\n</section>\n";
}

}  // namespace

std::string to_html(const RunReport& report) {
  std::map<Verdict, int> counts;
  for (const auto& s : report.scenarios) counts[s.verdict]++;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>lmh run " +
                     esc(report.run_id) + "</title>\n<style>" + kStyle + "</style>\n<script>" + kScript +
                     "</script>\n</head><body>\n";
  html += fmt::format("<h1>lmh run {} <small>{}</small></h1>\n<p class=\"counts\">{} scenarios: {} pass, {} fail, {} error "
                      "<label><input type=\"checkbox\" id=\"only-failing\"> only what did not pass</label></p>\n",
                      esc(report.run_id), esc(report.started_at), report.scenarios.size(), counts[Verdict::kPass],
                      counts[Verdict::kFail], counts[Verdict::kError]);
  html += "<table class=\"summary\"><tr><th>#</th><th>scenario</th><th>tier</th><th>verdict</th><th>downtime</th>"
          "<th>recovery</th><th>cause</th><th>reason</th></tr>\n";
  for (size_t i = 0; i < report.scenarios.size(); ++i) {
    const auto& s = report.scenarios[i];
    const std::string v = to_string(s.verdict);
    html += fmt::format(
        "<tr class=\"summary-row\" data-verdict=\"{0}\"><td>{1}</td><td><a href=\"#s-{1}\">{2}</a></td><td>{3}</td>"
        "<td class=\"verdict-{0}\">{0}</td><td>{4:.1f} ms</td><td>{5}</td><td>{6}</td><td>{7}</td></tr>\n",
        v, i + 1, esc(s.name), esc(s.tier), s.metrics.downtime_ms, ms(s.metrics.recovery_ms), esc(s.recovery_cause),
        esc(s.verdict_reason));
  }
  html += "</table>\n";
  for (size_t i = 0; i < report.scenarios.size(); ++i) html += scenario_html(report.scenarios[i], i + 1);
  return html + "</body></html>\n";
}

}  // namespace lmh::reports
