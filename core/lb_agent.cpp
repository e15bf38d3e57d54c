#include "core/lb_agent.h"

#include "core/fault_hooks.h"
#include "core/l2_backend.h"
#include "core/mechanism_driver.h"
#include "core/names.h"

namespace lmh::core {

namespace {

using faults::ActionKind;

const auto kAgentLbScan = faults::define_fault_point({
    .name = "agent.lb.scan",
    .description = "linuxbridge agent polling loop scans taps (every polling_interval)",
    .actions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail, ActionKind::kCrash},
    .phase = faults::MigrationPhase::kAgent,
    .loses_vif_plugged = {ActionKind::kCrash},  // no agent reports the destination port up
    .needs_backend = "linuxbridge",
});
const auto kAgentLbEnslaveUplink = faults::define_fault_point({
    .name = "agent.lb.enslave_uplink",
    .description = "linuxbridge agent enslaves <phys>.<vlan> to the network bridge",
    .actions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail},
    .phase = faults::MigrationPhase::kAgent,
    .needs_backend = "linuxbridge",
});

}  // namespace

LinuxBridgeAgent::LinuxBridgeAgent(LinuxBridgeAgentConfig config, HostNetwork& net,
                                   NeutronServer& neutron, EventLoop& loop, Timeline& timeline)
    : config_(std::move(config)), net_(net), neutron_(neutron), loop_(loop), timeline_(timeline) {}

LinuxBridgeAgent::~LinuxBridgeAgent() { stop(); }

void LinuxBridgeAgent::start() {
  if (running_) return;
  running_ = true;
  timer_ = loop_.post([this] { poll(); });
}

void LinuxBridgeAgent::stop() {
  if (!running_) return;
  running_ = false;
  loop_.cancel(timer_);
}

void LinuxBridgeAgent::binding_activate(const std::string& port_id, const std::string& host) {
  if (host != config_.host) return;
  updated_.insert(tap_name(port_id));
  timeline_.record(source(), "binding_activate " + tap_name(port_id) + " (next poll)");
}

void LinuxBridgeAgent::binding_deactivate(const std::string& port_id, const std::string& host) {
  if (host != config_.host) return;
  // The real agent removes the tap from its bridge (remove_interface); the
  // tap stays known, so that its disappearance with the source guest is
  // reported (update_device_down: l2population removes this location).
  timeline_.record(source(), "binding_deactivate " + tap_name(port_id));
}

void LinuxBridgeAgent::poll() {
  faults::Decision d = consult_fault(config_.faults, timeline_, kAgentLbScan);
  switch (d.kind) {
    case faults::ActionKind::kCrash:
      running_ = false;
      timeline_.record(source(), "agent crashed (stops polling)");
      return;
    case faults::ActionKind::kDrop:
    case faults::ActionKind::kFail:
      timeline_.record(source(), "scan skipped");
      schedule_next_poll();
      return;
    case faults::ActionKind::kDelay:
      timer_ = loop_.post_after(d.delay, [this] { scan(); });
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, kAgentLbScan, d);
  }
  scan();
}

void LinuxBridgeAgent::schedule_next_poll() {
  if (running_) timer_ = loop_.post_after(config_.polling_interval, [this] { poll(); });
}

