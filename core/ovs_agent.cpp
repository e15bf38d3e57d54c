#include "core/ovs_agent.h"

#include "core/fault_hooks.h"

#include "core/l2_backend.h"
#include "core/mechanism_driver.h"
#include "core/names.h"
#include "core/os_vif_ovs.h"

namespace lmh::core {

namespace {

using faults::ActionKind;

const auto kAgentOvsPortUp = faults::define_fault_point({
    .name = "agent.ovs.port_up",
    .description = "OVS agent sees a br-int port with external_ids:iface-id, tags it, reports it up",
    .actions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail},
    .phase = faults::MigrationPhase::kAgent,
    .loses_vif_plugged = {ActionKind::kDrop},  // the server never hears the port is up
    .needs_backend = "openvswitch",
});

}  // namespace

namespace {

std::string short_id(const std::string& id) { return id.substr(0, kDeviceIdLen); }

// Segments whose traffic leaves through a physical bridge of bridge_mappings.
bool uses_physical_bridge(const std::string& network_type) {
  return network_type == "flat" || network_type == "vlan";
}

}  // namespace

OvsAgent::OvsAgent(OvsAgentConfig config, OvsDatabase& ovs, NeutronServer& neutron, EventLoop& loop,
                   Timeline& timeline)
    : config_(std::move(config)), ovs_(ovs), neutron_(neutron), loop_(loop), timeline_(timeline) {}

OvsAgent::~OvsAgent() { stop(); }

void OvsAgent::start() {
  if (running_) return;
  running_ = true;
  // setup_integration_br: the agent creates br-int when it is missing.
  const std::string& br = config_.integration_bridge;
  if (!ovs_.bridge_exists(br)) {
    timeline_.record(source(), "setup integration bridge " + br);
    Status s = ovs_.ensure_bridge(br, config_.datapath_type);
    if (!s.ok()) timeline_.record(source(), "setup integration bridge " + br + " failed: " + s.to_string());
  }
  timer_ = loop_.post([this] { poll(); });
}

void OvsAgent::stop() {
  if (!running_) return;
  running_ = false;
  loop_.cancel(timer_);
}

void OvsAgent::binding_activate(const std::string& port_id, const std::string& host) {
  if (host != config_.host) return;
  retry_.insert(port_id);
  timeline_.record(source(), "binding_activate " + tap_name(port_id) + " (next poll)");
}

void OvsAgent::binding_deactivate(const std::string& port_id, const std::string& host) {
  if (host != config_.host) return;
  deactivated_.insert(port_id);
  timeline_.record(source(), "binding_deactivate " + tap_name(port_id) + " (next poll)");
}

std::optional<int> OvsAgent::local_vlan(const std::string& network_id) const {
  auto it = vlans_.find(network_id);
  if (it == vlans_.end()) return std::nullopt;
  return it->second.vlan;
}

StatusOr<std::map<std::string, OvsPort>> OvsAgent::scan_ports() {
  auto ports = ovs_.list_ports(config_.integration_bridge);
  if (!ports.ok()) return ports.status();
  std::map<std::string, OvsPort> out;
  for (auto& p : *ports) {
    // get_vif_port_set: only interfaces that name a neutron port.
    auto id = p.external_ids.find("iface-id");
    if (id == p.external_ids.end() || id->second.empty()) continue;
    std::string port_id = id->second;
    out.emplace(std::move(port_id), std::move(p));
  }
  return out;
}

