#include "harness/lab/topology.h"

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
    if (!p.host.empty() && !host(p.host)) return invalid_argument("topology: peer " + p.name + " on unknown host " + p.host);
    if (!p.host.empty() && (p.port_id.empty() || p.mac.empty()))
      return invalid_argument("topology: peer " + p.name + " on host " + p.host + " needs a port id and MAC");
    if (p.host.empty() && network(p.network_id)->is_tunnel())
      return invalid_argument("topology: peer " + p.name + " on tunnel network " + p.network_id +
                              " must sit on a host (the fabric only carries the underlay)");
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
  // Every host that may carry a tunnel network's port has an endpoint.
  for (const auto& n : networks) {
    if (!n.is_tunnel()) continue;
    for (const auto& h : hosts)
      if (!h.tunnel) return invalid_argument("topology: host " + h.name + " has no tunnel endpoint for vxlan network " + n.id);
  }
  for (const auto& h : hosts)
    if (h.backend == core::Backend::kOpenVswitch && physnets.size() > 1)
      return invalid_argument("topology: OVS host " + h.name + " would need a bridge per physnet; lmh maps one");
  return ok_status();
}

}  // namespace lmh::harness