void LinuxBridgeAgent::scan() {
  last_poll_ = loop_.now();
  auto taps = net_.list_links("tap");
  if (!taps.ok()) {
    timeline_.record(source(), "poll failed: " + taps.status().to_string());
  } else {
    std::set<std::string> current(taps->begin(), taps->end());
    for (auto it = known_.begin(); it != known_.end();) {
      if (!current.count(*it)) {
        timeline_.record(source(), "device removed " + *it);
        neutron_.update_device_down(*it, config_.host);
        it = known_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& dev : current) {
      bool is_new = !known_.count(dev);
      if (!is_new && !updated_.count(dev)) continue;
      DeviceDetails details = neutron_.get_device_details(dev, config_.host, config_.honour_migrating_to);
      if (details.kind != DeviceDetails::Kind::kDetails) {
        // Retried next poll; logged once so the timeline shows the wait.
        if (skipped_logged_.insert(dev).second) {
          timeline_.record(source(), "skip " + dev + (details.kind == DeviceDetails::Kind::kNoActiveBinding
                                                          ? ": NO_ACTIVE_BINDING"
                                                          : ": not defined on plugin"));
        }
        continue;
      }
      Status s = plug_interface(dev, details);
      if (!s.ok()) {
        timeline_.record(source(), "plug " + dev + " failed: " + s.to_string());
        continue;
      }
      updated_.erase(dev);
      skipped_logged_.erase(dev);
      known_.insert(dev);
      neutron_.update_device_up(dev, config_.host);
      timeline_.record(source(), "device up " + dev);
    }
  }
  schedule_next_poll();
}

Status LinuxBridgeAgent::enslave_uplink(const std::string& uplink, const std::string& bridge) {
  faults::Decision d = consult_fault(config_.faults, timeline_, kAgentLbEnslaveUplink);
  switch (d.kind) {
    case faults::ActionKind::kFail:
      return unavailable(d.message);  // the device is retried at the next poll
    case faults::ActionKind::kDrop:
      timeline_.record(source(), "enslave uplink " + uplink + " lost");
      return ok_status();
    case faults::ActionKind::kDelay:
      loop_.post_after(d.delay, [this, uplink, bridge] {
        Status s = net_.set_master(uplink, bridge);
        timeline_.record(source(), s.ok() ? "enslave uplink " + uplink + " to " + bridge
                                          : "enslave uplink " + uplink + " failed: " + s.to_string());
      });
      return ok_status();
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, kAgentLbEnslaveUplink, d);
  }
  LMH_RETURN_IF_ERROR(net_.set_master(uplink, bridge));
  timeline_.record(source(), "enslave uplink " + uplink + " to " + bridge);
  return ok_status();
}

Status LinuxBridgeAgent::plug_interface(const std::string& device, const DeviceDetails& d) {
  const std::string& bridge = d.bridge_name;
  // ensure_physical_in_bridge: the network's uplink, checked before the
  // bridge is made so that a network the agent cannot reach leaves nothing.
  std::string uplink;
  if (d.network_type == "vxlan") {
    if (!config_.vxlan.enable_vxlan) return failed_precondition("vxlan network but [vxlan] enable_vxlan is off");
    uplink = vxlan_device_name(d.segmentation_id);
  } else {
    auto mapping = config_.physical_interface_mappings.find(d.physnet);
    if (mapping == config_.physical_interface_mappings.end())
      return failed_precondition("no physical_interface_mappings entry for " + d.physnet);
    uplink = d.network_type == "vlan" ? vlan_interface_name(mapping->second, d.segmentation_id) : mapping->second;
  }
  if (!net_.link_exists(bridge)) timeline_.record(source(), "ensure bridge " + bridge);
  LMH_RETURN_IF_ERROR(net_.ensure_bridge(bridge));
  if (d.network_type == "vxlan") {
    LMH_RETURN_IF_ERROR(ensure_vxlan(d.segmentation_id));
    vxlan_networks_[d.network_id] = d.segmentation_id;
  } else if (d.network_type == "vlan") {
    if (!net_.link_exists(uplink)) timeline_.record(source(), "ensure vlan " + uplink);
    LMH_RETURN_IF_ERROR(
        net_.ensure_vlan_interface(config_.physical_interface_mappings.at(d.physnet), d.segmentation_id));
  }
  auto uplink_master = net_.master_of(uplink);
  if (!uplink_master.ok()) return uplink_master.status();
  if (*uplink_master != bridge) LMH_RETURN_IF_ERROR(enslave_uplink(uplink, bridge));
  auto tap_master = net_.master_of(device);
  if (!tap_master.ok()) return tap_master.status();
  if (*tap_master != bridge) {
    LMH_RETURN_IF_ERROR(net_.set_master(device, bridge));
    timeline_.record(source(), "enslave " + device + " to " + bridge);
  }
  return net_.set_up(device);
}

Status LinuxBridgeAgent::ensure_vxlan(int vni) {
  const VxlanConfig& c = config_.vxlan;
  VxlanDevice dev;
  dev.name = vxlan_device_name(vni);
  if (net_.link_exists(dev.name)) return ok_status();
  dev.vni = vni;
  dev.underlay = c.underlay;
  // Unicast flooding with l2population (the entries come from l2pop),
  // else the multicast group of vxlan_group.
  if (c.l2_population) dev.local_ip = c.local_ip;
  else dev.group = c.vxlan_group;
  dev.proxy = c.l2_population && c.arp_responder;
  if (c.udp_dstport) dev.dstport = c.udp_dstport;
  timeline_.record(source(), "ensure vxlan " + dev.name + " dstport " + std::to_string(dev.dstport) +
                                 (dev.local_ip.empty() ? " group " + dev.group : " local " + dev.local_ip) +
                                 (dev.proxy ? " proxy" : ""));
  return net_.ensure_vxlan_interface(dev);
}

