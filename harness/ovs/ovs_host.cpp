#include "harness/ovs/ovs_host.h"

#include <arpa/inet.h>

#include <set>

#include "harness/system/netlink.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"

namespace lmh::harness {

namespace {

// 'prefix' ("/24") as a prefix length, or -1 unless "/0".."/32".
int prefix_bits(const std::string& prefix) {
  if (prefix.size() < 2 || prefix.size() > 3 || prefix[0] != '/') return -1;
  if (prefix.find_first_not_of("0123456789", 1) != std::string::npos) return -1;
  int bits = std::stoi(prefix.substr(1));
  return bits <= 32 ? bits : -1;
}

// The subnet of 'ip' with 'prefix' (validated), "198.19.0.0/24", as
// ovs-router prints it.
std::string subnet_of(const std::string& ip, const std::string& prefix) {
  in_addr a{};
  inet_pton(AF_INET, ip.c_str(), &a);
  int bits = prefix_bits(prefix);
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  a.s_addr = htonl(ntohl(a.s_addr) & mask);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf + prefix;
}

Status validate_tunnel(const OvsHost::Options& o) {
  const auto& t = *o.tunnel;
  in_addr a{};
  if (inet_pton(AF_INET, t.local_ip.c_str(), &a) != 1)
    return invalid_argument("tunnel endpoint: local_ip '" + t.local_ip + "' is not an IPv4 address");
  if (prefix_bits(t.prefix_length) < 0) return invalid_argument("tunnel endpoint: prefix length '" + t.prefix_length + "'");
  if (t.vlan < 0 || t.vlan > 4094) return invalid_argument("tunnel endpoint: VLAN " + std::to_string(t.vlan));
  for (const auto& [physnet, bridge] : o.bridge_mappings)
    if (bridge == t.bridge) return ok_status();
  return invalid_argument("tunnel endpoint on " + t.bridge + ", which no physical network maps to");
}

}  // namespace

Status OvsHost::validate(const Options& o) {
  for (const auto& [physnet, bridge] : o.bridge_mappings) {
    if (bridge == o.integration_bridge)
      return invalid_argument("physical network " + physnet + " is mapped to the integration bridge " + bridge);
  }
  for (const auto& [bridge, nic] : o.nic_for_bridge) {
    bool mapped = false;
    for (const auto& [physnet, b] : o.bridge_mappings) mapped = mapped || b == bridge;
    if (!mapped) return invalid_argument("NIC " + nic + " is for " + bridge + ", which no physical network maps to");
  }
  return o.tunnel ? validate_tunnel(o) : ok_status();
}

StatusOr<std::unique_ptr<OvsHost>> OvsHost::start(const Options& o) {
  auto started = std::chrono::steady_clock::now();
  LMH_RETURN_IF_ERROR(validate(o));
  std::unique_ptr<OvsHost> host(new OvsHost(o));
  OvsDaemons::Options daemons;
  daemons.state_dir = o.state_dir;
  daemons.netns_fd = o.netns_fd;
  daemons.userspace_only = o.datapath_type == "netdev";
  daemons.timeout = o.ovsdb_timeout;
  auto d = OvsDaemons::start(daemons);
  if (!d.ok()) return d.status();
  host->daemons_ = std::move(d).value();

  OvsdbIdlDatabase::Options idl;
  idl.db_socket = host->daemons_->db_socket();
  idl.run_dir = host->daemons_->run_dir();
  idl.integration_bridge = o.integration_bridge;
  idl.timeout = o.ovsdb_timeout;
  if (o.controller == Controller::kOvn) {
    // No neutron patch ports or br-tun to name: ovn-controller names its own.
    host->db_ = std::make_unique<OvsdbIdlDatabase>(idl);
    LMH_RETURN_IF_ERROR(host->build_ovn_bridges().with_context("OVS bridges in " + o.state_dir));
  } else {
    for (const auto& [physnet, bridge] : o.bridge_mappings) idl.physnets[physnet] = neutron_physnet_bridge(bridge);
    if (o.tunnel) idl.tunnel = TunnelBridge{};
    host->db_ = std::make_unique<OvsdbIdlDatabase>(idl);
    LMH_RETURN_IF_ERROR(host->build_bridges().with_context("OVS bridges in " + o.state_dir));
    if (o.tunnel) LMH_RETURN_IF_ERROR(host->build_tunnel_bridge().with_context("OVS tunnel bridge in " + o.state_dir));
  }
  host->bringup_time_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return host;
}

OvsHost::~OvsHost() = default;

// What the OVS agent does at start (setup_integration_br,
// setup_physical_bridges), with the NIC on the physical bridge as an
// operator puts it there.
Status OvsHost::build_bridges() {
  OvsdbIdlDatabase& db = *db_;
  const std::string& br_int = options_.integration_bridge;
  LMH_RETURN_IF_ERROR(db.ensure_bridge(br_int, options_.datapath_type));
  LMH_RETURN_IF_ERROR(db.configure_bridge(br_int, "secure"));
  for (const auto& [physnet, phys] : db.options().physnets) {
    LMH_RETURN_IF_ERROR(db.ensure_bridge(phys.bridge, options_.datapath_type));
    LMH_RETURN_IF_ERROR(db.configure_bridge(phys.bridge, "secure"));
    auto nic = options_.nic_for_bridge.find(phys.bridge);
    if (nic != options_.nic_for_bridge.end()) {
      // A trunk: no tag, every VLAN passes.
      LMH_RETURN_IF_ERROR(db.add_port(phys.bridge, nic->second, {}, std::nullopt).with_context("NIC " + nic->second));
    }
    LMH_RETURN_IF_ERROR(db.add_patch_pair(br_int, phys.int_patch_port, phys.bridge, phys.phys_patch_port));
  }
  return db.install_base_flows();
}

// An ML2/OVN compute as its installer leaves it: br-int in fail_mode secure
// (as devstack creates it; ovn-controller sets it anyway), so nothing
// crosses it before ovn-controller's flows; each physical bridge in
// standalone mode, where ovs-vswitchd forwards NORMAL by itself, with its
// NIC as a trunk (ovn-controller's localnet patch port tags its frames);
// and the tunnel endpoint, which Geneve needs even on VLAN networks.
Status OvsHost::build_ovn_bridges() {
  OvsdbIdlDatabase& db = *db_;
  LMH_RETURN_IF_ERROR(db.ensure_bridge(options_.integration_bridge, options_.datapath_type));
  LMH_RETURN_IF_ERROR(db.configure_bridge(options_.integration_bridge, "secure"));
  std::set<std::string> bridges;
  for (const auto& [physnet, bridge] : options_.bridge_mappings) bridges.insert(bridge);
  for (const std::string& bridge : bridges) {
    LMH_RETURN_IF_ERROR(db.ensure_bridge(bridge, options_.datapath_type));
    LMH_RETURN_IF_ERROR(db.configure_bridge(bridge, "standalone"));
    auto nic = options_.nic_for_bridge.find(bridge);
    if (nic != options_.nic_for_bridge.end())
      LMH_RETURN_IF_ERROR(db.add_port(bridge, nic->second, {}, std::nullopt).with_context("NIC " + nic->second));
  }
  if (!options_.tunnel) return ok_status();
  return build_underlay().with_context("tunnel endpoint " + options_.tunnel->local_ip);
}

// The agent's setup_tunnel_br: br-tun, its patch pair to br-int (a trunk
// on both ends: br-int's NORMAL hands it frames tagged with the local VLAN)
// and its tables; then the underlay the tunnel ports will use.
Status OvsHost::build_tunnel_bridge() {
  OvsdbIdlDatabase& db = *db_;
  const TunnelBridge& tun = *db.options().tunnel;
  LMH_RETURN_IF_ERROR(db.ensure_bridge(tun.bridge, options_.datapath_type));
  LMH_RETURN_IF_ERROR(db.configure_bridge(tun.bridge, "secure"));
  LMH_RETURN_IF_ERROR(
      db.add_patch_pair(options_.integration_bridge, tun.int_patch_port, tun.bridge, tun.tun_patch_port));
  LMH_RETURN_IF_ERROR(db.install_tunnel_base_flows());
  return build_underlay().with_context("tunnel endpoint " + options_.tunnel->local_ip);
}

// local_ip on the physical bridge's internal port (the tap device
// ovs-vswitchd made for it in the namespace), that port an access port of
// the underlay VLAN: NORMAL then carries the encapsulated frames tagged
// over the NIC's trunk, and hands frames of that VLAN to the port, where
// ovs-vswitchd pops the tunnel of those addressed to local_ip.
Status OvsHost::build_underlay() {
  const auto& t = *options_.tunnel;
  if (t.vlan > 0) LMH_RETURN_IF_ERROR(db_->set_tag(t.bridge, t.vlan));
  auto nl = Netlink::open(options_.netns_fd);
  if (!nl.ok()) return nl.status();
  LMH_RETURN_IF_ERROR((*nl)->add_address(t.bridge, t.local_ip + t.prefix_length));
  LMH_RETURN_IF_ERROR((*nl)->set_up(t.bridge));
  return wait_for_underlay_route();
}

// ovs-vswitchd (ovs-router) takes its routes from the namespace's kernel
// table through netlink notifications, in its own main loop; without the
// underlay's subnet route, tunnel output fails ("native tunnel routing
// failed") and the packet is dropped. The route goes while the internal
// port is down and comes back with it; tunnel ports need no re-adding.
// Waits until `ovs-appctl ovs/route/show` lists it (here it always did at
// the first look).
Status OvsHost::wait_for_underlay_route() {
  const auto& t = *options_.tunnel;
  const std::string want = subnet_of(t.local_ip, t.prefix_length) + " dev " + t.bridge + " SRC " + t.local_ip;
  std::string routes;
  bool routed = wait_until(
      [&] {
        auto out = run_checked({"ovs-appctl", "-t", daemons_->vswitchd_ctl(), "ovs/route/show"}, options_.ovsdb_timeout);
        routes = out.ok() ? *out : out.status().to_string();
        return routes.find(want) != std::string::npos;
      },
      options_.ovsdb_timeout, std::chrono::milliseconds(10));
  if (!routed) return deadline_exceeded("ovs-vswitchd has no route '" + want + "': " + routes);
  return ok_status();
}

Status OvsHost::set_tunnel_neighbour(const std::string& ip, const std::string& mac) {
  if (!options_.tunnel) return failed_precondition("no tunnel endpoint on " + options_.state_dir);
  auto out = run_checked({"ovs-appctl", "-t", daemons_->vswitchd_ctl(), "tnl/neigh/set", options_.tunnel->bridge, ip, mac},
                         options_.ovsdb_timeout);
  return out.ok() ? ok_status() : out.status().with_context("tunnel neighbour " + ip);
}

}  // namespace lmh::harness
