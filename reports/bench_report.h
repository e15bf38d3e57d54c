// `lmh bench`'s output: a table of downtime and recovery per scenario, and
// the same in Google Benchmark's JSON format, so its tools/compare.py diffs
// two runs and a CI job gates on a regression against a baseline file.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "reports/repeated_runs.h"

namespace lmh::reports {

struct BenchContext {
  std::string date;  // ISO 8601
  std::string host_name;
  int num_cpus = 0;
  std::vector<double> load_avg;
};

// Per entry and figure a benchmark "<entry>/downtime_ms" (and
// "<entry>/recovery_ms"): one iteration per run (real_time = cpu_time = the
// figure, time_unit "ms"; errored runs measured nothing and are left out),
// then the aggregates mean, median, stddev, min, max and p95.
std::string bench_google_json(const std::vector<RepeatedEntry>& entries, const BenchContext& context);

// Per entry: tier, backend-free name, runs, downtime and recovery median,
// p95, min, max and spread (max - min); errored runs counted apart.
std::string bench_table(const std::vector<RepeatedEntry>& entries);

struct MedianChange {
  std::string name;  // "<entry>/downtime_ms"
  double baseline_ms = 0;
  double now_ms = 0;
  double change_pct = 0;  // + is slower
};

struct BaselineComparison {
  std::vector<MedianChange> regressions;  // beyond the tolerance
  std::vector<MedianChange> compared;     // every figure in both
  std::vector<std::string> not_in_baseline;
};

// Compares the medians of 'entries' with those of a Google Benchmark JSON
// file (an earlier `lmh bench`, or any file with per-iteration or "median"
// aggregate entries of the same names). A median more than 'tolerance_pct'
// above the baseline's is a regression. kInvalidArgument when the baseline
// is not such JSON (the message says what is wrong).
StatusOr<BaselineComparison> compare_to_baseline(const std::vector<RepeatedEntry>& entries,
                                                 const std::string& baseline_json, double tolerance_pct);

}  // namespace lmh::reports
