// The live-migration job monitor against a scripted fake job under a
// simulated clock: nova's downtime schedule (values worked out by hand from
// nova's formula, not with the code under test), when each step is applied,
// the completion timeout's abort and force_complete, and the lmh limits on
// every wait.
#include "core/job_monitor.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/timeline.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using Steps = std::vector<std::pair<MonoClock::duration, int>>;

// Builds an expected schedule from (seconds, ms) literals.
Steps steps_of(std::initializer_list<std::pair<long long, int>> l) {
  Steps out;
  for (auto [s, ms] : l) out.emplace_back(std::chrono::seconds(s), ms);
  return out;
}

std::string print(const Steps& steps) {
  std::string out;
  for (const auto& [t, ms] : steps) {
    out += "(" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count()) +
           "ms," + std::to_string(ms) + ") ";
  }
  return out;
}

// ---- downtime_steps: nova's generator -----------------------------------

// Nova defaults (500 ms, 10 steps, 75 s/GiB): base = 500/10 = 50,
// offset = (500 - 50)/10 = 45, so step i is 50 + 45*i ms after 75*GiB*i s.
TEST(DowntimeStepsTest, NovaDefaultsOneGib) {
  Steps want = steps_of({{0, 50}, {75, 95}, {150, 140}, {225, 185}, {300, 230}, {375, 275},
                         {450, 320}, {525, 365}, {600, 410}, {675, 455}, {750, 500}});
  Steps got = downtime_steps(MigrationTuning{}, 1.0);
  EXPECT_EQ(got, want) << print(got);
}

TEST(DowntimeStepsTest, NovaDefaultsTwoGib) {
  Steps want = steps_of({{0, 50}, {150, 95}, {300, 140}, {450, 185}, {600, 230}, {750, 275},
                         {900, 320}, {1050, 365}, {1200, 410}, {1350, 455}, {1500, 500}});
  Steps got = downtime_steps(MigrationTuning{}, 2.0);
  EXPECT_EQ(got, want) << print(got);
}

TEST(DowntimeStepsTest, NovaDefaultsTenGib) {
  Steps want = steps_of({{0, 50}, {750, 95}, {1500, 140}, {2250, 185}, {3000, 230}, {3750, 275},
                         {4500, 320}, {5250, 365}, {6000, 410}, {6750, 455}, {7500, 500}});
  Steps got = downtime_steps(MigrationTuning{}, 10.0);
  EXPECT_EQ(got, want) << print(got);
}

// The example in nova's docstring: 400 ms, 10 steps, 30 s delay, 3 GB.
TEST(DowntimeStepsTest, NovaDocstringExample) {
  MigrationTuning t;
  t.downtime_ms = 400;
  t.downtime_delay_s = 30;
  Steps want = steps_of({{0, 40}, {90, 76}, {180, 112}, {270, 148}, {360, 184}, {450, 220},
                         {540, 256}, {630, 292}, {720, 328}, {810, 364}, {900, 400}});
  EXPECT_EQ(downtime_steps(t, 3.0), want);
}

// delay = int(75 * 2.5) = 187 is truncated before it is multiplied by i:
// step 2 is at 374 s, not 375.
TEST(DowntimeStepsTest, TruncatesDelayBeforeMultiplying) {
  Steps got = downtime_steps(MigrationTuning{}, 2.5);
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(got[1], std::make_pair(MonoClock::duration(187s), 95));
  EXPECT_EQ(got[2], std::make_pair(MonoClock::duration(374s), 140));
  EXPECT_EQ(got[10], std::make_pair(MonoClock::duration(1870s), 500));
}

// nova's minimums: 100 ms in 3 steps, 3 s/GiB, 2 GiB. base = 33.33,
// offset = 66.67/3 = 22.22: 33, 55.55 -> 55, 77.77 -> 77, 100; every 6 s.
TEST(DowntimeStepsTest, MinimumTuningTruncatesDowntimes) {
  MigrationTuning t;
  t.downtime_ms = 100;
  t.downtime_steps = 3;
  t.downtime_delay_s = 3;
  EXPECT_EQ(downtime_steps(t, 2.0), steps_of({{0, 33}, {6, 55}, {12, 77}, {18, 100}}));
}

