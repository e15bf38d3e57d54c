#include "core/event_loop.h"

#include <algorithm>

namespace lmh::core {

namespace {
// Longest a real sleep lasts before the loop looks at 'interrupt' again.
constexpr auto kInterruptPoll = std::chrono::milliseconds(20);
}  // namespace

EventLoop::TimerId EventLoop::post_at(MonoTime t, Task task) {
  TimerId id = next_id_++;
  timers_.emplace(std::make_pair(t, id), std::move(task));
  return id;
}

void EventLoop::cancel(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->first.second == id) {
      timers_.erase(it);
      return;
    }
  }
}

Status EventLoop::run_until(const std::function<bool()>& done, MonoTime deadline,
                            const std::atomic<bool>* interrupt) {
  while (true) {
    if (done && done()) return ok_status();
    if (interrupt && interrupt->load()) return cancelled("interrupted");
    MonoTime next = timers_.empty() ? deadline : std::min(deadline, timers_.begin()->first.first);
    if (next > now()) {
      // Sleep in slices so an interrupt (Ctrl-C) is noticed promptly.
      MonoTime until = interrupt ? std::min(next, now() + kInterruptPoll) : next;
      clock_.sleep_until(until);
      continue;
    }
    if (!timers_.empty() && timers_.begin()->first.first <= now()) {
      auto node = timers_.extract(timers_.begin());
      node.mapped()();
      continue;
    }
    if (now() >= deadline) {
      return (done && done()) ? ok_status() : deadline_exceeded("event loop deadline passed");
    }
  }
}

Status EventLoop::run_for(MonoClock::duration d, const std::atomic<bool>* interrupt) {
  Status s = run_until(nullptr, now() + d, interrupt);
  return s.code() == StatusCode::kDeadlineExceeded ? ok_status() : s;
}

}  // namespace lmh::core
