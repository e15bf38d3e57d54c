// The source compute's live-migration job monitor, after nova's libvirt
// driver (_live_migration_monitor in nova/virt/libvirt/driver.py and the
// helpers in nova/virt/libvirt/migration.py): poll the hypervisor's job every
// half second; while it runs, raise the allowed switchover downtime in steps
// and, once the completion timeout has passed, abort the job or force it to
// complete; finish when the job completes, fails or is cancelled.
//
// Where nova waits without limit (a job that never starts, an abort libvirt
// never confirms, a disabled completion timeout) lmh bounds the wait with
// JobMonitorOptions; those limits are lmh's and are named as such in the
// timeline and in the Status the monitor finishes with.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "core/event_loop.h"
#include "core/timeline.h"

namespace lmh::core {

// Nova's [libvirt] live_migration_* options that drive the monitor, with
// nova's defaults.
struct MigrationTuning {
  // live_migration_downtime: the max downtime reached by the last step (ms).
  int downtime_ms = 500;
  // live_migration_downtime_steps: increments to reach 'downtime_ms'.
  int downtime_steps = 10;
  // live_migration_downtime_delay: seconds between steps, per GiB of data.
  int downtime_delay_s = 75;
  // live_migration_completion_timeout: seconds per GiB of data before the
  // timeout action; 0 disables it.
  int completion_timeout_s_per_gib = 800;
  // live_migration_timeout_action: "abort" or "force_complete".
  std::string timeout_action = "abort";
  // live_migration_monitor_interval: seconds between saved job stats.
  int monitor_interval_s = 5;

  bool operator==(const MigrationTuning&) const = default;

  // Checks nova's bounds: downtime_ms >= 100, downtime_steps >= 3,
  // downtime_delay_s >= 3, completion_timeout_s_per_gib >= 0,
  // timeout_action in {abort, force_complete}; and monitor_interval_s >= 1
  // (nova sets no minimum but divides by it). Returns kInvalidArgument naming
  // the option and the bound, or ok.
  Status validate() const;
};

// Nova's migration.downtime_steps(): 'tuning.downtime_steps' + 1 steps,
// step i at int(int(downtime_delay_s * 'data_gb') * i) seconds with
// int(base + offset * i) ms, where base = downtime_ms / steps and
// offset = (downtime_ms - base) / steps (real division, truncated results).
// 'data_gb' is used as given (nova's floor of 2 GiB is applied by
// live_migration_data_gb). Returns (time offset, max downtime ms) pairs in
// increasing order of time.
std::vector<std::pair<MonoClock::duration, int>> downtime_steps(const MigrationTuning& tuning,
                                                                double data_gb);

// Nova's LibvirtDriver._live_migration_data_gb(): the guest RAM
// ('memory_mb' / 1024, at least 2) plus, for a block migration, each copied
// disk's size in GiB ('disk_bytes', each at least 2). Pass no disks for a
// migration on shared storage. Returns GiB as a real number.
double live_migration_data_gb(uint64_t memory_mb, const std::vector<uint64_t>& disk_bytes = {});

// A snapshot of the hypervisor's migration job (libvirt virDomainGetJobStats
// as nova's guest.JobInfo carries it).
struct JobInfo {
  enum Type {
    kNone,       // no job: not started yet (or ended; see JobControl)
    kUnbounded,  // migrating
    kCompleted,  // done: the guest runs on the destination
    kFailed,     // the job failed; the guest still runs on the source
    kCancelled,  // the job was aborted (by us or an operator)
  };
  Type type = kNone;
  uint64_t memory_total = 0;      // bytes of guest RAM to transfer
  uint64_t memory_processed = 0;  // bytes sent so far (can exceed total: dirtied pages)
  uint64_t memory_remaining = 0;  // bytes still to send
  uint64_t disk_total = 0;        // same for copied disks (block migration)
  uint64_t disk_processed = 0;
  uint64_t disk_remaining = 0;
  MonoClock::duration elapsed{};  // the hypervisor's own job age (informational)
};

// What the monitor drives: one migration job of one guest on the source
// host. Implementations: the emulated and libvirt hypervisors; a fake in
// unit tests.
class JobControl {
 public:
  virtual ~JobControl() = default;
  // Returns the job's state. Like nova's Guest.get_job_info() plus
  // find_job_type(), an implementation resolves "no job" after the
  // migration call has returned into kCompleted (guest gone from the source)
  // or kFailed (guest still active here), and reports a guest that vanished
  // mid-query as kCompleted. An error means the state is unknown.
  virtual StatusOr<JobInfo> job_info() = 0;
  // Sets the longest pause allowed for switchover, in ms
  // (virDomainMigrateSetMaxDowntime).
  virtual Status set_max_downtime(int ms) = 0;
  // Asks the hypervisor to cancel the job (virDomainAbortJob); the job later
  // reports kCancelled.
  virtual Status abort() = 0;
  // Makes the job finish: switch to post-copy when permitted, else pause
  // the guest so the copy converges (nova's force-complete task).
  virtual Status force_complete() = 0;
};

// lmh's own limits on waits nova leaves open. Also where the timeline
// source is chosen.
struct JobMonitorOptions {
  // Timeline source of the monitor's entries.
  std::string source = "nova.compute";
  // A job still reporting kNone this long after start() is aborted.
  MonoClock::duration start_timeout = std::chrono::seconds(60);
  // After abort() or force_complete(), how long the job may take to end.
  // A force_complete that does not end in time is followed by abort(); an
  // abort that does not end in time finishes the monitor with
  // kDeadlineExceeded (the job's fate is then unknown).
  MonoClock::duration action_grace = std::chrono::seconds(60);
  // With the completion timeout disabled (0), nova waits forever; lmh
  // aborts the job once it has run this long.
  MonoClock::duration disabled_timeout_limit = std::chrono::hours(1);
};

// Job stats as nova's save_stats() stores them: the latest JobInfo and the
// instance's coarse progress, 100 - round(memory_remaining * 100 /
// memory_total) (100 remaining when the total is 0; Python's round, ties to
// even).
struct SavedJobStats {
  MonoTime t;
  JobInfo info;
  int progress = 0;
};

class JobMonitor {
 public:
  // Monitors the job behind 'control' on 'loop', recording to 'timeline'.
  // 'data_gb' is the data to transfer (see live_migration_data_gb); it
  // scales the downtime steps and the completion timeout. 'poll_interval'
  // is nova's 0.5 s sleep between job queries; it must be positive.
  JobMonitor(EventLoop& loop, Timeline& timeline, JobControl& control, MigrationTuning tuning,
             double data_gb, MonoClock::duration poll_interval = std::chrono::milliseconds(500),
             JobMonitorOptions options = {});
  ~JobMonitor();
  JobMonitor(const JobMonitor&) = delete;
  JobMonitor& operator=(const JobMonitor&) = delete;

