#include "harness/run/judge.h"

#include <algorithm>
#include <cstdio>

namespace lmh::harness {

namespace {

std::string fmt_ms(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

}  // namespace

std::string Judgement::reason() const {
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  for (const auto& n : notes) out += (out.empty() ? "" : "; ") + n;
  return out;
}

Judgement judge(const JudgeInput& in) {
  Judgement j;
  auto& why = j.reasons;
  using core::MigrationStatus;
  const MigrationStatus st = in.migration_status;
  if (st != MigrationStatus::kCompleted && st != MigrationStatus::kConfirmed && st != MigrationStatus::kReverted)
    why.push_back(std::string("migration ended ") + core::migration_status_name(st));
  // A guest that never moved (refused, rolled back, aborted) has nothing to
  // recover from: the downtime threshold alone judges its connectivity.
  const bool moved = in.recovery_ms.has_value() || in.stale_forwarding_ms.has_value();
  if (moved && !in.recovered) why.push_back("connectivity not restored by the end of the scenario");
  else if (in.recovery_ms && *in.recovery_ms > in.recover_within_ms)
    why.push_back("recovery " + fmt_ms(*in.recovery_ms) + " ms > " + std::to_string(in.recover_within_ms) + " ms");
  if (in.downtime_ms > in.max_downtime_ms)
    why.push_back("downtime " + fmt_ms(in.downtime_ms) + " ms > " + fmt_ms(in.max_downtime_ms) + " ms");
  for (const auto& v : in.invariants)
    if (!v.ok) why.push_back("invariant " + v.name + ": " + v.detail);
  j.verdict = why.empty() ? Verdict::kPass : Verdict::kFail;
  // The lab's daemons, agents and emulated switchover run on this machine's
  // CPUs: when the prober itself waited this long to be scheduled, they
  // waited too and every figure may be inflated (README, "Flake rate").
  if (overloaded(in.max_send_gap_ms, in.interval_ms))
    j.notes.push_back("machine overloaded while measuring: the prober paused " + fmt_ms(in.max_send_gap_ms) +
                      " ms between two probes (" + fmt_ms(in.interval_ms) + " ms expected); figures may be inflated");
  return j;
}

}  // namespace lmh::harness
