#include "core/job_monitor.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>

namespace lmh::core {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

// Whole seconds of 'd', truncated (for messages).
long long whole_seconds(MonoClock::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

Status MigrationTuning::validate() const {
  if (downtime_ms < 100) {
    return invalid_argument("live_migration_downtime " + std::to_string(downtime_ms) +
                            " ms is below the minimum of 100 ms");
  }
  if (downtime_steps < 3) {
    return invalid_argument("live_migration_downtime_steps " + std::to_string(downtime_steps) +
                            " is below the minimum of 3");
  }
  if (downtime_delay_s < 3) {
    return invalid_argument("live_migration_downtime_delay " + std::to_string(downtime_delay_s) +
                            " s is below the minimum of 3 s");
  }
  if (completion_timeout_s_per_gib < 0) {
    return invalid_argument("live_migration_completion_timeout " +
                            std::to_string(completion_timeout_s_per_gib) +
                            " s is below the minimum of 0 (0 disables it)");
  }
  if (timeout_action != "abort" && timeout_action != "force_complete") {
    return invalid_argument("live_migration_timeout_action '" + timeout_action +
                            "' is not one of abort, force_complete");
  }
  if (monitor_interval_s < 1) {
    return invalid_argument("live_migration_monitor_interval " +
                            std::to_string(monitor_interval_s) + " s is below the minimum of 1 s");
  }
  return ok_status();
}

std::vector<std::pair<MonoClock::duration, int>> downtime_steps(const MigrationTuning& tuning,
                                                                double data_gb) {
  // Same operations, in the same order and precision, as nova's generator:
  //   delay = int(delay * data_gb); base = downtime / steps;
  //   offset = (downtime - base) / steps;
  //   yield (int(delay * i), int(base + offset * i)) for i in 0..steps
  const long long delay = static_cast<long long>(tuning.downtime_delay_s * data_gb);
  const double base = static_cast<double>(tuning.downtime_ms) / tuning.downtime_steps;
  const double offset = (tuning.downtime_ms - base) / tuning.downtime_steps;
  std::vector<std::pair<MonoClock::duration, int>> out;
  out.reserve(static_cast<size_t>(std::max(0, tuning.downtime_steps + 1)));
  for (int i = 0; i <= tuning.downtime_steps; ++i) {
    // Rounded product first, as Python does: the volatile keeps the compiler
    // from fusing the multiply-add (GNU mode allows it on FMA targets).
    volatile double scaled = offset * i;
    out.emplace_back(std::chrono::seconds(delay * i), static_cast<int>(base + scaled));
  }
  return out;
}

double live_migration_data_gb(uint64_t memory_mb, const std::vector<uint64_t>& disk_bytes) {
  double ram_gb = static_cast<double>(memory_mb) * kMiB / kGiB;
  if (ram_gb < 2) ram_gb = 2;
  double disk_gb = 0;
  for (uint64_t size : disk_bytes) {
    double size_gb = static_cast<double>(size) / kGiB;
    if (size_gb < 2) size_gb = 2;
    disk_gb += size_gb;
  }
  return ram_gb + disk_gb;
}

JobMonitor::JobMonitor(EventLoop& loop, Timeline& timeline, JobControl& control,
                       MigrationTuning tuning, double data_gb, MonoClock::duration poll_interval,
                       JobMonitorOptions options)
    : loop_(loop),
      timeline_(timeline),
      control_(control),
      tuning_(std::move(tuning)),
      data_gb_(data_gb),
      poll_interval_(poll_interval),
      options_(std::move(options)),
      steps_(downtime_steps(tuning_, data_gb_)) {
  assert(poll_interval_ > MonoClock::duration::zero());
}

JobMonitor::~JobMonitor() { stop(); }

int JobMonitor::completion_timeout_s() const {
  // nova: int(CONF.libvirt.live_migration_completion_timeout * data_gb)
  return static_cast<int>(tuning_.completion_timeout_s_per_gib * data_gb_);
}

Status JobMonitor::start(std::function<void(Status)> on_finished) {
  LMH_RETURN_IF_ERROR(tuning_.validate());
  if (running_ || on_finished_) return failed_precondition("job monitor already started");
  on_finished_ = std::move(on_finished);
  running_ = true;
  started_ = loop_.now();
  char gb[32];
  std::snprintf(gb, sizeof gb, "%.2f", data_gb_);
  timeline_.record(options_.source,
                   "job monitor started: data " + std::string(gb) + " GiB, completion timeout " +
                       std::to_string(completion_timeout_s()) + " s, action " +
                       tuning_.timeout_action + ", " + std::to_string(steps_.size()) +
                       " downtime steps");
  timer_ = loop_.post([this] { poll(); });
  return ok_status();
}

void JobMonitor::stop() {
  if (!running_) return;
  running_ = false;
  loop_.cancel(timer_);
}

void JobMonitor::poll() {
  if (!running_) return;
  const MonoClock::duration elapsed = loop_.now() - started_;

  StatusOr<JobInfo> got = control_.job_info();
  if (!got.ok()) {
    // nova: the exception ends the monitor; _live_migration then tries to
    // abort the job (ignoring errors) and re-raises.
    timeline_.record(options_.source, "job info failed: " + got.status().to_string() +
                                          "; abort (best effort)");
    if (action_ != Action::kAborting) {
      Status s = control_.abort();
      if (!s.ok()) timeline_.record(options_.source, "abort failed: " + s.to_string());
    }
    finish(got.status().with_context("live migration job info"));
    return;
  }
  const JobInfo& info = *got;

  switch (info.type) {
    case JobInfo::kCompleted:
      timeline_.record(options_.source, "job completed");
      finish(ok_status());
      return;
    case JobInfo::kFailed:
      timeline_.record(options_.source, "job failed");
      finish(action_ == Action::kAborting
                 ? action_reason_
                 : Status(StatusCode::kAborted, "live migration job failed"));
      return;
    case JobInfo::kCancelled:
      timeline_.record(options_.source, "job cancelled");
      finish(action_ == Action::kAborting ? action_reason_
                                          : cancelled("live migration job cancelled"));
      return;
    case JobInfo::kNone:
      if (seen_running_) {
        // nova checks its timeout only while libvirt reports the job; a job
        // that goes quiet after running must still be bounded here.
        if (!on_running(info, elapsed, /*unbounded=*/false)) return;
      } else if (action_ == Action::kNone && elapsed > options_.start_timeout) {
        if (!begin_abort(deadline_exceeded("live migration job did not start within " +
                                           std::to_string(whole_seconds(options_.start_timeout)) +
                                           " s (lmh limit)"),
                         "job did not start within " +
                             std::to_string(whole_seconds(options_.start_timeout)) +
                             " s (lmh limit)")) {
          return;
        }
      }
      break;
    case JobInfo::kUnbounded:
      if (!seen_running_) {
        seen_running_ = true;
        timeline_.record(options_.source, "job running");
      }
      if (!on_running(info, elapsed, /*unbounded=*/true)) return;
      break;
  }

  // Every wait after a timeout action is bounded.
  if (action_ != Action::kNone && loop_.now() - action_at_ > options_.action_grace) {
    const std::string grace = std::to_string(whole_seconds(options_.action_grace)) + " s";
    if (action_ == Action::kForcing) {
      if (!begin_abort(deadline_exceeded("live migration not completed after " +
                                         std::to_string(completion_timeout_s()) +
                                         " s; force_complete did not finish within " + grace),
                       "force_complete did not finish within " + grace)) {
        return;
      }
    } else {
      timeline_.record(options_.source, "abort not confirmed within " + grace + " (lmh limit)");
      finish(Status(action_reason_.code(),
                    action_reason_.message() + "; abort not confirmed within " + grace));
      return;
    }
  }
  timer_ = loop_.post_after(poll_interval_, [this] { poll(); });
}

bool JobMonitor::on_running(const JobInfo& info, MonoClock::duration elapsed, bool unbounded) {
  // nova: should_trigger_timeout_action, then the configured action. nova
  // repeats the action at every poll; lmh acts once and bounds the wait.
  if (action_ == Action::kNone) {
    const int timeout_s = completion_timeout_s();
    if (timeout_s > 0 && elapsed > std::chrono::seconds(timeout_s)) {
      const std::string what =
          "live migration not completed after " + std::to_string(timeout_s) + " s";
      if (tuning_.timeout_action == "force_complete") {
        timeline_.record(options_.source, what + ": force_complete");
        action_ = Action::kForcing;
        action_at_ = loop_.now();
        Status s = control_.force_complete();
        // nova only logs a failed pause or post-copy switch.
        if (!s.ok()) timeline_.record(options_.source, "force_complete failed: " + s.to_string());
      } else if (!begin_abort(deadline_exceeded(what), what)) {
        return false;
      }
    } else if (timeout_s == 0 && elapsed > options_.disabled_timeout_limit) {
      const std::string limit = std::to_string(whole_seconds(options_.disabled_timeout_limit));
      const std::string what = "live migration not completed after " + limit +
                               " s (completion timeout disabled; lmh limit)";
      if (!begin_abort(deadline_exceeded(what), what)) return false;
    }
  }
  if (!unbounded) return true;

  update_downtime(elapsed);

  // nova saves stats every int(live_migration_monitor_interval / 0.5) polls
  // of a running job, counting from the first.
  const auto interval = std::chrono::seconds(tuning_.monitor_interval_s);
  const uint64_t divisor = std::max<uint64_t>(1, static_cast<uint64_t>(interval / poll_interval_));
  if (running_polls_ % divisor == 0) {
    int remaining = 100;
    if (info.memory_total != 0) {
      // Python's round(): ties to even, as nearbyint in the default mode.
      remaining = static_cast<int>(std::nearbyint(static_cast<double>(info.memory_remaining) *
                                                  100.0 / static_cast<double>(info.memory_total)));
    }
    stats_ = SavedJobStats{loop_.now(), info, 100 - remaining};
  }
  ++running_polls_;
  return true;
}

void JobMonitor::update_downtime(MonoClock::duration elapsed) {
  // nova's update_downtime: the last step whose time is strictly exceeded.
  const std::pair<MonoClock::duration, int>* step = nullptr;
  for (const auto& s : steps_) {
    if (elapsed > s.first) step = &s;
  }
  if (step == nullptr || (downtime_ms_ && *downtime_ms_ == step->second)) return;
  const std::string ms = std::to_string(step->second) + " ms";
  Status s = control_.set_max_downtime(step->second);
  if (s.ok()) {
    timeline_.record(options_.source, "max downtime " + ms);
  } else {
    timeline_.record(options_.source, "failed to set max downtime " + ms + ": " + s.to_string());
  }
  // Like nova, remember the step even when setting it failed: not retried.
  downtime_ms_ = step->second;
}

bool JobMonitor::begin_abort(Status reason, const std::string& why) {
  timeline_.record(options_.source, why + ": abort");
  action_ = Action::kAborting;
  action_at_ = loop_.now();
  action_reason_ = std::move(reason);
  Status s = control_.abort();
  if (!s.ok()) {
    // nova re-raises a failed abort_job: the monitor ends with the error.
    timeline_.record(options_.source, "abort failed: " + s.to_string());
    finish(s.with_context(action_reason_.message() + "; abort failed"));
    return false;
  }
  return true;
}

void JobMonitor::finish(Status s) {
  running_ = false;
  timeline_.record(options_.source, "job monitor finished: " + s.to_string());
  auto done = std::move(on_finished_);
  on_finished_ = [](Status) {};  // keeps start() refusing a second run
  if (done) done(std::move(s));
}

}  // namespace lmh::core
