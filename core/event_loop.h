// A single-threaded timer loop that runs the whole control plane: RPC casts,
// agent polling, hypervisor phases. One thread means no locks in core and a
// deterministic order under SimulatedClock (ties run in posting order).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "common/status.h"
#include "core/clock.h"

namespace lmh::core {

class EventLoop {
 public:
  using Task = std::function<void()>;
  using TimerId = uint64_t;

  explicit EventLoop(Clock& clock) : clock_(clock) {}
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Clock& clock() { return clock_; }
  MonoTime now() const { return clock_.now(); }

  // Schedules 'task' at 't' (or as soon as possible if 't' has passed).
  TimerId post_at(MonoTime t, Task task);
  TimerId post_after(MonoClock::duration d, Task task) { return post_at(now() + d, std::move(task)); }
  TimerId post(Task task) { return post_at(now(), std::move(task)); }
  // Cancels a pending timer; a no-op when it already ran.
  void cancel(TimerId id);
  size_t pending() const { return timers_.size(); }

  // Runs tasks in time order until 'done()' holds (checked after each task),
  // 'deadline' passes, or '*interrupt' becomes true. Returns ok,
  // kDeadlineExceeded or kCancelled.
  Status run_until(const std::function<bool()>& done, MonoTime deadline,
                   const std::atomic<bool>* interrupt = nullptr);
  // Runs every task due up to now()+'d', then returns (time ends at now()+'d').
  Status run_for(MonoClock::duration d, const std::atomic<bool>* interrupt = nullptr);

 private:
  Clock& clock_;
  TimerId next_id_ = 1;
  // Keyed by (time, id): ids increase, so equal times keep posting order.
  std::map<std::pair<MonoTime, TimerId>, Task> timers_;
};

}  // namespace lmh::core
