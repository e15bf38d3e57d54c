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
  for (const auto& h : sc.hosts) t.hosts.push_back({h.name, h.backend, h.firewall_driver, h.physical_interface});
  t.networks.push_back({sc.network.id, sc.network.type, sc.network.physnet,
                        sc.network.type == "vlan" ? sc.network.segmentation_id : 0, sc.network.cidr});
  t.peers.push_back({"peer", sc.network.id, sc.peer.ip, sc.peer.neigh});
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
