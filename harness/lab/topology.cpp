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

bool Topology::has_ovn() const {
  for (const auto& h : hosts)
    if (h.backend == core::Backend::kOvn) return true;
  return false;
}

Status Topology::validate() const {
  // The lab's own namespaces are lmh-<run>-fabric and lmh-<run>-ovn.
  std::set<std::string> names = {"fabric", "ovn"};
  for (const auto& h : hosts)
    if (!names.insert(h.name).second) return invalid_argument("topology: host name " + h.name + " used twice or reserved");
  for (const auto& p : peers) {
    if (!names.insert(p.name).second) return invalid_argument("topology: name " + p.name + " used twice or reserved");
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
  // Every host that may carry a vxlan network's port has an endpoint.
  for (const auto& n : networks) {
    if (n.type != "vxlan") continue;
    for (const auto& h : hosts)
      if (!h.tunnel) return invalid_argument("topology: host " + h.name + " has no tunnel endpoint for vxlan network " + n.id);
  }
  for (const auto& h : hosts) {
    if ((h.backend == core::Backend::kOpenVswitch || h.backend == core::Backend::kOvn) && physnets.size() > 1)
      return invalid_argument("topology: OVS host " + h.name + " would need a bridge per physnet; lmh maps one");
    // ovn-controller encapsulates in Geneve between chassis, and a port
    // bound to two chassis during live migration is reached that way even
    // on a VLAN network.
    if (h.backend == core::Backend::kOvn && !h.tunnel)
      return invalid_argument("topology: OVN host " + h.name + " has no tunnel endpoint (its ovn-encap-ip)");
  }
  // Geneve is OVN's encapsulation; lmh's chassis encapsulate nothing else.
  auto check_port = [&](const std::string& what, const std::string& host_name, const std::string& network_id) {
    const TopologyHost* h = host(host_name);
    const TopologyNetwork* n = network(network_id);
    if (!h || !n) return ok_status();
    if (n->type == "geneve" && h->backend != core::Backend::kOvn)
      return invalid_argument("topology: " + what + " on geneve network " + n->id + " sits on host " + h->name +
                              ", which is not an OVN host");
    if (n->type == "vxlan" && h->backend == core::Backend::kOvn)
      return invalid_argument("topology: " + what + " on vxlan network " + n->id + " sits on OVN host " + h->name +
                              " (lmh's chassis encapsulate in Geneve)");
    return ok_status();
  };
  for (const auto& g : guests) LMH_RETURN_IF_ERROR(check_port("guest " + g.name, g.host, g.network_id));
  for (const auto& p : peers)
    if (!p.host.empty()) LMH_RETURN_IF_ERROR(check_port("peer " + p.name, p.host, p.network_id));
  // The underlay is an access VLAN of the fabric of its own.
  bool endpoints = false;
  for (const auto& h : hosts) endpoints = endpoints || h.tunnel.has_value();
  for (const auto& n : networks)
    if (endpoints && n.type == "vlan" && n.segmentation_id == underlay.vlan)
      return invalid_argument("topology: vlan network " + n.id + " uses the underlay's VLAN " +
                              std::to_string(underlay.vlan));
  return ok_status();
}

}  // namespace lmh::harness