void OvsAgent::poll() {
  last_poll_ = loop_.now();
  auto scanned = scan_ports();
  if (!scanned.ok()) {
    timeline_.record(source(), "poll failed: " + scanned.status().to_string());
  } else {
    std::map<std::string, OvsPort>& current = *scanned;
    process_deactivated_bindings(current);
    // treat_devices_removed: ports that left the bridge.
    for (auto it = bound_.begin(); it != bound_.end();) {
      if (current.count(*it)) {
        ++it;
        continue;
      }
      timeline_.record(source(), "device removed " + tap_name(*it));
      neutron_.update_device_down(tap_name(*it), config_.host);
      port_unbound(*it);
      retry_.erase(*it);
      it = bound_.erase(it);
    }
    // An activation or a skip for a port no longer here is dropped.
    std::erase_if(retry_, [&](const std::string& id) { return !current.count(id); });
    std::erase_if(skipped_logged_, [&](const std::string& id) { return !current.count(id); });
    // treat_devices_added_or_updated: new ports, and bound ones to redo.
    for (const auto& [port_id, port] : current) {
      if (bound_.count(port_id) && !retry_.count(port_id)) continue;
      if (treat_device_added_or_updated(port_id, port)) retry_.erase(port_id);
    }
  }
  if (running_) timer_ = loop_.post_after(config_.polling_interval, [this] { poll(); });
}

void OvsAgent::process_deactivated_bindings(std::map<std::string, OvsPort>& current) {
  for (const auto& port_id : deactivated_) {
    auto it = current.find(port_id);
    if (it == current.end()) continue;
    Status s = ovs_.delete_port(it->second.name);
    if (!s.ok()) {
      timeline_.record(source(), "unplug " + it->second.name + " failed: " + s.to_string());
      continue;
    }
    timeline_.record(source(), "unplug " + it->second.name + " from " + config_.integration_bridge +
                                   ": binding deactivated");
    current.erase(it);
  }
  deactivated_.clear();
}

bool OvsAgent::treat_device_added_or_updated(const std::string& port_id, const OvsPort& port) {
  // The server finds the port from the device name; as for the linuxbridge
  // agent ours is the tap name derived from the port id.
  const std::string device = tap_name(port_id);
  DeviceDetails details = neutron_.get_device_details(device, config_.host, config_.honour_migrating_to);
  if (details.kind != DeviceDetails::Kind::kDetails) {
    // Asked again at every poll; logged once so the timeline shows the wait.
    if (skipped_logged_.insert(port_id).second) {
      timeline_.record(source(), "skip " + device + (details.kind == DeviceDetails::Kind::kNoActiveBinding
                                                         ? ": NO_ACTIVE_BINDING"
                                                         : ": not defined on plugin"));
    }
    port_dead(port);
    return false;
  }
  Status s = port_bound(port_id, port, details);
  if (!s.ok()) {
    timeline_.record(source(), "bind " + port.name + " failed: " + s.to_string());
    return false;
  }
  // agent.ovs.port_up: the report to the server can fail (retried at the
  // next poll), be lost, or arrive late.
  faults::Decision d = consult_fault(config_.faults, timeline_, kAgentOvsPortUp);
  if (d.kind == faults::ActionKind::kFail) return false;
  skipped_logged_.erase(port_id);
  bound_.insert(port_id);
  if (d.kind == faults::ActionKind::kDrop) {
    timeline_.record(source(), "device up " + device + " lost");
    return true;
  }
  if (d.kind == faults::ActionKind::kDelay) {
    std::string host = config_.host;
    loop_.post_after(d.delay, [this, device, host] {
      neutron_.update_device_up(device, host);
      timeline_.record(source(), "device up " + device);
    });
    return true;
  }
  if (d.fires()) fault_not_supported(timeline_, kAgentOvsPortUp, d);
  neutron_.update_device_up(device, config_.host);
  timeline_.record(source(), "device up " + device);
  return true;
}

Status OvsAgent::port_bound(const std::string& port_id, const OvsPort& port, const DeviceDetails& d) {
  auto previous = port_network_.find(port_id);
  if (previous != port_network_.end() && previous->second != d.network_id) port_unbound(port_id);
  auto lvm = provision_local_vlan(d);
  if (!lvm.ok()) return lvm.status();
  const int vlan = (*lvm)->vlan;
  (*lvm)->ports.insert(port_id);
  port_network_[port_id] = d.network_id;
  if (port.tag != vlan) {
    Status s = ovs_.set_tag(port.name, vlan);
    if (!s.ok()) {
      port_unbound(port_id);  // do not keep the network's VLAN for a port not on it
      return s.with_context("set tag " + std::to_string(vlan) + " on " + port.name);
    }
    timeline_.record(source(), "set tag " + port.name + " " + std::to_string(vlan));
  }
  return ok_status();
}

