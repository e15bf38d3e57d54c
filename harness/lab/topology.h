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
};

struct TopologyHost {
  std::string name;                     // [a-z0-9]{1,8}: namespace lmh-<run>-<name>
  core::Backend backend = core::Backend::kLinuxBridge;
  std::string firewall_driver = "openvswitch";  // openvswitch: plain or "iptables_hybrid"
  std::string physical_interface = "eth1";      // the NIC, a trunk to the fabric
};

struct TopologyNetwork {
  std::string id;             // neutron network UUID
  std::string type = "vlan";  // "vlan" | "flat"
  std::string physnet = "physnet1";
  int segmentation_id = 0;    // the VLAN of a vlan network
  std::string cidr;           // "198.18.0.0/24"
  // The fabric VLAN its frames travel in (0: untagged, a flat network).
  int fabric_vlan() const { return type == "vlan" ? segmentation_id : 0; }
  // "/24" of the cidr.
  std::string prefix_length() const { return cidr.substr(cidr.find('/')); }
};

// A namespace on the fabric with one address on a network: the gateway
// that probes the guests.
struct TopologyPeer {
  std::string name = "peer";  // namespace lmh-<run>-<name>, fabric port <name>
  std::string network_id;
  std::string ip;
  NeighTimers neigh;
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
  // Each host runs a libvirtd of its own (the real guest tier); its QEMU
  // cache (capabilities probe) lives in 'libvirt_cache_dir'.
  bool libvirt = false;
  std::string libvirt_cache_dir;

  const TopologyHost* host(const std::string& name) const;
  const TopologyNetwork* network(const std::string& id) const;
  // Ok, or kInvalidArgument naming what is inconsistent: duplicate names,
  // a guest or peer on an unknown host or network, networks of an OVS host
  // on more than one physnet (it maps one physnet to br-ex).
  Status validate() const;
};

}  // namespace lmh::harness
