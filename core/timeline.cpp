#include "core/timeline.h"

#include <iterator>

namespace lmh::core {

void Timeline::record(std::string source, std::string event) {
  std::lock_guard lock(mu_);
  events_.push_back({clock_.now(), std::move(source), std::move(event)});
}

void Timeline::record_at(MonoTime t, std::string source, std::string event) {
  std::lock_guard lock(mu_);
  auto pos = events_.end();
  while (pos != events_.begin() && std::prev(pos)->t > t) --pos;
  events_.insert(pos, {t, std::move(source), std::move(event)});
}

std::vector<TimelineEvent> Timeline::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::optional<TimelineEvent> Timeline::first(const std::string& source,
                                             const std::string& prefix) const {
  std::lock_guard lock(mu_);
  for (const auto& e : events_) {
    if (e.source == source && e.event.rfind(prefix, 0) == 0) return e;
  }
  return std::nullopt;
}

std::vector<TimelineEvent> Timeline::all(const std::string& source,
                                         const std::string& prefix) const {
  std::lock_guard lock(mu_);
  std::vector<TimelineEvent> out;
  for (const auto& e : events_) {
    if (e.source == source && e.event.rfind(prefix, 0) == 0) out.push_back(e);
  }
  return out;
}

}  // namespace lmh::core
