// External instance events from neutron to nova (network-vif-plugged,
// network-vif-unplugged), and nova's virtapi.wait_for_instance_event, in two
// steps as its with-block runs them: register the expected events (before
// the RPC that causes them), then wait for the rest with a deadline. An
// event that arrives with no registered waiter is dropped, as nova does.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

class InstanceEvents {
 public:
  // 'faults' may be null (no fault fires).
  InstanceEvents(EventLoop& loop, Timeline& timeline, faults::FaultPlan* faults)
      : loop_(loop), timeline_(timeline), faults_(faults) {}

  // neutron's nova notifier sends 'event' for 'port_id' (fault point
  // neutron.notify.vif_plugged for network-vif-plugged).
  void notify(const std::string& event, const std::string& port_id);

  // Registers a wait of 'instance_uuid' for 'names' ("network-vif-plugged-<port>").
  int prepare(const std::string& instance_uuid, std::vector<std::string> names);
  // 'done' gets ok, or kDeadlineExceeded naming the events still missing.
  void wait(int wait_id, MonoClock::duration timeout, std::function<void(Status)> done);
  // Abandons a registered wait (the RPC it was for failed).
  void cancel(int wait_id) { finish(wait_id, cancelled("wait abandoned")); }
  // Waits registered and not finished (an invariant: none after a run).
  int pending() const;
  // The events nova received, in order ("network-vif-plugged <port>").
  const std::vector<std::string>& received() const { return received_; }

 private:
  struct Wait {
    std::string instance;
    std::vector<std::string> pending;
    std::function<void(Status)> done;  // set once wait() is called
    EventLoop::TimerId deadline_timer = 0;
    bool finished = false;
  };
  // nova's API receives the event and dispatches it to a waiter.
  void receive(const std::string& event, const std::string& port_id);
  void finish(int id, Status status);

  EventLoop& loop_;
  Timeline& timeline_;
  faults::FaultPlan* faults_;
  std::vector<std::string> received_;
  std::map<int, Wait> waits_;
  int next_wait_ = 1;
};

}  // namespace lmh::core