// 333 ms, 7 steps, 3.3 GiB: delay = int(247.5 - float error) = 247;
// base = 47.571, offset = 40.776: 47, 88.35, 129.1, 169.9 -> 169, ...
TEST(DowntimeStepsTest, UnevenDivision) {
  MigrationTuning t;
  t.downtime_ms = 333;
  t.downtime_steps = 7;
  Steps want = steps_of({{0, 47}, {247, 88}, {494, 129}, {741, 169}, {988, 210}, {1235, 251},
                         {1482, 292}, {1729, 333}});
  EXPECT_EQ(downtime_steps(t, 3.3), want);
}

// ---- live_migration_data_gb ------------------------------------------------

TEST(DataGbTest, RamHasAFloorOfTwoGib) {
  EXPECT_DOUBLE_EQ(live_migration_data_gb(512), 2.0);
  EXPECT_DOUBLE_EQ(live_migration_data_gb(2048), 2.0);
  EXPECT_DOUBLE_EQ(live_migration_data_gb(3000), 3000.0 / 1024.0);
  EXPECT_DOUBLE_EQ(live_migration_data_gb(8192), 8.0);
}

TEST(DataGbTest, BlockMigrationAddsEachDiskWithItsOwnFloor) {
  const uint64_t gib = 1ull << 30;
  // 4 GiB RAM + a 1 GiB disk counted as 2 + a 10 GiB disk.
  EXPECT_DOUBLE_EQ(live_migration_data_gb(4096, {gib, 10 * gib}), 16.0);
  // RAM floor and disk floor apply separately: 2 + 2 + 2.
  EXPECT_DOUBLE_EQ(live_migration_data_gb(64, {1, 1}), 6.0);
  EXPECT_DOUBLE_EQ(live_migration_data_gb(4096, {3 * gib + gib / 2}), 7.5);
}

// ---- MigrationTuning::validate ---------------------------------------------

TEST(MigrationTuningTest, DefaultsAreNovas) {
  MigrationTuning t;
  EXPECT_EQ(t.downtime_ms, 500);
  EXPECT_EQ(t.downtime_steps, 10);
  EXPECT_EQ(t.downtime_delay_s, 75);
  EXPECT_EQ(t.completion_timeout_s_per_gib, 800);
  EXPECT_EQ(t.timeout_action, "abort");
  EXPECT_EQ(t.monitor_interval_s, 5);
  EXPECT_TRUE(t.validate().ok());
}

TEST(MigrationTuningTest, NovaMinimums) {
  auto with = [](auto set) {
    MigrationTuning t;
    set(t);
    return t.validate();
  };
  EXPECT_TRUE(with([](auto& t) { t.downtime_ms = 100; }).ok());
  Status s = with([](auto& t) { t.downtime_ms = 99; });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("live_migration_downtime "), std::string::npos) << s.message();

  EXPECT_TRUE(with([](auto& t) { t.downtime_steps = 3; }).ok());
  s = with([](auto& t) { t.downtime_steps = 2; });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("live_migration_downtime_steps"), std::string::npos) << s.message();

  EXPECT_TRUE(with([](auto& t) { t.downtime_delay_s = 3; }).ok());
  s = with([](auto& t) { t.downtime_delay_s = 2; });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("live_migration_downtime_delay"), std::string::npos) << s.message();

  EXPECT_TRUE(with([](auto& t) { t.completion_timeout_s_per_gib = 0; }).ok());
  s = with([](auto& t) { t.completion_timeout_s_per_gib = -1; });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("live_migration_completion_timeout"), std::string::npos);

  EXPECT_TRUE(with([](auto& t) { t.timeout_action = "force_complete"; }).ok());
  s = with([](auto& t) { t.timeout_action = "pause"; });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'pause'"), std::string::npos) << s.message();

  EXPECT_EQ(with([](auto& t) { t.monitor_interval_s = 0; }).code(), StatusCode::kInvalidArgument);
}

// ---- JobMonitor ------------------------------------------------------------

// A migration job scripted in time: kNone until 'running_at', kUnbounded
// (with 'running_info' stats) until 'ends_at', then 'end_type'. Records
// every control call with its time.
class FakeJob : public JobControl {
 public:
  explicit FakeJob(EventLoop& loop) : loop_(loop) {}

