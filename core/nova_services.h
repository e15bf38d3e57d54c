// What nova's roles (API and conductor, compute managers, the invariant
// checker) share: the loop and timeline, nova's database, the RPC bus, the
// instance-event waiter, neutron, the hypervisor and the directory of
// compute hosts. The roles depend on these parts, never on each other's
// owner (core/cloud.h assembles them).
#pragma once

#include <string>
#include <vector>

#include "core/behaviour.h"
#include "core/event_loop.h"
#include "core/hypervisor.h"
#include "core/instance_events.h"
#include "core/l2_agent.h"
#include "core/neutron.h"
#include "core/nova_database.h"
#include "core/rpc_bus.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

class ComputeManager;

// The compute hosts of a cloud by name: how one role reaches another's
// compute service (through RpcBus) or a host's L2 agent.
class HostDirectory {
 public:
  virtual ~HostDirectory() = default;
  virtual std::vector<std::string> host_names() const = 0;  // in name order
  // Null for an unknown host.
  virtual ComputeManager* compute(const std::string& host) = 0;
  virtual L2Agent* agent(const std::string& host) = 0;
};

struct NovaServices {
  EventLoop& loop;
  Timeline& timeline;
  NovaDatabase& db;
  RpcBus& rpc;
  InstanceEvents& events;
  NeutronServer& neutron;
  Hypervisor& hypervisor;
  HostDirectory& hosts;
  const Behaviour& behaviour;
  faults::FaultPlan* faults;  // may be null
};

}  // namespace lmh::core
