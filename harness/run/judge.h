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
};

struct Judgement {
  Verdict verdict = Verdict::kPass;
  std::vector<std::string> reasons;  // why not pass, in rule order
  // The reasons joined with "; " ("" when it passed).
  std::string reason() const;
};

Judgement judge(const JudgeInput& in);

}  // namespace lmh::harness