  // Script.
  std::optional<MonoTime> running_at;  // unset: running from the start
  std::optional<MonoTime> ends_at;     // unset: runs forever
  JobInfo::Type end_type = JobInfo::kCompleted;
  JobInfo running_info;
  bool cancel_on_abort = true;  // abort() makes the next query report kCancelled
  Status abort_result;
  Status downtime_result;
  // force_complete() makes the job complete this long after the call.
  std::optional<MonoClock::duration> force_completes_after;
  std::optional<MonoTime> info_error_at;
  Status info_error = unavailable("libvirt connection lost");

  // Records.
  int info_calls = 0;
  std::vector<std::pair<MonoTime, int>> downtimes;
  std::vector<MonoTime> aborts;
  std::vector<MonoTime> forces;

  StatusOr<JobInfo> job_info() override {
    ++info_calls;
    MonoTime now = loop_.now();
    if (info_error_at && now >= *info_error_at) return info_error;
    JobInfo info = running_info;
    if (cancelled_) {
      info.type = JobInfo::kCancelled;
    } else if (ends_at && now >= *ends_at) {
      info.type = end_type;
    } else if (running_at && now < *running_at) {
      info.type = JobInfo::kNone;
    } else {
      info.type = JobInfo::kUnbounded;
    }
    return info;
  }
  Status set_max_downtime(int ms) override {
    downtimes.emplace_back(loop_.now(), ms);
    return downtime_result;
  }
  Status abort() override {
    aborts.push_back(loop_.now());
    if (abort_result.ok() && cancel_on_abort) cancelled_ = true;
    return abort_result;
  }
  Status force_complete() override {
    forces.push_back(loop_.now());
    if (force_completes_after) {
      ends_at = loop_.now() + *force_completes_after;
      end_type = JobInfo::kCompleted;
    }
    return ok_status();
  }

 private:
  EventLoop& loop_;
  bool cancelled_ = false;
};

class JobMonitorTest : public ::testing::Test {
 protected:
  // Seconds (fractional allowed) after the monitor's start.
  MonoTime at(double seconds) const {
    return t0 + std::chrono::duration_cast<MonoClock::duration>(
                    std::chrono::duration<double>(seconds));
  }

  // Creates and starts the monitor at t0.
  void start(MigrationTuning tuning, double data_gb, MonoClock::duration poll = 500ms) {
    monitor = std::make_unique<JobMonitor>(loop, timeline, job, tuning, data_gb, poll, options);
    ASSERT_TRUE(monitor->start([this](Status s) {
      ASSERT_FALSE(result.has_value()) << "on_finished called twice";
      result = s;
      finished_at = loop.now();
    }).ok());
  }

  // Runs the loop until the monitor finishes or 'limit' seconds pass.
  void run(double limit_s) {
    (void)loop.run_until([&] { return result.has_value(); }, at(limit_s));
  }

  std::vector<std::pair<MonoTime, int>> expected_downtimes(
      std::initializer_list<std::pair<double, int>> l) const {
    std::vector<std::pair<MonoTime, int>> out;
    for (auto [s, ms] : l) out.emplace_back(at(s), ms);
    return out;
  }

  static MigrationTuning tuning_with(int timeout_per_gib, std::string action = "abort") {
    MigrationTuning t;
    t.completion_timeout_s_per_gib = timeout_per_gib;
    t.timeout_action = std::move(action);
    return t;
  }

  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  FakeJob job{loop};
  JobMonitorOptions options;
  MonoTime t0 = clock.now();
  std::unique_ptr<JobMonitor> monitor;
  std::optional<Status> result;
  MonoTime finished_at{};
};

// Each step is applied at the first poll whose elapsed time is strictly past
// the step's offset (nova: elapsed > step[0]); polls are every 0.5 s, so
// step 0 lands at 0.5 s and step i at 75*i + 0.5 s for 1 GiB.
TEST_F(JobMonitorTest, AppliesEachStepAtTheFirstPollPastItsTime) {
  job.ends_at = at(760);
  start(MigrationTuning{}, 1.0);
  run(2000);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->to_string();
  EXPECT_EQ(finished_at, at(760));
  EXPECT_EQ(job.downtimes,
            expected_downtimes({{0.5, 50}, {75.5, 95}, {150.5, 140}, {225.5, 185}, {300.5, 230},
                                {375.5, 275}, {450.5, 320}, {525.5, 365}, {600.5, 410},
                                {675.5, 455}, {750.5, 500}}));
  EXPECT_TRUE(job.aborts.empty());
  EXPECT_TRUE(job.forces.empty());
  EXPECT_EQ(monitor->current_downtime_ms(), 500);

  auto entries = timeline.all("nova.compute", "max downtime ");
  ASSERT_EQ(entries.size(), 11u);
  EXPECT_EQ(entries[1].event, "max downtime 95 ms");
  EXPECT_EQ(entries[1].t, at(75.5));
  EXPECT_EQ(entries[10].event, "max downtime 500 ms");
  EXPECT_TRUE(timeline.first("nova.compute", "job completed").has_value());
}

