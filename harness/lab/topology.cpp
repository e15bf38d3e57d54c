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

}  // namespace lmh::harness