void LinuxBridgeAgent::fdb_update(FdbOperation op, const NetworkFdb& fdb) {
  auto net = vxlan_networks_.find(fdb.network_id);
  if (net == vxlan_networks_.end() || fdb.network_type != "vxlan" || !config_.vxlan.l2_population) return;
  const std::string device = vxlan_device_name(net->second);
  for (const auto& [agent_ip, entries] : fdb.ports) {
    if (agent_ip == config_.vxlan.local_ip) continue;  // our own port
    for (const auto& e : entries) {
      Status s = apply_fdb_entry(op, device, agent_ip, e);
      if (!s.ok()) timeline_.record(source(), std::string(fdb_operation_name(op)) + " failed: " + s.to_string());
    }
  }
  timeline_.record(source(), std::string(fdb_operation_name(op)) + " " + device + " {" + describe_fdb(fdb) + "}");
}

Status LinuxBridgeAgent::apply_fdb_entry(FdbOperation op, const std::string& device, const std::string& agent_ip,
                                         const FdbPortInfo& e) {
  const bool arp_responder = config_.vxlan.arp_responder;
  if (op == FdbOperation::kAdd) {
    // bridge fdb append 00:00:00:00:00:00 dst <ip>: one flooding entry per remote.
    if (e.is_flooding()) return net_.fdb_add(device, {e.mac, agent_ip}, /*append=*/true);
    if (arp_responder) LMH_RETURN_IF_ERROR(net_.neigh_replace(device, e.ip, e.mac));
    // FdbInterface.replace: the mac's one destination.
    return net_.fdb_add(device, {e.mac, agent_ip}, /*append=*/false);
  }
  if (e.is_flooding()) return net_.fdb_delete(device, {e.mac, agent_ip});
  // The neighbour is removed by IP alone, whatever host it pointed to: a
  // late remove of the old location takes the new one's entry with it.
  if (arp_responder) LMH_RETURN_IF_ERROR(net_.neigh_delete(device, e.ip));
  return net_.fdb_delete(device, {e.mac, agent_ip});
}

std::string LinuxBridgeAgent::wiring_problem(const Vif& vif, HostNetwork& net) {
  const std::string& host = config_.host;
  if (vif.vif_type != "bridge")
    return "port " + vif.port_id + " bound as " + vif.vif_type + " on " + host + ", which runs the linuxbridge agent";
  const std::string tap = tap_name(vif.port_id);
  auto master = net.master_of(tap);
  std::string want = lb_bridge_name(vif.network.id);
  if (!master.ok() || *master != want)
    return tap + " on " + host + " is in " + (master.ok() && !master->empty() ? *master : "no bridge") +
           ", binding says " + want;
  return "";
}

namespace {

AgentConfig linuxbridge_agent_config(const HostConfig& host) {
  AgentConfig a;
  a.host = host.name;
  a.agent_type = to_string(Backend::kLinuxBridge);
  a.firewall_driver = "iptables";
  a.datapath_type = host.datapath_type;
  a.physical_interface_mappings = host.physical_interface_mappings;
  a.bridge_mappings = host.bridge_mappings;
  report_vxlan(a, host.vxlan, VxlanDevice{}.dstport);
  return a;
}

StatusOr<std::unique_ptr<L2Agent>> create_linuxbridge_agent(const HostConfig& host, const L2AgentDeps& deps) {
  LinuxBridgeAgentConfig config{host.name, host.polling_interval, host.physical_interface_mappings,
                                deps.behaviour.lb_agent_honours_migrating_to, deps.faults, host.vxlan};
  return std::unique_ptr<L2Agent>(
      std::make_unique<LinuxBridgeAgent>(config, deps.net, deps.neutron, deps.loop, deps.timeline));
}

}  // namespace

const L2BackendClass& linuxbridge_backend() {
  static const L2BackendClass cls{Backend::kLinuxBridge, linuxbridge_agent_config, create_linuxbridge_agent,
                                  bind_port_linuxbridge};
  return cls;
}

}  // namespace lmh::core
