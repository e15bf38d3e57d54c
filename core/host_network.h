// What core may do to a host's network: the side-effect family used by os-vif
// style plugging and the L2 agents. The lab implements it over netlink inside
// the host's namespace; unit tests use a fake that keeps links in a map.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::core {

// A VXLAN device as neutron's linuxbridge agent creates it (ensure_vxlan):
// `ip link add vxlan-<vni> type vxlan id <vni> dev <underlay>
//  [local <ip>] [group <g>] [dstport <p>] [proxy]`.
struct VxlanDevice {
  std::string name;      // "vxlan-<vni>"
  int vni = 0;
  std::string local_ip;  // set with l2population (unicast mode)
  std::string group;     // multicast mode (no l2population): the vxlan_group
  std::string underlay;  // the interface holding local_ip ("dev")
  int dstport = 8472;    // the kernel's default, which the agent leaves unless udp_dstport is set
  bool proxy = false;    // arp_responder: the kernel answers ARP from the neighbour table
};

// One forwarding entry of a VXLAN device: frames to 'mac' go to the remote
// tunnel endpoint 'dst_ip' (`bridge fdb ... dev vxlan-N dst <ip> self
// permanent`); mac 00:00:00:00:00:00 is the flooding entry (one per remote).
struct VxlanFdbEntry {
  std::string mac;
  std::string dst_ip;
  bool operator==(const VxlanFdbEntry&) const = default;
};

class HostNetwork {
 public:
  virtual ~HostNetwork() = default;

  // Names of the host's links that start with 'prefix' (e.g. "tap").
  virtual StatusOr<std::vector<std::string>> list_links(const std::string& prefix) = 0;
  virtual bool link_exists(const std::string& name) = 0;
  // Creates Linux bridge 'name' unless it exists, and sets it up.
  virtual Status ensure_bridge(const std::string& name) = 0;
  // Creates the VLAN subinterface "<'physical'>.<'vlan'>" unless it exists,
  // and sets it up. Where the kernel has no 8021q the lab substitutes a veth
  // of the same name to a fabric access port of that VLAN.
  virtual Status ensure_vlan_interface(const std::string& physical, int vlan) = 0;
  // Enslaves 'device' to bridge 'bridge' (idempotent).
  virtual Status set_master(const std::string& device, const std::string& bridge) = 0;
  // The bridge 'device' is enslaved to, or "" when none.
  virtual StatusOr<std::string> master_of(const std::string& device) = 0;
  virtual Status set_up(const std::string& device) = 0;

  // VXLAN (linuxbridge agent with tunnel networks).
  // Creates 'device' unless a link of that name exists, and sets it up.
  virtual Status ensure_vxlan_interface(const VxlanDevice& device) = 0;
  // Adds forwarding entry 'entry' to vxlan 'device'; 'append' keeps other
  // destinations of the same mac (flooding entries), otherwise the entry
  // replaces any other destination of that mac.
  virtual Status fdb_add(const std::string& device, const VxlanFdbEntry& entry, bool append) = 0;
  // Deletes exactly 'entry' (mac and destination); a missing one is success.
  virtual Status fdb_delete(const std::string& device, const VxlanFdbEntry& entry) = 0;
  virtual StatusOr<std::vector<VxlanFdbEntry>> fdb_entries(const std::string& device) = 0;
  // `ip neigh replace <ip> lladdr <mac> dev <device> nud permanent`.
  virtual Status neigh_replace(const std::string& device, const std::string& ip, const std::string& mac) = 0;
  // `ip neigh del <ip> dev <device>`; a missing one is success.
  virtual Status neigh_delete(const std::string& device, const std::string& ip) = 0;
};

}  // namespace lmh::core
