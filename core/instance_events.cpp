#include "core/instance_events.h"

#include <algorithm>

#include "core/fault_hooks.h"
#include "core/neutron.h"

namespace lmh::core {

void InstanceEvents::notify(const std::string& event, const std::string& port_id) {
  if (event != "network-vif-plugged") {
    receive(event, port_id);
    return;
  }
  faults::Decision d = consult_fault(faults_, timeline_, kNeutronNotifyVifPlugged);
  switch (d.kind) {
    case faults::ActionKind::kFireEarly:
      break;  // neutron sent it early already (on the migrating_to update)
    case faults::ActionKind::kDrop:
    case faults::ActionKind::kFail:
      return;  // nova never hears of it
    case faults::ActionKind::kDelay:
      loop_.post_after(d.delay, [this, event, port_id] { receive(event, port_id); });
      return;
    case faults::ActionKind::kDuplicate:
      receive(event, port_id);
      receive(event, port_id);
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, kNeutronNotifyVifPlugged, d);
  }
  receive(event, port_id);
}

void InstanceEvents::receive(const std::string& event, const std::string& port_id) {
  received_.push_back(event + " " + port_id);
  const std::string name = event + "-" + port_id;
  timeline_.record("nova.api", "external event " + event + " port " + port_id.substr(0, 11));
  for (auto& [id, w] : waits_) {
    if (w.finished) continue;
    auto it = std::find(w.pending.begin(), w.pending.end(), name);
    if (it == w.pending.end()) continue;
    w.pending.erase(it);
    timeline_.record("nova.compute", "event " + event + " port " + port_id.substr(0, 11) + " received by waiter");
    if (w.pending.empty() && w.done) {
      int wid = id;
      loop_.post([this, wid] { finish(wid, ok_status()); });
    }
    return;
  }
  timeline_.record("nova.compute", "no waiter for " + event + " port " + port_id.substr(0, 11) + " (dropped)");
}

int InstanceEvents::prepare(const std::string& instance_uuid, std::vector<std::string> names) {
  int id = next_wait_++;
  waits_[id] = Wait{instance_uuid, std::move(names), nullptr, 0, false};
  return id;
}

void InstanceEvents::wait(int id, MonoClock::duration timeout, std::function<void(Status)> done) {
  Wait& w = waits_.at(id);
  w.done = std::move(done);
  if (w.pending.empty()) {
    loop_.post([this, id] { finish(id, ok_status()); });
    return;
  }
  w.deadline_timer = loop_.post_after(timeout, [this, id] {
    std::string missing;
    for (const auto& n : waits_.at(id).pending) missing += (missing.empty() ? "" : ", ") + n;
    finish(id, deadline_exceeded("timed out waiting for events: " + missing));
  });
}

void InstanceEvents::finish(int id, Status status) {
  auto it = waits_.find(id);
  if (it == waits_.end() || it->second.finished) return;
  it->second.finished = true;
  loop_.cancel(it->second.deadline_timer);
  auto done = std::move(it->second.done);
  if (done) done(std::move(status));
}

int InstanceEvents::pending() const {
  int n = 0;
  for (const auto& [id, w] : waits_) n += !w.finished;
  return n;
}

}  // namespace lmh::core
