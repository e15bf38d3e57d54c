// result.json (nlohmann, keys in schema order), junit.xml (pugixml) and the summary
// table. The JSON reader is strict about the keys the writer always emits,
// so a truncated or hand-edited result names what is missing.
#include "reports/writers.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "reports/html_report.h"
namespace lmh::reports {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kError: return "error";
  }
  return "error";
}

std::optional<Verdict> parse_verdict(const std::string& word) {
  for (Verdict v : {Verdict::kPass, Verdict::kFail, Verdict::kError})
    if (word == to_string(v)) return v;
  return std::nullopt;
}

namespace {

using OrderedJson = nlohmann::ordered_json;  // keeps the schema's key order
using Json = nlohmann::json;

// Returns 'v' rounded to 3 decimals (microsecond resolution for *_ms), so
// the file does not carry float noise like 30.000000000004.
double round3(double v) {
  if (!std::isfinite(v)) return v;
  double r = std::round(v * 1000.0) / 1000.0;
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

OrderedJson optional_number(const std::optional<double>& v) {
  return v ? OrderedJson(round3(*v)) : OrderedJson(nullptr);
}

OrderedJson scenario_to_json(const ScenarioResult& s) {
  OrderedJson behaviour = OrderedJson::object();
  for (const auto& [k, v] : s.behaviour) behaviour[k] = v;
  OrderedJson metrics = {
      {"loss", s.metrics.loss},
      {"probes", s.metrics.probes},
      {"interval_ms", round3(s.metrics.interval_ms)},
      {"max_gap_ms", round3(s.metrics.max_gap_ms)},
      {"downtime_ms", round3(s.metrics.downtime_ms)},
      {"recovery_ms", optional_number(s.metrics.recovery_ms)},
      {"stale_forwarding_ms", optional_number(s.metrics.stale_forwarding_ms)},
  };
  // Only runs on a tunnel network (VXLAN, or Geneve under OVN) have it.
  if (!s.metrics.stale_forwarding_by_host_ms.empty()) {
    OrderedJson by_host = OrderedJson::object();
    for (const auto& [host, v] : s.metrics.stale_forwarding_by_host_ms) by_host[host] = round3(v);
    metrics["stale_forwarding_by_host_ms"] = std::move(by_host);
  }
  metrics["hypervisor_downtime_ms"] = optional_number(s.metrics.hypervisor_downtime_ms);
  if (s.metrics.flows_installed_ms) metrics["flows_installed_ms"] = round3(*s.metrics.flows_installed_ms);
  metrics["max_send_gap_ms"] = round3(s.metrics.max_send_gap_ms);
  metrics["window_ms"] = {{"from", round3(s.metrics.window_ms.first)}, {"to", round3(s.metrics.window_ms.second)}};
  OrderedJson gaps = OrderedJson::array();
  for (const auto& [from, to] : s.metrics.reply_gaps_ms) gaps.push_back({{"from", round3(from)}, {"to", round3(to)}});
  metrics["reply_gaps_ms"] = std::move(gaps);
  OrderedJson announces = OrderedJson::array();
  for (const auto& a : s.announces)
    announces.push_back({{"seq", a.seq}, {"t_ms", round3(a.t_ms)}, {"seen_at", a.seen_at}});
  OrderedJson timeline = OrderedJson::array();
  for (const auto& t : s.timeline) {
    OrderedJson e = {{"t_ms", round3(t.t_ms)}, {"source", t.source}, {"event", t.event}, {"kind", t.kind}};
    if (!t.host.empty()) e["host"] = t.host;
    timeline.push_back(std::move(e));
  }
  OrderedJson fallbacks = OrderedJson::array();
  for (const auto& f : s.fallbacks)
    fallbacks.push_back(
        {{"capability", f.capability}, {"available", f.available}, {"used", f.used}});
  Json invariants = Json::array();
  for (const auto& i : s.invariants) invariants.push_back({{"name", i.name}, {"ok", i.ok}, {"detail", i.detail}});
  Json faults = Json::array();
  for (const auto& f : s.faults)
    faults.push_back({{"point", f.point}, {"action", f.action}, {"reached", f.reached}, {"injected", f.injected}});
  return {
      {"name", s.name},
      {"scenario_file", s.scenario_file},
      {"tier", s.tier},
      {"accel", s.accel.empty() ? OrderedJson(nullptr) : OrderedJson(s.accel)},
      {"behaviour", behaviour},
      {"verdict", to_string(s.verdict)},
      {"verdict_reason", s.verdict_reason},
      {"metrics", metrics},
      {"recovery_cause", s.recovery_cause},
      {"migration_status", s.migration_status},
      {"announces", announces},
      {"timeline", timeline},
      {"fallbacks", fallbacks},
      {"invariants", invariants},
      {"faults", faults},
      {"fault_seed", s.fault_seed},
      {"pcaps", s.pcaps},
      {"serial_logs", s.serial_logs},
      {"wall_ms", round3(s.wall_ms)},
      {"lab_setup_ms", round3(s.lab_setup_ms)},
  };
}

// Thrown inside from_json_text only, turned into a Status at its boundary.
struct SchemaError {
  std::string message;
};

// Typed access to one JSON object, naming 'path' in errors.
class Fields {
 public:
  Fields(const Json& obj, std::string path) : obj_(obj), path_(std::move(path)) {
    if (!obj_.is_object()) fail(path_, "expected an object, got " + std::string(obj_.type_name()));
  }

  [[noreturn]] static void fail(const std::string& where, const std::string& what) {
    throw SchemaError{(where.empty() ? "" : where + ": ") + what};
  }
  std::string where(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  const Json& at(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) fail(where(key), "missing key");
    return *it;
  }
  std::string str(const char* key) const {
    const Json& v = at(key);
    if (!v.is_string()) wrong(key, "a string", v);
    return v.get<std::string>();
  }
  bool boolean(const char* key) const {
    const Json& v = at(key);
    if (!v.is_boolean()) wrong(key, "true or false", v);
    return v.get<bool>();
  }
  int integer(const char* key) const {
    const Json& v = at(key);
    if (!v.is_number_integer()) wrong(key, "an integer", v);
    if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t{std::numeric_limits<int>::max()}
                               : (v.get<int64_t>() < std::numeric_limits<int>::min() ||
                                  v.get<int64_t>() > std::numeric_limits<int>::max()))
      fail(where(key), "integer out of range");
    return v.get<int>();
  }
  double number(const char* key) const {
    const Json& v = at(key);
    if (!v.is_number()) wrong(key, "a number", v);
    return v.get<double>();
  }
  std::optional<double> optional_number(const char* key) const {
    const Json& v = at(key);
    if (v.is_null()) return std::nullopt;
    return number(key);
  }
  const Json& array(const char* key) const {
    const Json& v = at(key);
    if (!v.is_array()) wrong(key, "a list", v);
    return v;
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    const Json& list = array(key);
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string())
        fail(fmt::format("{}[{}]", where(key), i),
             "expected a string, got " + std::string(list[i].type_name()));
      out.push_back(list[i].get<std::string>());
    }
    return out;
  }
  Fields object(const char* key) const { return Fields(at(key), where(key)); }
  const Json& raw() const { return obj_; }

 private:
  [[noreturn]] void wrong(const char* key, const char* expected, const Json& got) const {
    fail(where(key), std::string("expected ") + expected + ", got " + got.type_name());
  }

  const Json& obj_;
  std::string path_;
};

