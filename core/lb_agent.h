// The neutron linuxbridge agent of one host, modelled on the real one: every
// 'polling_interval' it lists tap devices; for new ones (and ones whose
// binding was just activated here) it asks the server for device details;
// only when the port's ACTIVE binding is on this host does it ensure the
// network's bridge and physical uplink ("<phys>.<vlan>" for VLAN networks,
// the mapped NIC for flat), enslave the tap and report the device up.
// A device answered NO_ACTIVE_BINDING is retried at every poll.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/event_loop.h"
#include "core/host_config.h"
#include "core/host_network.h"
#include "core/l2_agent.h"
#include "core/neutron.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

struct LinuxBridgeAgentConfig {
  std::string host;
  MonoClock::duration polling_interval = std::chrono::seconds(2);
  std::map<std::string, std::string> physical_interface_mappings;  // physnet -> NIC
  // Downstream fix: treat a port migrating to this host as ours before its
  // binding here is activated (get_device_details honours migrating_to).
  bool honour_migrating_to = false;
  faults::FaultPlan* faults = nullptr;  // agent.lb.scan, agent.lb.enslave_uplink
  VxlanConfig vxlan;
};

class LinuxBridgeAgent : public L2Agent {
 public:
  LinuxBridgeAgent(LinuxBridgeAgentConfig config, HostNetwork& net, NeutronServer& neutron,
                   EventLoop& loop, Timeline& timeline);
  ~LinuxBridgeAgent() override;
  LinuxBridgeAgent(const LinuxBridgeAgent&) = delete;
  LinuxBridgeAgent& operator=(const LinuxBridgeAgent&) = delete;

  Backend backend() const override { return Backend::kLinuxBridge; }
  // Starts polling: the first poll runs at once, like the agent's daemon loop.
  void start() override;
  void stop() override;
  // RPC from the server: the binding of 'port_id' became ACTIVE on 'host'.
  void binding_activate(const std::string& port_id, const std::string& host) override;
  // RPC from the server: the binding of 'port_id' on 'host' was deactivated.
  void binding_deactivate(const std::string& port_id, const std::string& host) override;
  // Runs one polling iteration now (tests; the timer calls it too). The
  // fault point agent.lb.scan can delay, skip (drop/fail) it or stop the
  // agent for good (crash).
  void poll() override;

  const std::string& host() const override { return config_.host; }
  const std::set<std::string>& plugged_devices() const { return known_; }
  // When the last poll ran (nullopt before the first).
  std::optional<MonoTime> last_poll() const override { return last_poll_; }
  MonoClock::duration polling_interval() const override { return config_.polling_interval; }
  // l2population: vxlan-<vni> forwarding entries (and, with arp_responder,
  // permanent neighbours) for the other hosts' endpoints.
  void fdb_update(FdbOperation op, const NetworkFdb& fdb) override;
  // A "bridge" vif is wired when its tap is in the network's bridge brq...
  std::string wiring_problem(const Vif& vif, HostNetwork& net) override;

 private:
  // The scan itself: taps, details, plugging; then the next poll is timed.
  void scan();
  void schedule_next_poll();
  // Enslaves 'uplink' to 'bridge' unless agent.lb.enslave_uplink says otherwise.
  Status enslave_uplink(const std::string& uplink, const std::string& bridge);
  // Ensures bridge + uplink and enslaves 'device'. Returns whether plugged.
  Status plug_interface(const std::string& device, const DeviceDetails& details);
  std::string source() const { return "agent.lb." + config_.host; }
  // ensure_vxlan: the network's vxlan-<vni> device, as the agent's mode
  // (unicast with l2population, else multicast group) makes it.
  Status ensure_vxlan(int vni);
  Status apply_fdb_entry(FdbOperation op, const std::string& device, const std::string& agent_ip,
                         const FdbPortInfo& entry);

  LinuxBridgeAgentConfig config_;
  HostNetwork& net_;
  NeutronServer& neutron_;
  EventLoop& loop_;
  Timeline& timeline_;
  bool running_ = false;
  EventLoop::TimerId timer_ = 0;
  std::set<std::string> known_;    // devices processed and reported up
  std::set<std::string> updated_;  // devices to re-process at the next poll
  std::set<std::string> skipped_logged_;
  std::optional<MonoTime> last_poll_;
  // network id -> VNI of the vxlan networks with a port here (the agent's
  // network_map: l2pop updates for other networks are ignored).
  std::map<std::string, int> vxlan_networks_;
};

struct L2BackendClass;
// The linuxbridge backend: this agent, what it reports, its mechanism
// driver (registered by core/l2_backend.cpp).
const L2BackendClass& linuxbridge_backend();

}  // namespace lmh::core