void OvsAgent::port_unbound(const std::string& port_id) {
  auto it = port_network_.find(port_id);
  if (it == port_network_.end()) return;
  const std::string network_id = it->second;
  port_network_.erase(it);
  auto lvm = vlans_.find(network_id);
  if (lvm == vlans_.end()) return;
  lvm->second.ports.erase(port_id);
  if (lvm->second.ports.empty()) reclaim_local_vlan(network_id);
}

void OvsAgent::port_dead(const OvsPort& port) {
  if (!port.tag || *port.tag == kDeadVlanTag) return;
  Status s = ovs_.set_tag(port.name, kDeadVlanTag);
  timeline_.record(source(), "port dead " + port.name + (s.ok() ? "" : " failed: " + s.to_string()));
}

std::optional<int> OvsAgent::lowest_free_vlan() const {
  for (int v = kMinLocalVlan; v <= kMaxLocalVlan; ++v) {
    if (!used_vlans_.count(v)) return v;
  }
  return std::nullopt;
}

StatusOr<OvsAgent::LocalVlanMapping*> OvsAgent::provision_local_vlan(const DeviceDetails& d) {
  auto existing = vlans_.find(d.network_id);
  if (existing != vlans_.end()) return &existing->second;
  auto vlan = lowest_free_vlan();
  if (!vlan) return unavailable("no local VLAN available for network " + d.network_id);
  LocalVlanMapping m;
  m.vlan = *vlan;
  m.network_type = d.network_type;
  m.physnet = d.physnet;
  m.segmentation_id = d.segmentation_id;
  const std::string what = "local vlan " + std::to_string(m.vlan) + " net " + short_id(d.network_id) + " " +
                           d.network_type + " " + d.physnet + " " + std::to_string(d.segmentation_id);
  if (!can_provision(d.network_type, d.physnet)) {
    // As neutron: an error in the log, no flows, and the port is still
    // bound and reported up (the server would not have bound it here).
    timeline_.record(source(), "cannot provision " + what +
                                   (uses_physical_bridge(d.network_type)
                                        ? ": no bridge for physical_network " + d.physnet
                                        : ": tunneling disabled"));
  } else if (d.network_type != "local") {
    LMH_RETURN_IF_ERROR(ovs_.provision_local_vlan(m.vlan, d.physnet, d.network_type, d.segmentation_id)
                            .with_context("provision_local_vlan " + std::to_string(m.vlan)));
    timeline_.record(source(), "provision " + what);
  }
  used_vlans_.insert(m.vlan);
  return &vlans_.emplace(d.network_id, std::move(m)).first->second;
}

void OvsAgent::reclaim_local_vlan(const std::string& network_id) {
  auto it = vlans_.find(network_id);
  if (it == vlans_.end()) return;
  const LocalVlanMapping& m = it->second;
  const std::string what = "local vlan " + std::to_string(m.vlan) + " net " + short_id(network_id);
  if (m.network_type != "local" && can_provision(m.network_type, m.physnet)) {
    Status s = ovs_.reclaim_local_vlan(m.vlan, m.physnet, m.network_type, m.segmentation_id);
    // The VLAN is freed either way: a later provision reprograms its flows.
    timeline_.record(source(), "reclaim " + what + (s.ok() ? "" : " failed: " + s.to_string()));
  } else {
    timeline_.record(source(), "reclaim " + what);
  }
  const std::set<std::string> flood_ips = m.flood_ips;
  used_vlans_.erase(m.vlan);
  vlans_.erase(it);
  // As neutron's reclaim: tunnel ports only this network flooded to go.
  for (const auto& ip : flood_ips) cleanup_tunnel_port(ip);
}

