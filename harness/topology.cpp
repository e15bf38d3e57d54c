#include "harness/topology.h"

#include <cctype>
#include <set>

namespace lmh::harness {

const TopologyHost* Topology::host(const std::string& name) const {
  for (const auto& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}

const TopologyNetwork* Topology::network(const std::string& id) const {
  for (const auto& n : networks)
    if (n.id == id) return &n;
  return nullptr;
}

Status Topology::validate() const {
  std::set<std::string> names;
  for (const auto& h : hosts)
    if (!names.insert(h.name).second) return invalid_argument("topology: host " + h.name + " twice");
  for (const auto& p : peers) {
    if (!names.insert(p.name).second) return invalid_argument("topology: name " + p.name + " used twice");
    if (!network(p.network_id)) return invalid_argument("topology: peer " + p.name + " on unknown network " + p.network_id);
  }
  std::set<std::string> ids;
  std::set<std::string> physnets;
  for (const auto& n : networks) {
    if (!ids.insert(n.id).second) return invalid_argument("topology: network " + n.id + " twice");
    physnets.insert(n.physnet);
  }
  for (const auto& g : guests) {
    if (!host(g.host)) return invalid_argument("topology: guest " + g.name + " on unknown host " + g.host);
    if (!network(g.network_id)) return invalid_argument("topology: guest " + g.name + " on unknown network " + g.network_id);
  }
  for (const auto& h : hosts)
    if (h.backend == core::Backend::kOpenVswitch && physnets.size() > 1)
      return invalid_argument("topology: OVS host " + h.name + " would need a bridge per physnet; lmh maps one");
  return ok_status();
}

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
