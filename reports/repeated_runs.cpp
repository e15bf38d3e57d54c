#include "reports/repeated_runs.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lmh::reports {

std::optional<FigureStats> summarize(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  FigureStats s;
  s.count = static_cast<int>(n);
  s.min = values.front();
  s.max = values.back();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  // Nearest rank: ceil(0.95 n), 1-based.
  size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n)));
  s.p95 = values[std::clamp<size_t>(rank, 1, n) - 1];
  return s;
}

int RepeatedEntry::count(Verdict v) const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [v](const RepeatedRun& r) { return r.verdict == v; }));
}

int RepeatedEntry::unexpected() const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [this](const RepeatedRun& r) {
    return r.verdict != expected && r.verdict != Verdict::kError;
  }));
}

std::vector<double> RepeatedEntry::downtimes() const {
  std::vector<double> v;
  for (const auto& r : runs)
    if (r.verdict != Verdict::kError) v.push_back(r.downtime_ms);
  return v;
}

std::vector<double> RepeatedEntry::recoveries() const {
  std::vector<double> v;
  for (const auto& r : runs)
    if (r.verdict != Verdict::kError && r.recovery_ms) v.push_back(*r.recovery_ms);
  return v;
}

int RepeatedEntry::overloaded() const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [](const RepeatedRun& r) { return r.overloaded; }));
}

namespace {

std::vector<double> walls(const RepeatedEntry& e) {
  std::vector<double> v;
  for (const auto& r : e.runs) v.push_back(r.wall_ms);
  return v;
}

std::string stats_cell(const std::optional<FigureStats>& s) {
  if (!s) return "-";
  return fmt::format("{:.1f}/{:.1f}/{:.1f}/{:.1f}", s->min, s->median, s->p95, s->max);
}

nlohmann::ordered_json stats_json(const std::optional<FigureStats>& s) {
  if (!s) return nullptr;
  auto r3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return {{"count", s->count}, {"min", r3(s->min)}, {"median", r3(s->median)}, {"p95", r3(s->p95)}, {"max", r3(s->max)}};
}

bool noteworthy(const RepeatedEntry& e, const RepeatedRun& r) { return r.verdict != e.expected; }

}  // namespace

std::string repeated_table(const std::vector<RepeatedEntry>& entries) {
  size_t width = 8;
  for (const auto& e : entries) width = std::max(width, e.name.size());
  std::string out = fmt::format("{:<{}} {:<8} {:>4} {:<6} {:>4} {:>4} {:>5} {:>5} {:>6}  {:<31} {:<31} {:>7}\n",
                                "SCENARIO", width, "TIER", "RUNS", "EXPECT", "PASS", "FAIL", "ERROR", "UNEXP", "LOADED",
                                "DOWNTIME ms min/med/p95/max", "RECOVERY ms min/med/p95/max", "s/RUN");
  int runs = 0, unexpected = 0, unexpected_loaded = 0, errors = 0;
  for (const auto& e : entries) {
    auto wall = summarize(walls(e));
    int unrecovered = 0;
    for (const auto& r : e.runs)
      if (r.verdict != Verdict::kError && !r.recovery_ms) ++unrecovered;
    std::string recovery = stats_cell(summarize(e.recoveries()));
    if (unrecovered) recovery += fmt::format(" +{} none", unrecovered);
    out += fmt::format("{:<{}} {:<8} {:>4} {:<6} {:>4} {:>4} {:>5} {:>5} {:>6}  {:<31} {:<31} {:>7.1f}\n", e.name,
                       width, e.tier, e.runs.size(), to_string(e.expected), e.count(Verdict::kPass),
                       e.count(Verdict::kFail), e.count(Verdict::kError), e.unexpected(), e.overloaded(),
                       stats_cell(summarize(e.downtimes())), recovery, wall ? wall->median / 1000.0 : 0.0);
    runs += static_cast<int>(e.runs.size());
    unexpected += e.unexpected();
    for (const auto& r : e.runs) unexpected_loaded += r.overloaded && r.verdict != e.expected && r.verdict != Verdict::kError;
    errors += e.count(Verdict::kError);
  }
  bool header = false;
  for (const auto& e : entries)
    for (const auto& r : e.runs) {
      if (!noteworthy(e, r)) continue;
      if (!header) out += "\nruns whose verdict was not the expected one:\n";
      header = true;
      out += fmt::format("  {} run {}: {} ({}){}\n", e.name, r.round, to_string(r.verdict),
                         r.reason.empty() ? "no reason given" : r.reason,
                         r.evidence.empty() ? "" : "; evidence " + r.evidence);
    }
  out += fmt::format("{} entries, {} runs: {} unexpected verdicts ({} on an overloaded machine), {} errors\n",
                     entries.size(), runs, unexpected, unexpected_loaded, errors);
  return out;
}

