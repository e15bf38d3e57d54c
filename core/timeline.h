// Every state change of a run, in one list with monotonic stamps: migration
// status, bindings, plugs, agent actions, guest phases. Reports draw it;
// analysis reads instants (guest resume, announces) from it. Thread-safe
// because harness threads (capture) may add to it.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "core/clock.h"

namespace lmh::core {

struct TimelineEvent {
  MonoTime t;
  std::string source;  // "conductor", "compute.dst", "agent.lb.dst", "neutron", "guest", ...
  std::string event;   // "migration status running", "plug_vifs ensure_bridge brq..."
};

class Timeline {
 public:
  explicit Timeline(const Clock& clock) : clock_(clock) {}
  // Appends an event stamped with the clock's now().
  void record(std::string source, std::string event);
  // Appends an event that happened at 't' (kept in time order).
  void record_at(MonoTime t, std::string source, std::string event);
  std::vector<TimelineEvent> events() const;
  // The first event from 'source' whose text starts with 'prefix', if any.
  std::optional<TimelineEvent> first(const std::string& source, const std::string& prefix) const;
  // All events from 'source' whose text starts with 'prefix'.
  std::vector<TimelineEvent> all(const std::string& source, const std::string& prefix) const;

 private:
  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<TimelineEvent> events_;
};

}  // namespace lmh::core
