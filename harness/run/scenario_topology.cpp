#include "harness/run/scenario_topology.h"

#include <cctype>
#include <string>

namespace lmh::harness {

namespace {

// The same shape with the first hex digit moved on, so the first 11
// characters (device names) differ too.
std::string derive_id(std::string id) {
  static const std::string hex = "0123456789abcdef";
  auto pos = hex.find(static_cast<char>(std::tolower(id[0])));
  id[0] = hex[(pos == std::string::npos ? 0 : pos + 1) % 16];
  return id;
}

}  // namespace

Topology topology_of(const Scenario& sc) {
  Topology t;
  const bool tunnel = sc.network.type == "vxlan" || sc.network.type == "geneve";
  // Host i's endpoint: .11 + i of the underlay's /24.
  const std::string underlay_base = sc.underlay.cidr.substr(0, sc.underlay.cidr.rfind('.') + 1);
  for (size_t i = 0; i < sc.hosts.size(); ++i) {
    const HostSpec& h = sc.hosts[i];
    TopologyHost th{h.name, h.backend, h.firewall_driver, h.physical_interface, std::nullopt};
    // An OVN chassis always has one (its ovn-encap-ip): a port bound to two
    // chassis during live migration is tunnelled even on a VLAN network.
    if (tunnel || h.backend == core::Backend::kOvn)
      th.tunnel = TopologyTunnel{underlay_base + std::to_string(11 + i), h.agent.l2_population,
                                 h.agent.arp_responder, h.agent.udp_dstport, sc.agent.vxlan_group};
    t.hosts.push_back(th);
  }
  t.underlay.vlan = sc.underlay.vlan;
  t.networks.push_back({sc.network.id, sc.network.type, sc.network.physnet,
                        sc.network.type == "flat" ? 0 : sc.network.segmentation_id, sc.network.cidr,
                        tunnel ? sc.underlay.vlan : 0});
  TopologyPeer peer{"peer", sc.network.id, sc.peer.ip, sc.peer.neigh, sc.peer.host, "", ""};
  if (!peer.host.empty()) {
    // A port of its own, named apart from the guest's and the bystander's.
    peer.port_id = derive_id(derive_id(sc.guest.port_id));
    peer.mac = sc.guest.mac.substr(0, sc.guest.mac.size() - 2) + "fe";
  }
  t.peers.push_back(peer);
  const GuestSpec& g = sc.guest;
  t.guests.push_back(
      {g.name, g.instance_uuid, g.port_id, g.mac, g.ip, sc.migration.source, sc.network.id, g.memory_mb});
  if (sc.warm_destination) {
    // A bystander on the destination that made the agent build bridge and
    // uplink there before.
    std::string mac = g.mac;
    mac.back() = mac.back() == '0' ? '1' : '0';
    t.guests.push_back({"warm", derive_id(g.instance_uuid), derive_id(g.port_id), mac, sc.bystander_ip(),
                        sc.migration.destination, sc.network.id, g.memory_mb});
  }
  t.fabric_mac_ageing_s = sc.fabric.mac_ageing_s;
  t.libvirt = sc.tier == Tier::kLibvirt;
  return t;
}

}  // namespace lmh::harness
