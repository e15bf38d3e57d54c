#include "reports/bench_report.h"

#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lmh::reports {

namespace {

using ordered_json = nlohmann::ordered_json;

struct Figure {
  const char* suffix;
  std::vector<double> values;
};

std::vector<Figure> figures_of(const RepeatedEntry& e) {
  return {{"downtime_ms", e.downtimes()}, {"recovery_ms", e.recoveries()}};
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double sum = 0;
  for (double x : v) sum += (x - m) * (x - m);
  return std::sqrt(sum / static_cast<double>(v.size() - 1));  // as Google Benchmark: sample stddev
}

ordered_json bench_entry(const std::string& name, const std::string& run_type, size_t repetitions, double value) {
  return ordered_json{{"name", name},     {"family_index", 0}, {"per_family_instance_index", 0},
                      {"run_name", name}, {"run_type", run_type}, {"repetitions", repetitions},
                      {"threads", 1},     {"iterations", 1},   {"real_time", value},
                      {"cpu_time", value}, {"time_unit", "ms"}};
}

std::string stats_cells(const std::optional<FigureStats>& s) {
  if (!s) return fmt::format("{:>8} {:>8} {:>8} {:>8} {:>8}", "-", "-", "-", "-", "-");
  return fmt::format("{:8.1f} {:8.1f} {:8.1f} {:8.1f} {:8.1f}", s->median, s->p95, s->min, s->max, s->max - s->min);
}

double to_ms(double value, const std::string& unit) {
  if (unit == "ns") return value / 1e6;
  if (unit == "us") return value / 1e3;
  if (unit == "s") return value * 1e3;
  return value;
}

}  // namespace

std::string bench_google_json(const std::vector<RepeatedEntry>& entries, const BenchContext& context) {
  ordered_json list = ordered_json::array();
  int family = 0;
  for (const auto& e : entries) {
    for (const auto& f : figures_of(e)) {
      if (f.values.empty()) continue;
      const std::string name = e.name + "/" + f.suffix;
      const size_t n = f.values.size();
      for (size_t i = 0; i < n; ++i) {
        ordered_json b = bench_entry(name, "iteration", n, f.values[i]);
        b["family_index"] = family;
        b["repetition_index"] = i;
        list.push_back(std::move(b));
      }
      const auto s = summarize(f.values);
      const std::pair<const char*, double> aggregates[] = {{"mean", mean(f.values)}, {"median", s->median},
                                                           {"stddev", stddev(f.values)}, {"min", s->min},
                                                           {"max", s->max},   {"p95", s->p95}};
      for (const auto& [agg, value] : aggregates) {
        ordered_json b = bench_entry(name + "_" + agg, "aggregate", n, value);
        b["run_name"] = name;
        b["family_index"] = family;
        b["aggregate_name"] = agg;
        b["aggregate_unit"] = "time";
        list.push_back(std::move(b));
      }
      ++family;
    }
  }
  ordered_json ctx = {{"date", context.date},
                      {"host_name", context.host_name},
                      {"executable", "lmh bench"},
                      {"num_cpus", context.num_cpus},
                      {"mhz_per_cpu", 0},
                      {"cpu_scaling_enabled", false},
                      {"caches", ordered_json::array()},
                      {"load_avg", context.load_avg},
                      {"library_build_type", "release"}};
  return ordered_json{{"context", ctx}, {"benchmarks", list}}.dump(2) + "\n";
}

std::string bench_table(const std::vector<RepeatedEntry>& entries) {
  size_t width = 8;
  for (const auto& e : entries) width = std::max(width, e.name.size());
  std::string out = fmt::format("{:<{}} {:<8} {:>4} {:>5} | {:^44} | {:^44}\n", "SCENARIO", width, "TIER", "RUNS",
                                "ERROR", "DOWNTIME ms", "RECOVERY ms");
  out += fmt::format("{:<{}} {:<8} {:>4} {:>5} | {:>8} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8} {:>8}\n", "",
                     width, "", "", "", "median", "p95", "min", "max", "spread", "median", "p95", "min", "max",
                     "spread");
  for (const auto& e : entries)
    out += fmt::format("{:<{}} {:<8} {:>4} {:>5} | {} | {}\n", e.name, width, e.tier, e.runs.size(),
                       e.count(Verdict::kError), stats_cells(summarize(e.downtimes())),
                       stats_cells(summarize(e.recoveries())));
  return out;
}

StatusOr<BaselineComparison> compare_to_baseline(const std::vector<RepeatedEntry>& entries,
                                                 const std::string& baseline_json, double tolerance_pct) {
  const auto doc = nlohmann::json::parse(baseline_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return invalid_argument("not JSON");
  if (!doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    return invalid_argument("no \"benchmarks\" list (not Google Benchmark JSON)");
  // Medians by name: the "median" aggregate when there is one, else the
  // median of the iterations.
  std::map<std::string, double> medians;
  std::map<std::string, std::vector<double>> iterations;
  for (const auto& b : doc["benchmarks"]) {
    if (!b.is_object() || !b.contains("real_time") || !b["real_time"].is_number()) continue;
    const std::string unit = b.contains("time_unit") && b["time_unit"].is_string() ? b["time_unit"].get<std::string>() : "ns";
    const double ms = to_ms(b["real_time"].get<double>(), unit);
    const std::string run_name = b.contains("run_name") && b["run_name"].is_string() ? b["run_name"].get<std::string>()
                                 : b.contains("name") && b["name"].is_string()       ? b["name"].get<std::string>()
                                                                                     : "";
    if (run_name.empty()) continue;
    const bool aggregate = b.contains("run_type") && b["run_type"] == "aggregate";
    if (aggregate && b.contains("aggregate_name") && b["aggregate_name"] == "median") medians[run_name] = ms;
    else if (!aggregate) iterations[run_name].push_back(ms);
  }
  for (auto& [name, values] : iterations)
    if (!medians.count(name)) medians[name] = summarize(values)->median;
  BaselineComparison out;
  for (const auto& e : entries) {
    for (const auto& f : figures_of(e)) {
      if (f.values.empty()) continue;
      const std::string name = e.name + "/" + f.suffix;
      auto it = medians.find(name);
      if (it == medians.end()) {
        out.not_in_baseline.push_back(name);
        continue;
      }
      MedianChange c{name, it->second, summarize(f.values)->median, 0};
      c.change_pct = it->second > 0 ? (c.now_ms - it->second) / it->second * 100.0 : 0;
      out.compared.push_back(c);
      if (c.change_pct > tolerance_pct) out.regressions.push_back(c);
    }
  }
  return out;
}

}  // namespace lmh::reports