TEST_F(JobMonitorTest, StepTimesScaleWithDataForTwoGib) {
  job.ends_at = at(1400);
  start(MigrationTuning{}, 2.0);
  run(2000);
  ASSERT_TRUE(result.has_value() && result->ok());
  EXPECT_EQ(job.downtimes,
            expected_downtimes({{0.5, 50}, {150.5, 95}, {300.5, 140}, {450.5, 185}, {600.5, 230},
                                {750.5, 275}, {900.5, 320}, {1050.5, 365}, {1200.5, 410},
                                {1350.5, 455}}));
}

TEST_F(JobMonitorTest, TenGibReachesFullDowntimeAfter7500s) {
  job.ends_at = at(7600);
  start(MigrationTuning{}, 10.0);
  run(9000);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->to_string();  // timeout 8000 s not reached
  ASSERT_EQ(job.downtimes.size(), 11u);
  EXPECT_EQ(job.downtimes[1], std::make_pair(at(750.5), 95));
  EXPECT_EQ(job.downtimes[5], std::make_pair(at(3750.5), 275));
  EXPECT_EQ(job.downtimes[10], std::make_pair(at(7500.5), 500));
}

// Elapsed is counted from the monitor's start, like nova's time.time() -
// start: a job first seen running at 100 s gets the 75 s step at once.
TEST_F(JobMonitorTest, ElapsedCountsFromMonitorStartNotJobStart) {
  options.start_timeout = 120s;  // lmh's default (60 s) would abort first
  job.running_at = at(100);
  job.ends_at = at(160);
  start(MigrationTuning{}, 1.0);
  run(1000);
  ASSERT_TRUE(result.has_value() && result->ok());
  EXPECT_EQ(job.downtimes, expected_downtimes({{100, 95}, {150.5, 140}}));
}

// nova's update_downtime picks the latest step passed, skipping any in
// between: with polls every 100 s, 50 ms is never set.
TEST_F(JobMonitorTest, SparsePollsJumpToTheLatestStep) {
  job.ends_at = at(850);
  start(tuning_with(0), 1.0, 100s);
  run(2000);
  ASSERT_TRUE(result.has_value() && result->ok());
  EXPECT_EQ(job.downtimes, expected_downtimes({{100, 95}, {200, 140}, {300, 185}, {400, 275},
                                               {500, 320}, {600, 365}, {700, 455}, {800, 500}}));
}

// nova logs a failed migrateSetMaxDowntime and moves on without retrying.
TEST_F(JobMonitorTest, FailedDowntimeIsRecordedAndNotRetried) {
  job.downtime_result = unavailable("qemu busy");
  job.ends_at = at(200);
  start(MigrationTuning{}, 1.0);
  run(1000);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->to_string();
  EXPECT_EQ(job.downtimes, expected_downtimes({{0.5, 50}, {75.5, 95}, {150.5, 140}}));
  auto failed = timeline.first("nova.compute", "failed to set max downtime 50 ms");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->t, at(0.5));
  EXPECT_FALSE(timeline.first("nova.compute", "max downtime 50 ms").has_value());
}

// 2 GiB: timeout int(800 * 2) = 1600 s; abort at the first poll past it,
// finish when the job reports cancelled at the next poll.
TEST_F(JobMonitorTest, CompletionTimeoutAborts) {
  start(MigrationTuning{}, 2.0);
  EXPECT_EQ(monitor->completion_timeout_s(), 1600);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result->message(), "live migration not completed after 1600 s");
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(1600.5)});
  EXPECT_TRUE(job.forces.empty());
  EXPECT_EQ(finished_at, at(1601));
  EXPECT_EQ(job.downtimes.back(), std::make_pair(at(1500.5), 500));
  auto e = timeline.first("nova.compute", "live migration not completed after 1600 s: abort");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->t, at(1600.5));
  EXPECT_TRUE(timeline.first("nova.compute", "job cancelled").has_value());
  EXPECT_FALSE(monitor->running());
  EXPECT_EQ(loop.pending(), 0u);
}

