// What an L2 agent reports to neutron's server about itself
// (agent['configurations']): the mechanism drivers decide a host's port
// bindings from it. Kept apart from core/mechanism_driver.h so that
// core/neutron.h can hold the agents of its hosts without an include cycle.
#pragma once

#include <map>
#include <set>
#include <string>

namespace lmh::core {

// One host's L2 agent.
struct AgentConfig {
  std::string host;
  std::string agent_type;       // the backend's name (core/backend.h): picks the mechanism driver
  std::string firewall_driver;  // "iptables_hybrid" | "openvswitch" | "noop"
  std::string datapath_type = "system";        // ovs: "system" | "netdev"
  std::string integration_bridge = "br-int";   // ovs
  std::map<std::string, std::string> bridge_mappings;              // ovs: physnet -> br-xxx (lb: existing bridge)
  std::map<std::string, std::string> physical_interface_mappings;  // lb: physnet -> NIC
  std::set<std::string> tunnel_types;  // "vxlan", "gre", "geneve": allowed besides flat/vlan/local
  std::string tunneling_ip;            // local_ip: this host's tunnel endpoint
  bool l2_population = false;          // the agent takes l2pop's fdb updates
  // The UDP port its VXLAN endpoint sends to and listens on (0: no vxlan):
  // linuxbridge leaves the kernel's 8472 unless udp_dstport is set,
  // openvswitch uses vxlan_udp_port, 4789.
  int vxlan_udp_port = 0;
};

}  // namespace lmh::core
