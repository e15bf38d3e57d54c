// The verdict rule, on the numbers a run produced.
#include "harness/run/judge.h"

#include <gtest/gtest.h>

namespace lmh::harness {
namespace {

// A live migration that completed, recovered 40 ms after resume, with 35 ms
// of downtime, judged against 1000 ms / 5000 ms.
JudgeInput good_run() {
  JudgeInput in;
  in.migration_status = core::MigrationStatus::kCompleted;
  in.downtime_ms = 35;
  in.recovery_ms = 40;
  in.stale_forwarding_ms = 0;
  in.recovered = true;
  in.max_downtime_ms = 1000;
  in.recover_within_ms = 5000;
  in.invariants = {{"one_host", true, ""}};
  return in;
}

TEST(Judge, PassesAGoodRun) {
  Judgement j = judge(good_run());
  EXPECT_EQ(j.verdict, Verdict::kPass);
  EXPECT_EQ(j.reason(), "");
  EXPECT_STREQ(to_string(j.verdict), "pass");
}

TEST(Judge, ConfirmedAndRevertedMovesAreGoodEndsToo) {
  for (core::MigrationStatus status : {core::MigrationStatus::kConfirmed, core::MigrationStatus::kReverted}) {
    JudgeInput in = good_run();
    in.migration_status = status;
    EXPECT_EQ(judge(in).verdict, Verdict::kPass) << status;
  }
}

TEST(Judge, NamesEveryReasonInRuleOrder) {
  JudgeInput in = good_run();
  in.migration_status = core::MigrationStatus::kError;
  in.downtime_ms = 2696.04;
  in.recovery_ms = 6200;
  in.invariants.push_back({"vif_wired", false, "tap on brq0fe9c836-58"});
  Judgement j = judge(in);
  EXPECT_EQ(j.verdict, Verdict::kFail);
  EXPECT_EQ(j.reason(),
            "migration ended error; recovery 6200.0 ms > 5000 ms; downtime 2696.0 ms > 1000.0 ms; "
            "invariant vif_wired: tap on brq0fe9c836-58");
}

TEST(Judge, AMovedGuestThatNeverCameBackFails) {
  JudgeInput in = good_run();
  in.recovered = false;
  in.recovery_ms.reset();
  in.stale_forwarding_ms = 4000;  // it moved: the fabric kept sending to the source
  Judgement j = judge(in);
  EXPECT_EQ(j.verdict, Verdict::kFail);
  EXPECT_EQ(j.reason(), "connectivity not restored by the end of the scenario");
}

TEST(Judge, AGuestThatNeverMovedIsJudgedByDowntimeAlone) {
  // Refused or rolled back before the switchover: no resume, no recovery.
  JudgeInput in = good_run();
  in.migration_status = core::MigrationStatus::kCompleted;
  in.recovered = false;
  in.recovery_ms.reset();
  in.stale_forwarding_ms.reset();
  EXPECT_EQ(judge(in).verdict, Verdict::kPass);
  in.downtime_ms = 1000.5;
  EXPECT_EQ(judge(in).reason(), "downtime 1000.5 ms > 1000.0 ms");
}

TEST(Judge, LimitsAreInclusive) {
  JudgeInput in = good_run();
  in.downtime_ms = 1000;
  in.recovery_ms = 5000;
  EXPECT_EQ(judge(in).verdict, Verdict::kPass);
}

// The prober waiting to be scheduled marks the run's figures, whatever the
// verdict; it never changes the verdict.
TEST(Judge, AnOverloadedMachineIsNotedAfterTheReasons) {
  JudgeInput in = good_run();
  in.interval_ms = 5;
  in.max_send_gap_ms = 20;  // at the limit: not overloaded
  EXPECT_EQ(judge(in).reason(), "");
  in.max_send_gap_ms = 31.5;
  Judgement pass = judge(in);
  EXPECT_EQ(pass.verdict, Verdict::kPass);
  EXPECT_EQ(pass.reason(), "machine overloaded while measuring: the prober paused 31.5 ms between two probes "
                           "(5.0 ms expected); figures may be inflated");
  in.downtime_ms = 1500;
  Judgement fail = judge(in);
  EXPECT_EQ(fail.verdict, Verdict::kFail);
  EXPECT_EQ(fail.reason().rfind("downtime 1500.0 ms > 1000.0 ms; machine overloaded", 0), 0u) << fail.reason();
  // A slow prober (50 ms) is judged by its own interval.
  in.interval_ms = 50;
  in.max_send_gap_ms = 150;
  EXPECT_EQ(judge(in).reason(), "downtime 1500.0 ms > 1000.0 ms");
}

}  // namespace
}  // namespace lmh::harness