// int() truncates the timeout: 2 GiB + 1 MiB of RAM gives 1600.78 s -> 1600.
TEST_F(JobMonitorTest, CompletionTimeoutIsTruncatedToWholeSeconds) {
  double gb = live_migration_data_gb(2049);
  start(MigrationTuning{}, gb);
  EXPECT_EQ(monitor->completion_timeout_s(), 1600);
  run(5000);
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(1600.5)});
}

TEST_F(JobMonitorTest, ForceCompleteOnTimeout) {
  job.force_completes_after = 3s;
  start(tuning_with(800, "force_complete"), 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->to_string();
  EXPECT_EQ(job.forces, std::vector<MonoTime>{at(1600.5)});
  EXPECT_TRUE(job.aborts.empty());
  EXPECT_EQ(finished_at, at(1603.5));
  EXPECT_TRUE(
      timeline.first("nova.compute", "live migration not completed after 1600 s: force_complete")
          .has_value());
}

// A force_complete that does not finish within the grace is aborted.
TEST_F(JobMonitorTest, ForceCompleteThatHangsIsAborted) {
  options.action_grace = 60s;
  start(tuning_with(800, "force_complete"), 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(result->message().find("force_complete did not finish within 60 s"), std::string::npos)
      << result->message();
  EXPECT_EQ(job.forces, std::vector<MonoTime>{at(1600.5)});
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(1661)});  // 60.5 s > 60 s grace
  EXPECT_EQ(finished_at, at(1661.5));
}

TEST_F(JobMonitorTest, AbortThatIsNeverConfirmedIsBounded) {
  options.action_grace = 30s;
  job.cancel_on_abort = false;
  start(MigrationTuning{}, 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result->message(),
            "live migration not completed after 1600 s; abort not confirmed within 30 s");
  EXPECT_EQ(job.aborts.size(), 1u);
  EXPECT_EQ(finished_at, at(1631));
}

// nova re-raises a failed abort_job: the monitor ends with that error.
TEST_F(JobMonitorTest, FailedAbortEndsTheMonitorWithItsError) {
  job.abort_result = unavailable("libvirt: operation not supported");
  start(MigrationTuning{}, 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kUnavailable);
  EXPECT_NE(result->message().find("not completed after 1600 s"), std::string::npos);
  EXPECT_EQ(finished_at, at(1600.5));
}

// A job that completes right after the abort was requested is a success,
// as nova then runs post_live_migration.
TEST_F(JobMonitorTest, CompletionAfterAbortIsStillSuccess) {
  job.cancel_on_abort = false;
  job.ends_at = at(1605);
  start(MigrationTuning{}, 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->to_string();
  EXPECT_EQ(job.aborts.size(), 1u);
}

TEST_F(JobMonitorTest, JobFailurePropagates) {
  job.ends_at = at(30);
  job.end_type = JobInfo::kFailed;
  start(MigrationTuning{}, 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kAborted);
  EXPECT_EQ(result->message(), "live migration job failed");
  EXPECT_EQ(finished_at, at(30));
  EXPECT_TRUE(job.aborts.empty());
  EXPECT_TRUE(timeline.first("nova.compute", "job failed").has_value());
}

TEST_F(JobMonitorTest, OperatorCancelPropagatesAsCancelled) {
  job.ends_at = at(42);
  job.end_type = JobInfo::kCancelled;
  start(MigrationTuning{}, 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kCancelled);
  EXPECT_EQ(finished_at, at(42));
}

// nova: an error querying the job ends the monitor, after trying to abort.
TEST_F(JobMonitorTest, JobInfoErrorAbortsAndPropagates) {
  job.info_error_at = at(10);
  start(MigrationTuning{}, 2.0);
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kUnavailable);
  EXPECT_NE(result->message().find("libvirt connection lost"), std::string::npos);
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(10)});
  EXPECT_EQ(finished_at, at(10));
}

TEST_F(JobMonitorTest, DisabledTimeoutNeverActs) {
  job.ends_at = at(3500);  // far past 800 * 2, before lmh's 1 h limit
  start(tuning_with(0), 2.0);
  EXPECT_EQ(monitor->completion_timeout_s(), 0);
  run(10000);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->to_string();
  EXPECT_EQ(finished_at, at(3500));
  EXPECT_TRUE(job.aborts.empty());
  EXPECT_TRUE(job.forces.empty());
  EXPECT_FALSE(timeline.first("nova.compute", "live migration not completed").has_value());
}