ScenarioResult scenario_from_json(const Fields& f) {
  ScenarioResult s;
  s.name = f.str("name");
  s.scenario_file = f.str("scenario_file");
  s.tier = f.str("tier");
  // Absent in results written before the libvirt tier existed.
  if (f.raw().contains("accel") && !f.raw().at("accel").is_null()) s.accel = f.str("accel");
  Fields behaviour = f.object("behaviour");
  for (const auto& [k, v] : behaviour.raw().items()) {
    if (!v.is_string())
      Fields::fail(behaviour.where(k.c_str()),
                   std::string("expected a string, got ") + v.type_name());
    s.behaviour[k] = v.get<std::string>();
  }
  const std::string verdict = f.str("verdict");
  if (auto v = parse_verdict(verdict)) s.verdict = *v;
  else Fields::fail(f.where("verdict"), "expected pass, fail or error, got '" + verdict + "'");
  s.verdict_reason = f.str("verdict_reason");
  Fields m = f.object("metrics");
  s.metrics.loss = m.integer("loss");
  s.metrics.probes = m.integer("probes");
  s.metrics.interval_ms = m.number("interval_ms");
  s.metrics.max_gap_ms = m.number("max_gap_ms");
  s.metrics.downtime_ms = m.number("downtime_ms");
  s.metrics.recovery_ms = m.optional_number("recovery_ms");
  s.metrics.stale_forwarding_ms = m.optional_number("stale_forwarding_ms");
  // Written for runs on a tunnel network (VXLAN or Geneve) only.
  if (m.raw().contains("stale_forwarding_by_host_ms")) {
    Fields by_host = m.object("stale_forwarding_by_host_ms");
    for (const auto& [host, v] : by_host.raw().items())
      s.metrics.stale_forwarding_by_host_ms[host] = by_host.number(host.c_str());
  }
  if (m.raw().contains("hypervisor_downtime_ms")) s.metrics.hypervisor_downtime_ms = m.optional_number("hypervisor_downtime_ms");
  if (m.raw().contains("flows_installed_ms")) s.metrics.flows_installed_ms = m.number("flows_installed_ms");
  // Absent from results written before lmh measured it.
  if (m.raw().contains("max_send_gap_ms")) s.metrics.max_send_gap_ms = m.number("max_send_gap_ms");
  // Absent from results written before the HTML report.
  if (m.raw().contains("window_ms")) {
    Fields w = m.object("window_ms");
    s.metrics.window_ms = {w.number("from"), w.number("to")};
  }
  if (m.raw().contains("reply_gaps_ms")) {
    const Json& gaps = m.array("reply_gaps_ms");
    for (size_t i = 0; i < gaps.size(); ++i) {
      Fields g(gaps[i], fmt::format("{}[{}]", m.where("reply_gaps_ms"), i));
      s.metrics.reply_gaps_ms.emplace_back(g.number("from"), g.number("to"));
    }
  }
  s.recovery_cause = f.str("recovery_cause");
  s.migration_status = f.str("migration_status");
  const Json& announces = f.array("announces");
  for (size_t i = 0; i < announces.size(); ++i) {
    Fields a(announces[i], fmt::format("{}[{}]", f.where("announces"), i));
    s.announces.push_back({a.integer("seq"), a.number("t_ms"), a.strings("seen_at")});
  }
  const Json& timeline = f.array("timeline");
  for (size_t i = 0; i < timeline.size(); ++i) {
    Fields t(timeline[i], fmt::format("{}[{}]", f.where("timeline"), i));
    s.timeline.push_back({t.number("t_ms"), t.str("source"), t.str("event"),
                          t.raw().contains("kind") ? t.str("kind") : "note",
                          t.raw().contains("host") ? t.str("host") : ""});
  }
  const Json& fallbacks = f.array("fallbacks");
  for (size_t i = 0; i < fallbacks.size(); ++i) {
    Fields b(fallbacks[i], fmt::format("{}[{}]", f.where("fallbacks"), i));
    s.fallbacks.push_back({b.str("capability"), b.boolean("available"), b.str("used")});
  }
  const Json& invariants = f.array("invariants");
  for (size_t i = 0; i < invariants.size(); ++i) {
    Fields v(invariants[i], fmt::format("{}[{}]", f.where("invariants"), i));
    s.invariants.push_back({v.str("name"), v.boolean("ok"), v.str("detail")});
  }
  const Json& faults = f.array("faults");
  for (size_t i = 0; i < faults.size(); ++i) {
    Fields v(faults[i], fmt::format("{}[{}]", f.where("faults"), i));
    s.faults.push_back({v.str("point"), v.str("action"), v.integer("reached"), v.integer("injected")});
  }
  s.fault_seed = static_cast<unsigned long long>(f.integer("fault_seed"));
  s.pcaps = f.strings("pcaps");
  // Absent from results written before the real tier kept serial logs.
  if (f.raw().contains("serial_logs")) s.serial_logs = f.strings("serial_logs");
  s.wall_ms = f.number("wall_ms");
  s.lab_setup_ms = f.number("lab_setup_ms");
  return s;
}

