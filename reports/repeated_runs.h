// Many runs of the same scenarios: figures summarised per scenario (min,
// median, p95, max) and how often a run's verdict differed from the one
// expected of it. Plain data in, tables and JSON out; `lmh flake` fills it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "reports/result.h"

namespace lmh::reports {

// Order statistics of one figure over runs. p95 is the nearest-rank
// percentile (the smallest value with at least 95 % of the runs at or below
// it), so with 10 runs it is the largest and with 30 the 29th.
struct FigureStats {
  int count = 0;
  double min = 0, median = 0, p95 = 0, max = 0;
};
// nullopt for no values. The median of an even count is the mean of the
// middle two.
std::optional<FigureStats> summarize(std::vector<double> values);

// One run of one matrix entry.
struct RepeatedRun {
  int round = 0;  // 1-based
  Verdict verdict = Verdict::kError;
  std::string reason;  // the verdict's reason ("" for a plain pass)
  double downtime_ms = 0;
  std::optional<double> recovery_ms;
  double wall_ms = 0;  // the whole run: lab up to torn down
  // Set when the verdict is unexpected or an error: where its evidence is
  // (result.json index, pcaps, serial logs), relative to the results dir.
  std::string evidence;
  // The machine was overloaded while this run measured (the judge's note:
  // the prober paused far longer than its interval).
  bool overloaded = false;
};

// One matrix entry ("FILE[overrides]") over all its runs.
struct RepeatedEntry {
  std::string name;  // display name, as the summary table prints it
  std::string tier;  // "emulated", "libvirt"
  Verdict expected = Verdict::kPass;
  std::vector<RepeatedRun> runs;

  int count(Verdict v) const;
  // Runs whose verdict was neither the expected one nor an error.
  int unexpected() const;
  int overloaded() const;
  // The figures of the runs that measured something (an errored run did
  // not; a run that never recovered has no recovery).
  std::vector<double> downtimes() const;
  std::vector<double> recoveries() const;
};

// Fixed-width table: per entry the runs, expected verdict, pass/fail/error
// counts, unexpected verdicts, downtime and recovery min/median/p95/max and
// the mean wall time per run; then one line per unexpected or errored run
// with its reason; then the totals.
std::string repeated_table(const std::vector<RepeatedEntry>& entries);
// flake.json: {"run_id", "entries": [{name, tier, expected, runs, pass,
// fail, error, unexpected, downtime_ms: {min, median, p95, max},
// recovery_ms: {...} | null, wall_ms: {...}, runs_detail: [...]}]}.
std::string repeated_json(const std::string& run_id, const std::vector<RepeatedEntry>& entries);
// Reads repeated_json's output back (so a long measurement can be resumed);
// kInvalidArgument naming the key that is missing or wrong.
StatusOr<std::vector<RepeatedEntry>> repeated_from_json(const std::string& text);

}  // namespace lmh::reports
