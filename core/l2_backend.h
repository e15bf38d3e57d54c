// The registry of L2 backends, in the spirit of Open vSwitch's
// netdev_register_provider: a backend is a class of functions registered
// under its name (core/backend.h). For a host with that backend the cloud
// asks the class what the host's agent reports to neutron's server, builds
// the agent from the host's configuration, and the server's ML2 layer binds
// ports through the class's mechanism driver. Nothing else in core or the
// harness needs to know which backends exist.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/agent_config.h"
#include "core/backend.h"
#include "core/behaviour.h"
#include "core/event_loop.h"
#include "core/host_config.h"
#include "core/host_network.h"
#include "core/l2_agent.h"
#include "core/neutron.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

// What a backend's agent talks to besides its host's configuration.
struct L2AgentDeps {
  HostNetwork& net;  // the host's network (taps, Linux bridges)
  NeutronServer& neutron;
  EventLoop& loop;
  Timeline& timeline;
  const Behaviour& behaviour;  // the agent fixes it models are switches here
  faults::FaultPlan* faults = nullptr;
};

struct L2BackendClass {
  Backend backend;
  // What the agent on 'host' reports to neutron's server
  // (agent['configurations']): its type, firewall driver, mappings.
  AgentConfig (*agent_config)(const HostConfig& host);
  // Builds the agent of 'host' (not started). kInvalidArgument when the
  // host lacks what the backend needs (e.g. an OVSDB for openvswitch).
  StatusOr<std::unique_ptr<L2Agent>> (*create_agent)(const HostConfig& host, const L2AgentDeps& deps);
  // The backend's ML2 mechanism driver: binds a port of 'net' for 'agent'
  // (host = agent.host, INACTIVE; vif_type and vif_details its own), or
  // kFailedPrecondition "binding_failed: ..." when the agent cannot reach
  // the network's segment. core/mechanism_driver.h dispatches to it.
  StatusOr<PortBinding> (*bind_port)(const AgentConfig& agent, const Network& net);
};

// Registers 'cls' under its backend's name. kAlreadyExists when that
// backend is registered already. The built-in backends (linuxbridge,
// openvswitch) are registered before the first lookup.
Status register_l2_backend(const L2BackendClass& cls);
// The class registered for 'backend'; kNotFound when none is.
StatusOr<const L2BackendClass*> find_l2_backend(Backend backend);
// The class registered under 'name'; kNotFound "unknown L2 backend
// '<name>' (registered: linuxbridge, openvswitch)" for any other name.
StatusOr<const L2BackendClass*> find_l2_backend(std::string_view name);
// The names of the registered backends, in registration order.
std::vector<std::string> registered_l2_backends();

// Fills what an agent with VXLAN enabled in 'vxlan' reports to the server:
// tunnel type, endpoint, l2population, and its UDP port (udp_dstport, else
// the backend's 'default_port'). Nothing when VXLAN is off.
void report_vxlan(AgentConfig& agent, const VxlanConfig& vxlan, int default_port);

}  // namespace lmh::core