// Where nova would wait forever, lmh's limit aborts.
TEST_F(JobMonitorTest, DisabledTimeoutStillHasLmhLimit) {
  options.disabled_timeout_limit = 3000s;
  start(tuning_with(0), 2.0);
  run(10000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(result->message().find("lmh limit"), std::string::npos) << result->message();
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(3000.5)});
}

TEST_F(JobMonitorTest, JobThatNeverStartsIsAborted) {
  options.start_timeout = 60s;
  job.running_at = at(1e6);
  start(MigrationTuning{}, 2.0);
  run(1000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(result->message().find("did not start within 60 s"), std::string::npos);
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(60.5)});
  EXPECT_EQ(finished_at, at(61));
  EXPECT_TRUE(job.downtimes.empty());
}

// A job that stops reporting after it ran is still held to the timeout.
TEST_F(JobMonitorTest, JobGoingQuietAfterRunningIsStillBounded) {
  start(MigrationTuning{}, 2.0);
  run(100);
  ASSERT_FALSE(result.has_value());
  job.running_at = at(1e6);  // reports kNone from now on
  run(5000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(job.aborts, std::vector<MonoTime>{at(1600.5)});
}

TEST_F(JobMonitorTest, StopCancelsPolling) {
  start(MigrationTuning{}, 2.0);
  ASSERT_TRUE(loop.run_for(10s).ok());
  int calls = job.info_calls;
  EXPECT_EQ(calls, 21);  // 0, 0.5, ..., 10.0
  EXPECT_EQ(loop.pending(), 1u);
  monitor->stop();
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_FALSE(monitor->running());
  ASSERT_TRUE(loop.run_for(3000s).ok());
  EXPECT_EQ(job.info_calls, calls);
  EXPECT_FALSE(result.has_value());
  EXPECT_TRUE(job.aborts.empty());
  monitor->stop();  // idempotent
}

TEST_F(JobMonitorTest, StartRejectsInvalidTuningAndSecondStart) {
  MigrationTuning bad;
  bad.downtime_steps = 2;
  JobMonitor m(loop, timeline, job, bad, 2.0);
  EXPECT_EQ(m.start([](Status) {}).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(m.running());
  EXPECT_EQ(loop.pending(), 0u);

  JobMonitor good(loop, timeline, job, MigrationTuning{}, 2.0);
  ASSERT_TRUE(good.start([](Status) {}).ok());
  EXPECT_EQ(good.start([](Status) {}).code(), StatusCode::kFailedPrecondition);
}

// Stats on nova's cadence: the first running poll, then every
// int(5 s / 0.5 s) = 10 polls. progress = 100 - round(5 * 100 / 200):
// Python rounds 2.5 to 2, so 98.
TEST_F(JobMonitorTest, SavesStatsOnNovaCadenceWithPythonRounding) {
  job.running_info.memory_total = 200;
  job.running_info.memory_remaining = 5;
  start(MigrationTuning{}, 2.0);
  ASSERT_TRUE(loop.run_for(4900ms).ok());
  ASSERT_TRUE(monitor->saved_stats().has_value());
  EXPECT_EQ(monitor->saved_stats()->t, at(0));
  EXPECT_EQ(monitor->saved_stats()->progress, 98);
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_EQ(monitor->saved_stats()->t, at(5));

  job.running_info.memory_remaining = 7;  // 3.5 -> 4 (ties to even)
  ASSERT_TRUE(loop.run_for(5s).ok());
  EXPECT_EQ(monitor->saved_stats()->progress, 96);
}

TEST_F(JobMonitorTest, MayBeDestroyedFromOnFinished) {
  job.ends_at = at(3);
  monitor = std::make_unique<JobMonitor>(loop, timeline, job, MigrationTuning{}, 2.0);
  bool called = false;
  ASSERT_TRUE(monitor->start([&](Status s) {
    called = true;
    monitor.reset();
  }).ok());
  ASSERT_TRUE(loop.run_for(10s).ok());
  EXPECT_TRUE(called);
  EXPECT_EQ(monitor, nullptr);
}

}  // namespace
}  // namespace lmh::core