// --- JUnit -----------------------------------------------------------------

// Returns 's' with the characters XML 1.0 cannot carry at all (the C0
// controls other than tab, newline and carriage return) replaced by U+FFFD;
// pugixml escapes the rest when it writes the document.
std::string xml_chars(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += "\xEF\xBF\xBD";
    else out += c;
  }
  return out;
}

// Sets attribute 'name' of 'node' to 'value' (normalised by xml_chars).
void set_attr(pugi::xml_node node, const char* name, const std::string& value) {
  node.append_attribute(name).set_value(xml_chars(value).c_str());
}

std::string ms(double v) { return fmt::format("{:.1f}", v); }
std::string ms_or_dash(const std::optional<double>& v) { return v ? ms(*v) : "-"; }
std::string with_unit(const std::optional<double>& v) { return v ? ms(*v) + " ms" : "-"; }

// Returns the pipeline stage of capture point 'point' (higher = further from
// the guest), used to say where an announce stopped.
int stage(const std::string& point) {
  auto dot = point.rfind('.');
  std::string kind = dot == std::string::npos ? point : point.substr(dot + 1);
  if (kind == "tap") return 1;
  if (kind == "bridge") return 2;
  if (kind == "uplink") return 3;
  if (kind == "fabric_port") return 4;
  if (kind == "peer") return 5;
  return 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// U+2192 in UTF-8: a sighting "<point>→<remote host>" is a VXLAN or Geneve
// copy seen at <point> on its way to that host's tunnel endpoint.
constexpr std::string_view kTowards = "\xE2\x86\x92";

// Whether sighting 'seen' shows the announce on the fabric: at a fabric
// port, or VXLAN- or Geneve-encapsulated towards a tunnel endpoint (the
// underlay is a tunnel network's fabric), wherever that copy was captured.
bool on_fabric(const std::string& seen) {
  return ends_with(seen, "fabric_port") || seen.find(kTowards) != std::string::npos;
}

// Returns "k/N fabric" (k announces seen on the fabric, see on_fabric),
// followed by "(where the others were last seen)" when some never got there;
// "-" when the guest sent none.
std::string announce_cell(const std::vector<AnnounceEntry>& announces) {
  if (announces.empty()) return "-";
  int at_fabric = 0;
  std::vector<std::string> stops;
  for (const auto& a : announces) {
    if (std::any_of(a.seen_at.begin(), a.seen_at.end(), on_fabric)) {
      ++at_fabric;
      continue;
    }
    std::string last = "not seen";
    int best = -1;
    for (const auto& p : a.seen_at) {
      if (stage(p) >= best) {
        best = stage(p);
        last = p;
      }
    }
    if (std::find(stops.begin(), stops.end(), last) == stops.end()) stops.push_back(last);
  }
  std::string cell = fmt::format("{}/{} fabric", at_fabric, announces.size());
  if (!stops.empty()) {
    cell += " (";
    for (size_t i = 0; i < stops.size(); ++i) cell += (i ? ", " : "") + stops[i];
    cell += ")";
  }
  return cell;
}

// Returns "" or, on a tunnel network, " (by host: h1 x ms, h2 y ms)".
std::string stale_by_host(const MetricsEntry& m) {
  if (m.stale_forwarding_by_host_ms.empty()) return "";
  std::string text = " (by host: ";
  bool first = true;
  for (const auto& [host, v] : m.stale_forwarding_by_host_ms) {
    text += (first ? "" : ", ") + host + " " + ms(v) + " ms";
    first = false;
  }
  return text + ")";
}

// Returns the one-line metrics summary used in JUnit messages and output.
std::string metrics_summary(const ScenarioResult& s) {
  const MetricsEntry& m = s.metrics;
  std::string text = fmt::format(
      "loss {}/{}, max gap {} ms, downtime {} ms, recovery {}, stale forwarding {}{}, "
      "cause {}, announce {}",
      m.loss, m.probes, ms(m.max_gap_ms), ms(m.downtime_ms), with_unit(m.recovery_ms),
      with_unit(m.stale_forwarding_ms), stale_by_host(m), s.recovery_cause.empty() ? "-" : s.recovery_cause,
      announce_cell(s.announces));
  if (m.hypervisor_downtime_ms) text += ", QEMU downtime " + with_unit(m.hypervisor_downtime_ms);
  if (m.flows_installed_ms) text += ", OVN flows installed " + with_unit(m.flows_installed_ms) + " after the tap";
  return text;
}

struct Counts {
  int passed = 0;
  int failed = 0;
  int errors = 0;
};

Counts count(const RunReport& r) {
  Counts c;
  for (const auto& s : r.scenarios) {
    switch (s.verdict) {
      case Verdict::kPass: ++c.passed; break;
      case Verdict::kFail: ++c.failed; break;
      case Verdict::kError: ++c.errors; break;
    }
  }
  return c;
}

std::string plural(size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

Status write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return environment_error("cannot write " + path + ": " + std::strerror(errno));
  bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  int err = errno;
  // fclose flushes; a full disk may only show here.
  if (std::fclose(f) != 0 && written) {
    written = false;
    err = errno;
  }
  if (!written) return environment_error("cannot write " + path + ": " + std::strerror(err));
  return ok_status();
}

}  // namespace

