// The neutron openvswitch agent of one host, modelled on the real one
// (ovs_neutron_agent rpc_loop): every 'polling_interval' it lists the ports
// of the integration bridge that carry external_ids:iface-id (a neutron port
// id). For a new port (and one whose binding was just activated here) it
// asks the server for device details; with details it binds the port
// (port_bound): the network gets a local VLAN on this host (the lowest free
// of 1..4094, shared by all ports of the network), provision_local_vlan
// programs its flows once, the port is tagged with it, and the device is
// reported up. A port answered NO_ACTIVE_BINDING (or unknown to the server)
// is put on the dead VLAN if it had a tag and asked again at every poll.
// A port gone from the bridge is reported down and unbound; the network's
// local VLAN is reclaimed when its last port goes. A binding deactivated
// here unplugs its port from the integration bridge at the next poll.
//
// With tunnel_types = vxlan and l2_population (the only tunnel mode
// modelled) a vxlan network's local VLAN is translated to its VNI on br-tun,
// and l2population's fdb updates add and remove the tunnel ports, the
// flooding list (table 22), the unicast entries (table 20) and, with
// arp_responder, the ARP answers (table 21), as the agent's fdb_add_tun and
// fdb_remove_tun do.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/host_config.h"
#include "core/l2_agent.h"
#include "core/neutron.h"
#include "core/ovs_database.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

struct OvsAgentConfig {
  std::string host;
  MonoClock::duration polling_interval = std::chrono::seconds(2);
  std::string integration_bridge = "br-int";
  std::string datapath_type = "system";  // of the integration bridge the agent ensures
  std::map<std::string, std::string> bridge_mappings;  // physnet -> br-xxx
  // Downstream fix, as for the linuxbridge agent: treat a port migrating to
  // this host as ours before its binding here is activated.
  bool honour_migrating_to = false;
  faults::FaultPlan* faults = nullptr;  // agent.ovs.port_up
  VxlanConfig tunnel;  // enable_vxlan: tunnel_types has vxlan
  static constexpr int kDefaultVxlanUdpPort = 4789;
};

class OvsAgent : public L2Agent {
 public:
  static constexpr int kMinLocalVlan = 1;
  static constexpr int kMaxLocalVlan = 4094;

  OvsAgent(OvsAgentConfig config, OvsDatabase& ovs, NeutronServer& neutron, EventLoop& loop,
           Timeline& timeline);
  ~OvsAgent() override;
  OvsAgent(const OvsAgent&) = delete;
  OvsAgent& operator=(const OvsAgent&) = delete;

  Backend backend() const override { return Backend::kOpenVswitch; }
  // Ensures the integration bridge (setup_integration_br) and starts
  // polling; the first poll runs at once, like the agent's daemon loop.
  void start() override;
  void stop() override;
  // RPC from the server: the binding of 'port_id' became ACTIVE on 'host'.
  // Ignored for other hosts; the port is re-processed at the next poll.
  void binding_activate(const std::string& port_id, const std::string& host) override;
  // RPC from the server: the binding of 'port_id' on 'host' was deactivated.
  // Ignored for other hosts; the port leaves the integration bridge at the
  // next poll (process_deactivated_bindings).
  void binding_deactivate(const std::string& port_id, const std::string& host) override;
  // l2population's update: ignored without l2_population and for networks
  // with no local VLAN here (get_agent_ports), entries behind our own
  // endpoint skipped.
  void fdb_update(FdbOperation op, const NetworkFdb& fdb) override;
  // Runs one polling iteration now (tests; the timer calls it too).
  void poll() override;

  const std::string& host() const override { return config_.host; }
  // Port ids bound here and reported up.
  const std::set<std::string>& bound_ports() const { return bound_; }
  // The local VLAN of network 'network_id' on this host, if it has one.
  std::optional<int> local_vlan(const std::string& network_id) const;
  // When the last poll ran (nullopt before the first).
  std::optional<MonoTime> last_poll() const override { return last_poll_; }
  MonoClock::duration polling_interval() const override { return config_.polling_interval; }
  // An "ovs" vif is wired when its device (the tap; hybrid: qvo, with the
  // tap in qbr) is on the binding's bridge with a live local VLAN tag.
  std::string wiring_problem(const Vif& vif, HostNetwork& net) override;

 private:
  // A network served on this host (neutron's LocalVLANMapping).
  struct LocalVlanMapping {
    int vlan = 0;
    std::string network_type;
    std::string physnet;
    int segmentation_id = 0;
    std::set<std::string> ports;  // port ids bound to it
    std::set<std::string> flood_ips;  // remote endpoints in the flooding list (tun_ofports)
  };

  // The ports of the integration bridge with an iface-id, by port id.
  StatusOr<std::map<std::string, OvsPort>> scan_ports();
  // Deletes from the bridge the ports whose binding was deactivated here
  // (and drops them from 'current').
  void process_deactivated_bindings(std::map<std::string, OvsPort>& current);
  // Asks for details of 'port' and binds it; returns whether it was handled
  // (false: ask again at the next poll).
  bool treat_device_added_or_updated(const std::string& port_id, const OvsPort& port);
  // Binds 'port' to its network's local VLAN and tags it.
  Status port_bound(const std::string& port_id, const OvsPort& port, const DeviceDetails& d);
  // Forgets 'port_id' and reclaims its network's VLAN when it was the last.
  void port_unbound(const std::string& port_id);
  // Moves 'port' to the dead VLAN when it has another tag.
  void port_dead(const OvsPort& port);
  // The mapping of 'd's network, allocating a VLAN and programming flows
  // when it is new.
  StatusOr<LocalVlanMapping*> provision_local_vlan(const DeviceDetails& d);
  void reclaim_local_vlan(const std::string& network_id);
  std::optional<int> lowest_free_vlan() const;
  std::string source() const { return "agent.ovs." + config_.host; }
  // Can this host carry 'network_type' (a tunnel type needs tunnelling on)?
  bool can_provision(const std::string& network_type, const std::string& physnet) const;
  Status fdb_add_tun(LocalVlanMapping& lvm, const std::string& remote_ip, const std::vector<FdbPortInfo>& entries);
  Status fdb_remove_tun(LocalVlanMapping& lvm, const std::string& remote_ip,
                        const std::vector<FdbPortInfo>& entries);
  Status ensure_tunnel_port(const std::string& remote_ip);
  // Deletes the tunnel port to 'remote_ip' when no network floods to it.
  void cleanup_tunnel_port(const std::string& remote_ip);
  Status set_flooding(const LocalVlanMapping& lvm);

  OvsAgentConfig config_;
  OvsDatabase& ovs_;
  NeutronServer& neutron_;
  EventLoop& loop_;
  Timeline& timeline_;
  bool running_ = false;
  EventLoop::TimerId timer_ = 0;
  std::map<std::string, LocalVlanMapping> vlans_;  // network id -> mapping
  std::set<int> used_vlans_;
  std::map<std::string, std::string> port_network_;  // bound port id -> network id
  std::set<std::string> bound_;        // ports processed and reported up
  std::set<std::string> retry_;        // bound ports to re-process at the next poll
  std::set<std::string> deactivated_;  // ports to unplug at the next poll
  std::set<std::string> skipped_logged_;
  std::set<std::string> tunnel_ports_;  // remote endpoints with a br-tun port
  std::optional<MonoTime> last_poll_;
};

struct L2BackendClass;
// The openvswitch backend: this agent, what it reports, its mechanism
// driver (registered by core/l2_backend.cpp).
const L2BackendClass& openvswitch_backend();

}  // namespace lmh::core
