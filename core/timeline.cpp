#include "core/timeline.h"

#include <iterator>

namespace lmh::core {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::kNote: return "note";
    case EventKind::kBegin: return "begin";
    case EventKind::kPrepare: return "prepare";
    case EventKind::kPerform: return "perform";
    case EventKind::kFinish: return "finish";
    case EventKind::kConfirm: return "confirm";
    case EventKind::kGuestStarted: return "guest_started";
    case EventKind::kGuestPaused: return "guest_paused";
    case EventKind::kGuestResumed: return "guest_resumed";
    case EventKind::kGuestBooted: return "guest_booted";
    case EventKind::kGuestPoweredOff: return "guest_powered_off";
    case EventKind::kAnnounceSent: return "announce_sent";
  }
  return "note";
}

void Timeline::insert(TimelineEvent e) {
  std::optional<TimelineEvent> told;
  if (listener_ && e.kind != EventKind::kNote) told = e;
  {
    std::lock_guard lock(mu_);
    auto pos = events_.end();
    while (pos != events_.begin() && std::prev(pos)->t > e.t) --pos;
    events_.insert(pos, std::move(e));
  }
  if (told) listener_(*told);
}

void Timeline::record(std::string source, std::string event) {
  insert({clock_.now(), std::move(source), std::move(event)});
}

void Timeline::record(EventKind kind, std::string host, std::string source, std::string event) {
  insert({clock_.now(), std::move(source), std::move(event), kind, std::move(host)});
}

void Timeline::record_at(MonoTime t, std::string source, std::string event) {
  insert({t, std::move(source), std::move(event)});
}

void Timeline::record_at(MonoTime t, EventKind kind, std::string host, std::string source, std::string event) {
  insert({t, std::move(source), std::move(event), kind, std::move(host)});
}

std::vector<TimelineEvent> Timeline::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::optional<TimelineEvent> Timeline::first(EventKind kind, const std::string& host) const {
  std::lock_guard lock(mu_);
  for (const auto& e : events_)
    if (e.kind == kind && (host.empty() || e.host == host)) return e;
  return std::nullopt;
}

std::vector<TimelineEvent> Timeline::all(EventKind kind, const std::string& host) const {
  std::lock_guard lock(mu_);
  std::vector<TimelineEvent> out;
  for (const auto& e : events_)
    if (e.kind == kind && (host.empty() || e.host == host)) out.push_back(e);
  return out;
}

std::optional<TimelineEvent> Timeline::first(const std::string& source, const std::string& prefix) const {
  std::lock_guard lock(mu_);
  for (const auto& e : events_)
    if (e.source == source && e.event.rfind(prefix, 0) == 0) return e;
  return std::nullopt;
}

std::vector<TimelineEvent> Timeline::all(const std::string& source, const std::string& prefix) const {
  std::lock_guard lock(mu_);
  std::vector<TimelineEvent> out;
  for (const auto& e : events_)
    if (e.source == source && e.event.rfind(prefix, 0) == 0) out.push_back(e);
  return out;
}

}  // namespace lmh::core