bool OvsAgent::can_provision(const std::string& network_type, const std::string& physnet) const {
  if (uses_physical_bridge(network_type)) return config_.bridge_mappings.count(physnet) > 0;
  if (network_type == "vxlan") return config_.tunnel.enable_vxlan;
  return true;
}

void OvsAgent::fdb_update(FdbOperation op, const NetworkFdb& fdb) {
  auto lvm = vlans_.find(fdb.network_id);
  if (!config_.tunnel.l2_population || lvm == vlans_.end() || fdb.network_type != "vxlan" ||
      !config_.tunnel.enable_vxlan)
    return;
  const char* what = fdb_operation_name(op);
  for (const auto& [remote_ip, entries] : fdb.ports) {
    if (remote_ip == config_.tunnel.local_ip) continue;  // our own ports
    Status s = op == FdbOperation::kAdd ? fdb_add_tun(lvm->second, remote_ip, entries)
                                        : fdb_remove_tun(lvm->second, remote_ip, entries);
    if (!s.ok()) timeline_.record(source(), std::string(what) + " " + remote_ip + " failed: " + s.to_string());
  }
  timeline_.record(source(), std::string(what) + " br-tun {" + describe_fdb(fdb) + "}");
}

Status OvsAgent::fdb_add_tun(LocalVlanMapping& lvm, const std::string& remote_ip,
                             const std::vector<FdbPortInfo>& entries) {
  LMH_RETURN_IF_ERROR(ensure_tunnel_port(remote_ip));
  const std::string port = ovs_tunnel_port_name(remote_ip);
  for (const auto& e : entries) {
    if (e.is_flooding()) {
      lvm.flood_ips.insert(remote_ip);
      LMH_RETURN_IF_ERROR(set_flooding(lvm));
      continue;
    }
    if (config_.tunnel.arp_responder) LMH_RETURN_IF_ERROR(ovs_.install_arp_responder(lvm.vlan, e.ip, e.mac));
    LMH_RETURN_IF_ERROR(ovs_.install_unicast_to_tunnel(lvm.vlan, lvm.segmentation_id, port, e.mac));
  }
  return ok_status();
}

Status OvsAgent::fdb_remove_tun(LocalVlanMapping& lvm, const std::string& remote_ip,
                                const std::vector<FdbPortInfo>& entries) {
  if (!tunnel_ports_.count(remote_ip)) return ok_status();
  for (const auto& e : entries) {
    if (e.is_flooding()) {
      if (lvm.flood_ips.erase(remote_ip)) LMH_RETURN_IF_ERROR(set_flooding(lvm));
      continue;
    }
    // By VLAN and mac (and ip) only: a late remove of the old location
    // takes the new location's entry with it.
    if (config_.tunnel.arp_responder) LMH_RETURN_IF_ERROR(ovs_.delete_arp_responder(lvm.vlan, e.ip));
    LMH_RETURN_IF_ERROR(ovs_.delete_unicast_to_tunnel(lvm.vlan, e.mac));
  }
  cleanup_tunnel_port(remote_ip);
  return ok_status();
}

Status OvsAgent::ensure_tunnel_port(const std::string& remote_ip) {
  if (tunnel_ports_.count(remote_ip)) return ok_status();
  const VxlanConfig& t = config_.tunnel;
  OvsTunnelPort port{ovs_tunnel_port_name(remote_ip), remote_ip, t.local_ip,
                     t.udp_dstport ? t.udp_dstport : OvsAgentConfig::kDefaultVxlanUdpPort};
  if (port.name.empty()) return invalid_argument("tunnel endpoint '" + remote_ip + "' is not an IPv4 address");
  LMH_RETURN_IF_ERROR(ovs_.add_tunnel_port(port).with_context("tunnel port " + port.name));
  tunnel_ports_.insert(remote_ip);
  timeline_.record(source(), "setup tunnel port " + port.name + " remote " + remote_ip + " dst_port " +
                                 std::to_string(port.dst_port));
  return ok_status();
}

