// Every state change of a run, in one list with monotonic stamps: migration
// status, bindings, plugs, agent actions, guest phases. Reports draw it;
// analysis reads instants (guest resume, announces) from it. Thread-safe
// because harness threads (capture) may add to it.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "core/clock.h"

namespace lmh::core {

// What an event is, for code: analysis, the judge and tests find events by
// kind and host. The text is for people and may change freely.
enum class EventKind {
  kNote,  // text only
  // libvirt's migration protocol, by phase (host: where the phase ran).
  kBegin,    // source: the migration starts
  kPrepare,  // destination: the incoming domain (and its taps) exist
  kPerform,  // source: the memory copy runs
  kFinish,   // destination: the guest runs there
  kConfirm,  // source: the source domain is gone
  // The guest (host: where it is).
  kGuestStarted,     // defined and started (boot)
  kGuestPaused,      // switchover began on the source
  kGuestResumed,     // runs again after a pause: on the destination, or back
                     // on the source after a failed switchover
  kGuestBooted,      // up again after a power-on (cold migration, revert)
  kGuestPoweredOff,
  kAnnounceSent,     // one self-announce RARP left the guest
};

// "note", "begin", ..., "guest_resumed", "announce_sent": the names reports use.
const char* to_string(EventKind kind);

struct TimelineEvent {
  MonoTime t;
  std::string source;  // "conductor", "compute.dst", "agent.lb.dst", "neutron", "guest", ...
  std::string event;   // "migration status running", "plug_vifs ensure_bridge brq..."
  EventKind kind = EventKind::kNote;
  std::string host;    // the host a typed event happened on ("" for notes)
};

class Timeline {
 public:
  // Told of every typed event (not of notes) as it is recorded, on the
  // recording thread and outside the timeline's lock.
  using Listener = std::function<void(const TimelineEvent&)>;

  explicit Timeline(const Clock& clock) : clock_(clock) {}
  // Sets the one listener ('listener' empty: none). Set it before events
  // are recorded from other threads.
  void set_listener(Listener listener) { listener_ = std::move(listener); }
  // Appends a note stamped with the clock's now().
  void record(std::string source, std::string event);
  // Appends a typed event of 'kind' on 'host' stamped now.
  void record(EventKind kind, std::string host, std::string source, std::string event);
  // Appends an event that happened at 't' (kept in time order).
  void record_at(MonoTime t, std::string source, std::string event);
  void record_at(MonoTime t, EventKind kind, std::string host, std::string source, std::string event);
  std::vector<TimelineEvent> events() const;
  // The first event of 'kind' (on 'host' when given), if any.
  std::optional<TimelineEvent> first(EventKind kind, const std::string& host = "") const;
  // All events of 'kind' (on 'host' when given), in time order.
  std::vector<TimelineEvent> all(EventKind kind, const std::string& host = "") const;
  // Notes from 'source' whose text starts with 'prefix': for unit tests of
  // a role's notes only; code reads typed events.
  std::optional<TimelineEvent> first(const std::string& source, const std::string& prefix) const;
  std::vector<TimelineEvent> all(const std::string& source, const std::string& prefix) const;

 private:
  void insert(TimelineEvent e);

  const Clock& clock_;
  Listener listener_;
  mutable std::mutex mu_;
  std::vector<TimelineEvent> events_;
};

}  // namespace lmh::core