std::string repeated_json(const std::string& run_id, const std::vector<RepeatedEntry>& entries) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& e : entries) {
    nlohmann::ordered_json detail = nlohmann::ordered_json::array();
    for (const auto& r : e.runs) {
      detail.push_back({{"round", r.round},
                        {"verdict", to_string(r.verdict)},
                        {"reason", r.reason},
                        {"downtime_ms", std::round(r.downtime_ms * 1000.0) / 1000.0},
                        {"recovery_ms", r.recovery_ms ? nlohmann::ordered_json(std::round(*r.recovery_ms * 1000.0) / 1000.0)
                                                      : nlohmann::ordered_json(nullptr)},
                        {"wall_ms", std::round(r.wall_ms)},
                        {"overloaded", r.overloaded},
                        {"evidence", r.evidence}});
    }
    list.push_back({{"name", e.name},
                    {"tier", e.tier},
                    {"expected", to_string(e.expected)},
                    {"runs", e.runs.size()},
                    {"pass", e.count(Verdict::kPass)},
                    {"fail", e.count(Verdict::kFail)},
                    {"error", e.count(Verdict::kError)},
                    {"unexpected", e.unexpected()},
                    {"overloaded", e.overloaded()},
                    {"downtime_ms", stats_json(summarize(e.downtimes()))},
                    {"recovery_ms", stats_json(summarize(e.recoveries()))},
                    {"wall_ms", stats_json(summarize(walls(e)))},
                    {"runs_detail", detail}});
  }
  nlohmann::ordered_json doc = {{"run_id", run_id}, {"entries", list}};
  return doc.dump(2) + "\n";
}

StatusOr<std::vector<RepeatedEntry>> repeated_from_json(const std::string& text) {
  std::vector<RepeatedEntry> out;
  try {
    auto doc = nlohmann::json::parse(text);
    for (const auto& e : doc.at("entries")) {
      RepeatedEntry entry;
      entry.name = e.at("name").get<std::string>();
      entry.tier = e.at("tier").get<std::string>();
      auto expected = parse_verdict(e.at("expected").get<std::string>());
      if (!expected) return invalid_argument("entry " + entry.name + ": expected: not a verdict");
      entry.expected = *expected;
      for (const auto& r : e.at("runs_detail")) {
        RepeatedRun run;
        run.round = r.at("round").get<int>();
        auto verdict = parse_verdict(r.at("verdict").get<std::string>());
        if (!verdict) return invalid_argument("entry " + entry.name + ": runs_detail: verdict: not a verdict");
        run.verdict = *verdict;
        run.reason = r.at("reason").get<std::string>();
        run.downtime_ms = r.at("downtime_ms").get<double>();
        if (!r.at("recovery_ms").is_null()) run.recovery_ms = r.at("recovery_ms").get<double>();
        run.wall_ms = r.at("wall_ms").get<double>();
        run.overloaded = r.value("overloaded", false);  // absent before lmh measured it
        run.evidence = r.at("evidence").get<std::string>();
        entry.runs.push_back(std::move(run));
      }
      out.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("flake.json: ") + e.what());
  }
  return out;
}

}  // namespace lmh::reports