  // Starts monitoring: the first poll runs on the loop at once, then one
  // every poll interval. Elapsed time is counted from this call, as nova
  // counts it from the monitor's start (not from the hypervisor's job
  // start). 'on_finished' is called once, from the loop, with:
  //   ok                  the job completed (also after a timeout action);
  //   kDeadlineExceeded   the completion timeout (or an lmh limit) aborted
  //                       the job: "live migration not completed after N s";
  //   kAborted            the job failed;
  //   kCancelled          the job was cancelled by someone else;
  //   the error of job_info() or abort() when those fail (after a
  //                       best-effort abort, as nova does).
  // The monitor may be destroyed from within 'on_finished'.
  // Returns kInvalidArgument (and does not start) when the tuning is
  // invalid, kFailedPrecondition when already started.
  Status start(std::function<void(Status)> on_finished);
  // Cancels the pending poll; 'on_finished' is not called. Idempotent.
  void stop();

  bool running() const { return running_; }
  // The downtime schedule in use (from downtime_steps()).
  const std::vector<std::pair<MonoClock::duration, int>>& steps() const { return steps_; }
  // The completion timeout in whole seconds: int(per-GiB value * data_gb);
  // 0 when disabled.
  int completion_timeout_s() const;
  // The max downtime last set (nova's curdowntime), if any.
  std::optional<int> current_downtime_ms() const { return downtime_ms_; }
  // The stats last saved, on nova's cadence: every
  // int(monitor_interval_s / poll interval) polls of a running job, the first
  // running poll included.
  const std::optional<SavedJobStats>& saved_stats() const { return stats_; }

 private:
  enum class Action { kNone, kAborting, kForcing };

  // One iteration of nova's monitor loop; schedules the next unless finished.
  void poll();
  // Handles a job in kUnbounded (or kNone once it has run): timeout action,
  // lmh limit, downtime step, stats. Returns false when the monitor finished.
  bool on_running(const JobInfo& info, MonoClock::duration elapsed, bool unbounded);
  // Applies the latest downtime step whose time has passed (nova's
  // update_downtime): a failure is recorded and not retried.
  void update_downtime(MonoClock::duration elapsed);
  // Calls abort() with 'reason' as the Status to finish with once the job
  // is cancelled. Returns false when abort() failed and the monitor finished.
  bool begin_abort(Status reason, const std::string& why);
  // Records the end, stops polling and calls 'on_finished' with 's'.
  void finish(Status s);

  EventLoop& loop_;
  Timeline& timeline_;
  JobControl& control_;
  MigrationTuning tuning_;
  double data_gb_;
  MonoClock::duration poll_interval_;
  JobMonitorOptions options_;
  std::vector<std::pair<MonoClock::duration, int>> steps_;

  std::function<void(Status)> on_finished_;
  bool running_ = false;
  EventLoop::TimerId timer_ = 0;
  MonoTime started_{};
  bool seen_running_ = false;
  std::optional<int> downtime_ms_;
  uint64_t running_polls_ = 0;  // nova's n
  std::optional<SavedJobStats> stats_;
  Action action_ = Action::kNone;
  MonoTime action_at_{};
  Status action_reason_;  // what to finish with once the aborted job ends
};

}  // namespace lmh::core
