// The verdict rule of DESIGN.md, as a pure function of what a run measured
// and checked: pass when the migration ended well, connectivity came back
// within the scenario's limit, downtime is within its threshold, and no
// invariant broke.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/migration_status.h"
#include "reports/result.h"

namespace lmh::harness {

using reports::Verdict;

struct JudgeInput {
  core::MigrationStatus migration_status = core::MigrationStatus::kCompleted;  // final status of the record
  double downtime_ms = 0;
  std::optional<double> recovery_ms;
  std::optional<double> stale_forwarding_ms;
  bool recovered = false;  // a reply arrived after the resume
  double max_downtime_ms = 0;  // the scenario's expectation
  int recover_within_ms = 0;
  std::vector<reports::InvariantEntry> invariants;
  // How loaded the machine was: the prober's longest pause between probes,
  // and its interval.
  double max_send_gap_ms = 0;
  double interval_ms = 5;
};

struct Judgement {
  Verdict verdict = Verdict::kPass;
  std::vector<std::string> reasons;  // why not pass, in rule order
  // What the reader must know about the figures whatever the verdict
  // (the machine was overloaded while measuring).
  std::vector<std::string> notes;
  // The reasons, then the notes, joined with "; " ("" when it passed with
  // nothing to note).
  std::string reason() const;
};

// A pause between probes beyond this (or 4 intervals, whichever is longer)
// means the machine was overloaded. Idle runs here pause at most 12 ms.
inline constexpr double kOverloadedSendGapMs = 20;

// Whether a prober that paused 'max_send_gap_ms' at 'interval_ms' means
// the machine was overloaded while measuring.
inline bool overloaded(double max_send_gap_ms, double interval_ms) {
  return max_send_gap_ms > (kOverloadedSendGapMs > 4 * interval_ms ? kOverloadedSendGapMs : 4 * interval_ms);
}

Judgement judge(const JudgeInput& in);

}  // namespace lmh::harness