void OvsAgent::cleanup_tunnel_port(const std::string& remote_ip) {
  if (!tunnel_ports_.count(remote_ip)) return;
  for (const auto& [id, lvm] : vlans_) {
    if (lvm.flood_ips.count(remote_ip)) return;
  }
  const std::string name = ovs_tunnel_port_name(remote_ip);
  Status s = ovs_.delete_tunnel_port(name);
  tunnel_ports_.erase(remote_ip);
  timeline_.record(source(), "cleanup tunnel port " + name + (s.ok() ? "" : " failed: " + s.to_string()));
}

Status OvsAgent::set_flooding(const LocalVlanMapping& lvm) {
  std::vector<std::string> ports;
  for (const auto& ip : lvm.flood_ips) ports.push_back(ovs_tunnel_port_name(ip));
  return ovs_.set_flood_to_tunnels(lvm.vlan, lvm.segmentation_id, ports);
}

std::string OvsAgent::wiring_problem(const Vif& vif, HostNetwork& net) {
  const std::string& host = config_.host;
  const std::string& port_id = vif.port_id;
  if (vif.vif_type != "ovs")
    return "port " + port_id + " bound as " + vif.vif_type + " on " + host + ", which runs the openvswitch agent";
  const std::string tap = tap_name(port_id);
  const bool hybrid = is_hybrid_plug(vif);
  if (hybrid) {
    auto master = net.master_of(tap);
    if (!master.ok() || *master != hybrid_bridge_name(port_id))
      return tap + " on " + host + " is not in " + hybrid_bridge_name(port_id);
  }
  const std::string dev = hybrid ? hybrid_ovs_veth(port_id) : tap;
  auto it = vif.details.find("bridge_name");
  const std::string want = it == vif.details.end() ? "br-int" : it->second;
  auto bridge = ovs_.port_bridge(dev);
  if (!bridge.ok()) return "OVS on " + host + ": " + bridge.status().message();
  if (*bridge != want)
    return dev + " on " + host + " is on OVS bridge " + (bridge->empty() ? "(none)" : *bridge) + ", binding says " + want;
  auto ports = ovs_.list_ports(want);
  if (!ports.ok()) return "OVS on " + host + ": " + ports.status().message();
  for (const auto& p : *ports) {
    if (p.name != dev) continue;
    if (!p.tag || *p.tag == kDeadVlanTag)
      return dev + " on " + host + " has " + (p.tag ? "the dead VLAN tag" : "no local VLAN tag") + " (not wired by the agent)";
  }
  return "";
}

namespace {

AgentConfig openvswitch_agent_config(const HostConfig& host) {
  AgentConfig a;
  a.host = host.name;
  a.agent_type = to_string(Backend::kOpenVswitch);
  a.firewall_driver = host.firewall_driver;
  a.datapath_type = host.datapath_type;
  a.physical_interface_mappings = host.physical_interface_mappings;
  a.bridge_mappings = host.bridge_mappings;
  report_vxlan(a, host.vxlan, OvsAgentConfig::kDefaultVxlanUdpPort);
  return a;
}

StatusOr<std::unique_ptr<L2Agent>> create_openvswitch_agent(const HostConfig& host, const L2AgentDeps& deps) {
  if (!host.ovs || !host.links)
    return invalid_argument("host " + host.name + ": an openvswitch host needs its OVSDB and link operations");
  OvsAgentConfig config;
  config.host = host.name;
  config.polling_interval = host.polling_interval;
  config.datapath_type = host.datapath_type;
  config.bridge_mappings = host.bridge_mappings;
  config.honour_migrating_to = deps.behaviour.ovs_agent_wires_migrating_to;
  config.faults = deps.faults;
  config.tunnel = host.vxlan;
  return std::unique_ptr<L2Agent>(
      std::make_unique<OvsAgent>(config, *host.ovs, deps.neutron, deps.loop, deps.timeline));
}

}  // namespace

const L2BackendClass& openvswitch_backend() {
  static const L2BackendClass cls{Backend::kOpenVswitch, openvswitch_agent_config, create_openvswitch_agent,
                                  bind_port_openvswitch};
  return cls;
}

}  // namespace lmh::core
