// The lab as plain data, as Mininet's Topo: compute hosts (each with its
// backend and physical NIC), networks, the peers that probe the guests, the
// guests placed on hosts, and the fabric switch. A scenario file, a test or
// a cloud's configuration files build one; Lab turns it into kernel objects
// in order and tears them down in reverse. Nothing here touches the system.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/backend.h"

namespace lmh::harness {

// Linux neighbour (ARP) timers of the peer namespace. They decide how soon a
// peer whose pings go unanswered re-resolves the guest by broadcast, which is
// one of the ways a stale fabric entry gets corrected (seed 001).
struct NeighTimers {
  int base_reachable_time_ms = 30000;
  int delay_first_probe_time_s = 5;
  int retrans_time_ms = 1000;
  int ucast_solicit = 3;
  int mcast_solicit = 3;

  bool operator==(const NeighTimers&) const = default;
};

// A host's tunnel endpoint and its agent's tunnel settings (linuxbridge
// [vxlan]: l2_population, arp_responder, udp_dstport, vxlan_group).
struct TopologyTunnel {
  std::string local_ip;  // on the underlay VLAN, "198.19.0.11"
  bool l2_population = true;
  bool arp_responder = false;
  int udp_dstport = 0;  // 0: the kernel's default (8472)
  std::string vxlan_group = "239.1.1.1";
};

struct TopologyHost {
  std::string name;                     // [a-z0-9]{1,8}: namespace lmh-<run>-<name>
  core::Backend backend = core::Backend::kLinuxBridge;
  std::string firewall_driver = "openvswitch";  // openvswitch: plain or "iptables_hybrid"
  std::string physical_interface = "eth1";      // the NIC, a trunk to the fabric
  std::optional<TopologyTunnel> tunnel{};       // a tunnel endpoint on the underlay
};

// Where tunnel endpoints meet: a VLAN of the fabric, each endpoint on the
// host's "<physical_interface>.<vlan>".
struct TopologyUnderlay {
  int vlan = 4000;
  std::string prefix_length = "/24";
};

struct TopologyNetwork {
  std::string id;             // neutron network UUID
  std::string type = "vlan";  // "vlan" | "flat" | "vxlan" | "geneve" (OVN hosts only)
  std::string physnet = "physnet1";
  int segmentation_id = 0;    // the VLAN of a vlan network, the VNI of a vxlan one
  std::string cidr;           // "198.18.0.0/24"
  int underlay_vlan = 0;      // a tunnel network: the underlay's VLAN
  // The fabric VLAN its frames travel in (0: untagged, a flat network; a
  // tunnel network's frames travel encapsulated in the underlay's).
  int fabric_vlan() const { return type == "vlan" ? segmentation_id : is_tunnel() ? underlay_vlan : 0; }
  bool is_tunnel() const { return type == "vxlan" || type == "geneve"; }
  // "/24" of the cidr.
  std::string prefix_length() const { return cidr.substr(cidr.find('/')); }
};

// A namespace with one address on a network, which probes the guests: on
// the fabric (the network's gateway), or, when 'host' is set, a port of the
// network on that compute host (its eth0's other end is the host's tap
// "tap<port_id[:11]>", which the host's agent plugs as it would a VM's).
struct TopologyPeer {
  std::string name = "peer";  // namespace lmh-<run>-<name>, fabric port <name>
  std::string network_id;
  std::string ip;
  NeighTimers neigh;
  std::string host;     // "" on the fabric
  std::string port_id;  // on a host: its neutron port
  std::string mac;      // on a host: eth0's MAC (the port's)
};

// A VM placed on a host at boot, with one port on a network.
struct TopologyGuest {
  std::string name;
  std::string instance_uuid;
  std::string port_id;
  std::string mac;
  std::string ip;
  std::string host;
  std::string network_id;
  int memory_mb = 128;
};

struct Topology {
  std::vector<TopologyHost> hosts;
  std::vector<TopologyNetwork> networks;
  std::vector<TopologyPeer> peers;
  std::vector<TopologyGuest> guests;
  int fabric_mac_ageing_s = 300;
  TopologyUnderlay underlay;  // used when a host has a tunnel endpoint
  // Each host runs a libvirtd of its own (the real guest tier); its QEMU
  // cache (capabilities probe) lives in 'libvirt_cache_dir'.
  bool libvirt = false;
  std::string libvirt_cache_dir;

  const TopologyHost* host(const std::string& name) const;
  const TopologyNetwork* network(const std::string& id) const;
  // Ok, or kInvalidArgument naming what is inconsistent: duplicate names
  // (or a host or peer named "fabric" or "ovn", the lab's own namespaces),
  // a guest or peer on an unknown host or network, networks of an OVS or
  // OVN host on more than one physnet (it maps one physnet to br-ex), a
  // vxlan network with a host without a tunnel endpoint, an OVN host
  // without one (every ML2/OVN chassis has an ovn-encap-ip: live migration
  // tunnels even VLAN traffic), a guest or peer of a geneve network on a
  // host that is not OVN (or of a vxlan network on one that is), an
  // underlay VLAN that is also a vlan network's.
  Status validate() const;
  // Does any host run ML2/OVN (the lab then runs OVN's central daemons)?
  bool has_ovn() const;
};

}  // namespace lmh::harness
