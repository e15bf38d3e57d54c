// What core may do to a host's Open vSwitch: the side-effect family used by
// os-vif style OVS plugging and the OVS L2 agent. One object per host. The
// lab implements it over the host's ovsdb-server (OVSDB IDL) and
// ovs-vswitchd (OpenFlow); unit tests use a fake that keeps bridges and ports
// in maps (tests/unit/core/ovs_fakes.h).
//
// A "port" here is an OVS Port with its single Interface of the same name,
// as os-vif and libvirt create them: 'external_ids' are the Interface's
// (iface-id, iface-status, attached-mac, vm-uuid), 'tag' is the Port's.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::core {

// The local VLAN the OVS agent puts a port on while it has no binding here
// (neutron's DEAD_VLAN_TAG): all its traffic is dropped.
inline constexpr int kDeadVlanTag = 4095;

// A vxlan port of the tunnel bridge br-tun to one remote endpoint, as the
// OVS agent's setup_tunnel_port adds it (options remote_ip, local_ip,
// in_key=flow, out_key=flow, dst_port).
struct OvsTunnelPort {
  std::string name;       // core::ovs_tunnel_port_name(remote_ip)
  std::string remote_ip;
  std::string local_ip;
  int dst_port = 4789;    // [agent] vxlan_udp_port
};

// One row of OvsDatabase::list_ports.
struct OvsPort {
  std::string name;
  std::map<std::string, std::string> external_ids;  // Interface external_ids
  std::optional<int> tag;                           // Port tag (none = trunk all)
};

class OvsDatabase {
 public:
  virtual ~OvsDatabase() = default;

  // Creates bridge 'name' with 'datapath_type' ("system" | "netdev") unless
  // it exists (ovs-vsctl --may-exist add-br). An existing bridge keeps its
  // datapath type.
  virtual Status ensure_bridge(const std::string& name, const std::string& datapath_type) = 0;
  virtual bool bridge_exists(const std::string& name) = 0;

  // Adds port 'port' (with its interface) to 'bridge' and sets the
  // interface's 'external_ids' and, when given, the port's 'tag'. When the
  // port is already on 'bridge' only external_ids (and tag) are updated
  // (--may-exist). kNotFound when 'bridge' does not exist;
  // kFailedPrecondition when the port is on another bridge.
  virtual Status add_port(const std::string& bridge, const std::string& port,
                          const std::map<std::string, std::string>& external_ids,
                          std::optional<int> tag) = 0;
  // Removes 'port' from whichever bridge holds it; ok when it is on none
  // (--if-exists). The kernel device, if any, is not deleted.
  virtual Status delete_port(const std::string& port) = 0;
  // The bridge holding 'port', or "" when none.
  virtual StatusOr<std::string> port_bridge(const std::string& port) = 0;
  // The ports of 'bridge' in name order; kNotFound when it does not exist.
  virtual StatusOr<std::vector<OvsPort>> list_ports(const std::string& bridge) = 0;
  // Sets the Port 'tag' of 'port' (and clears vlan_mode/trunks, as the agent
  // does when it moves a port off the dead VLAN). kNotFound when no such port.
  virtual Status set_tag(const std::string& port, int tag) = 0;

  // The flows the OVS agent programs for a network it starts serving here
  // (ovs_neutron_agent provision_local_vlan): traffic of the integration
  // bridge tagged 'local_vlan' leaves the physical bridge of 'physnet' as
  // 'network_type' ("vlan": tagged 'segmentation_id'; "flat": untagged), and
  // the reverse translation on the way in. The implementation finds the
  // physical bridge and patch ports of 'physnet' from its own lab topology.
  virtual Status provision_local_vlan(int local_vlan, const std::string& physnet,
                                      const std::string& network_type, int segmentation_id) = 0;
  // Removes what provision_local_vlan programmed for 'local_vlan'
  // (reclaim_local_vlan, when the last port of the network leaves the host).
  // Ok when nothing was programmed.
  virtual Status reclaim_local_vlan(int local_vlan, const std::string& physnet,
                                    const std::string& network_type, int segmentation_id) = 0;
  // For network_type "vxlan" the two calls above program the tunnel bridge
  // instead (physnet is ""): provision adds table 4 "tun_id=<vni> ->
  // mod_vlan_vid:<local_vlan>, resubmit(,10)"; reclaim deletes that and
  // every flow of tables 20, 21 and 22 for the local VLAN.

  // The tunnel bridge br-tun (ovs_neutron_agent with tunnel_types), which
  // the lab builds with its patch to br-int and neutron's base tables.
  // Adds 'port' and its table 0 flow "in_port=<ofport> -> resubmit(,4)";
  // ok when a port of that name exists.
  virtual Status add_tunnel_port(const OvsTunnelPort& port) = 0;
  // Removes tunnel port 'name' and its table 0 flow; ok when it is gone.
  virtual Status delete_tunnel_port(const std::string& name) = 0;
  // Table 22 (FLOOD_TO_TUN): broadcast and unknown unicast of 'local_vlan'
  // leave as VNI 'vni' through every port of 'ports' (names); empty deletes
  // the flow, so such frames are dropped.
  virtual Status set_flood_to_tunnels(int local_vlan, int vni, const std::vector<std::string>& ports) = 0;
  // Table 20 (UCAST_TO_TUN), priority 2, l2population's static entry:
  // frames of 'local_vlan' to 'mac' leave as VNI 'vni' through 'port'
  // (replacing any entry for that mac).
  virtual Status install_unicast_to_tunnel(int local_vlan, int vni, const std::string& port,
                                           const std::string& mac) = 0;
  // Deletes the table 20 entry for 'mac' on 'local_vlan', whatever port it
  // names (as neutron's delete_unicast_to_tun matches vlan and mac only).
  virtual Status delete_unicast_to_tunnel(int local_vlan, const std::string& mac) = 0;
  // Table 21 (ARP_RESPONDER): br-tun answers ARP requests for 'ip' on
  // 'local_vlan' with 'mac' itself, without flooding them.
  virtual Status install_arp_responder(int local_vlan, const std::string& ip, const std::string& mac) = 0;
  virtual Status delete_arp_responder(int local_vlan, const std::string& ip) = 0;
};

}  // namespace lmh::core