std::string to_json_text(const RunReport& report) {
  OrderedJson scenarios = OrderedJson::array();
  for (const auto& s : report.scenarios) scenarios.push_back(scenario_to_json(s));
  OrderedJson top = {
      {"run_id", report.run_id},
      {"started_at", report.started_at},
      {"scenarios", scenarios},
  };
  return top.dump(2) + "\n";
}

StatusOr<RunReport> from_json_text(const std::string& text) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return invalid_argument(std::string("result JSON: syntax error: ") + e.what());
  } catch (const Json::out_of_range& e) {
    // A number past double's range (1e999) is not a parse_error.
    return invalid_argument(std::string("result JSON: syntax error: ") + e.what());
  }
  try {
    Fields top(doc, "");
    RunReport r;
    r.run_id = top.str("run_id");
    r.started_at = top.str("started_at");
    const Json& scenarios = top.array("scenarios");
    for (size_t i = 0; i < scenarios.size(); ++i)
      r.scenarios.push_back(
          scenario_from_json(Fields(scenarios[i], fmt::format("scenarios[{}]", i))));
    return r;
  } catch (const SchemaError& e) {
    return invalid_argument("result JSON: " + e.message);
  }
}

std::string to_junit_xml(const RunReport& report) {
  Counts c = count(report);
  double total_s = 0;
  for (const auto& s : report.scenarios) total_s += s.wall_ms / 1000.0;
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version").set_value("1.0");
  decl.append_attribute("encoding").set_value("UTF-8");
  pugi::xml_node suites = doc.append_child("testsuites");
  set_attr(suites, "name", "lmh");
  set_attr(suites, "tests", std::to_string(report.scenarios.size()));
  set_attr(suites, "failures", std::to_string(c.failed));
  set_attr(suites, "errors", std::to_string(c.errors));
  set_attr(suites, "time", fmt::format("{:.3f}", total_s));
  pugi::xml_node suite = suites.append_child("testsuite");
  set_attr(suite, "name", "lmh." + report.run_id);
  set_attr(suite, "tests", std::to_string(report.scenarios.size()));
  set_attr(suite, "failures", std::to_string(c.failed));
  set_attr(suite, "errors", std::to_string(c.errors));
  set_attr(suite, "skipped", "0");
  set_attr(suite, "time", fmt::format("{:.3f}", total_s));
  set_attr(suite, "timestamp", report.started_at);
  for (const auto& s : report.scenarios) {
    pugi::xml_node testcase = suite.append_child("testcase");
    set_attr(testcase, "classname", "lmh." + s.tier);
    set_attr(testcase, "name", s.name);
    set_attr(testcase, "time", fmt::format("{:.3f}", s.wall_ms / 1000.0));
    std::string summary = metrics_summary(s);
    if (s.verdict != Verdict::kPass) {
      // The message is what CI shows in one line; the body adds the details.
      // A failed threshold is explained by the metrics; an error (the run did
      // not get to measure) by its reason alone.
      bool failed = s.verdict == Verdict::kFail;
      std::string message = failed ? s.verdict_reason + " (" + summary + ")" : s.verdict_reason;
      std::string body = failed ? summary : s.verdict_reason;
      for (const auto& v : s.invariants)
        if (!v.ok) body += "\ninvariant violated: " + v.name + ": " + v.detail;
      if (!s.migration_status.empty()) body += "\nmigration status: " + s.migration_status;
      pugi::xml_node problem = testcase.append_child(failed ? "failure" : "error");
      set_attr(problem, "message", message);
      set_attr(problem, "type", to_string(s.verdict));
      problem.text().set(xml_chars(body).c_str());
    }
    testcase.append_child("system-out").text().set(xml_chars(summary).c_str());
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
  return out.str();
}

std::string summary_table(const RunReport& report) {
  std::vector<std::string> header = {"SCENARIO", "VERDICT", "LOSS", "MAX GAP ms",
                                     "DOWNTIME ms", "RECOVERY ms", "STALE ms", "CAUSE",
                                     "ANNOUNCE"};
  // Numbers read best right-aligned.
  std::vector<bool> right = {false, false, true, true, true, true, true, false, false};
  // Runs of the libvirt tier add their tier (with the accelerator) and
  // QEMU's own downtime figure next to the measured one.
  const bool real = std::any_of(report.scenarios.begin(), report.scenarios.end(),
                                [](const ScenarioResult& s) { return !s.tier.empty() && s.tier != "emulated"; });
  if (real) {
    header.insert(header.begin() + 2, "TIER");
    right.insert(right.begin() + 2, false);
    header.insert(header.begin() + 6, "QEMU DT ms");
    right.insert(right.begin() + 6, true);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : report.scenarios) {
    const MetricsEntry& m = s.metrics;
    std::string verdict = to_string(s.verdict);
    std::transform(verdict.begin(), verdict.end(), verdict.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    // Without probes (a run that errored early) there is nothing measured.
    bool measured = m.probes > 0;
    rows.push_back({
        s.name,
        verdict,
        measured ? fmt::format("{}/{}", m.loss, m.probes) : "-",
        measured ? ms(m.max_gap_ms) : "-",
        measured ? ms(m.downtime_ms) : "-",
        ms_or_dash(m.recovery_ms),
        ms_or_dash(m.stale_forwarding_ms),
        s.recovery_cause.empty() ? "-" : s.recovery_cause,
        announce_cell(s.announces),
    });
    if (real) {
      rows.back().insert(rows.back().begin() + 2, s.accel.empty() ? s.tier : s.tier + "/" + s.accel);
      rows.back().insert(rows.back().begin() + 6, ms_or_dash(m.hypervisor_downtime_ms));
    }
  }
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    width[i] = header[i].size();
    for (const auto& r : rows) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) l += "  ";
      l += right[i] ? fmt::format("{:>{}}", cells[i], width[i])
                    : fmt::format("{:<{}}", cells[i], width[i]);
    }
    l.erase(l.find_last_not_of(' ') + 1);
    return l + "\n";
  };
  std::string out = line(header);
  for (const auto& r : rows) out += line(r);
  Counts c = count(report);
  out += fmt::format("{}: {} passed, {} failed, {}\n", plural(report.scenarios.size(), "scenario"),
                     c.passed, c.failed, plural(static_cast<size_t>(c.errors), "error"));
  return out;
}

Status write_run_files(const RunReport& report, const std::string& dir) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  LMH_RETURN_IF_ERROR(write_file(base + "/result.json", to_json_text(report)));
  LMH_RETURN_IF_ERROR(write_file(base + "/report.html", to_html(report)));
  return write_file(base + "/junit.xml", to_junit_xml(report));
}

}  // namespace lmh::reports
