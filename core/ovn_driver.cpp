#include "core/ovn_driver.h"

#include <algorithm>

#include "core/l2_backend.h"
#include "core/names.h"

namespace lmh::core {

namespace {

std::string short_id(const std::string& id) { return id.substr(0, kDeviceIdLen); }

std::string describe(const std::map<std::string, std::string>& options) {
  std::string out;
  for (const auto& [k, v] : options) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out.empty() ? "(none)" : out;
}

std::string describe(const OvnPortState& s) {
  std::string extra;
  for (const auto& c : s.additional_chassis) extra += (extra.empty() ? "" : ",") + c;
  return std::string(s.up ? "up" : "down") + " chassis " + (s.chassis.empty() ? "(none)" : s.chassis) +
         " additional [" + extra + "]" + (s.activated.empty() ? "" : " activated " + s.activated);
}

}  // namespace

OvnMechanismDriver::OvnMechanismDriver(OvnDriverConfig config, OvnNorthbound& nb, NeutronServer& neutron,
                                       EventLoop& loop, Timeline& timeline)
    : config_(std::move(config)), nb_(nb), neutron_(neutron), loop_(loop), timeline_(timeline) {
  neutron_.add_postcommit(this);
}

OvnMechanismDriver::~OvnMechanismDriver() { stop(); }

void OvnMechanismDriver::start() {
  if (running_) return;
  running_ = true;
  run_monitors();
}

void OvnMechanismDriver::stop() {
  running_ = false;
  if (timer_) loop_.cancel(timer_);
  timer_ = 0;
}

void OvnMechanismDriver::run_monitors() {
  for (const OvnPortState& s : nb_.port_state_changes()) handle(s);
  if (running_) timer_ = loop_.post_after(config_.monitor_interval, [this] { run_monitors(); });
}

void OvnMechanismDriver::network_created(const Network& net) {
  OvnLogicalSwitch ls{ovn_logical_switch_name(net.id), "", "", 0};
  if (net.network_type == "flat" || net.network_type == "vlan") {
    ls.localnet_port = ovn_localnet_port_name(net.id);
    ls.physnet = net.physnet;
    ls.tag = net.network_type == "vlan" ? net.segmentation_id : 0;
  }
  Status s = nb_.ensure_logical_switch(ls);
  timeline_.record("neutron.ovn", "logical switch " + ls.name +
                                      (ls.localnet_port.empty() ? "" : " localnet " + ls.physnet +
                                                                           (ls.tag ? " tag " + std::to_string(ls.tag) : "")) +
                                      (s.ok() ? "" : " failed: " + s.message()));
}

void OvnMechanismDriver::port_created(const Port& port) {
  OvnLogicalSwitchPort lsp{port.id, ovn_logical_switch_name(port.network_id), port.mac, port.ip, port_options(port)};
  Status s = nb_.create_port(lsp);
  timeline_.record("neutron.ovn", "logical port " + short_id(port.id) + " created, " + describe(lsp.options) +
                                      (s.ok() ? "" : " failed: " + s.message()));
  if (s.ok()) written_[port.id] = lsp.options;
}

void OvnMechanismDriver::port_updated(const Port& port) { write_options(port); }

std::map<std::string, std::string> OvnMechanismDriver::port_options(const Port& port) const {
  std::map<std::string, std::string> options;
  const PortBinding* active = port.active_binding();
  const std::string host = active ? active->host : "";
  auto migrating = port.profile.find("migrating_to");
  if (config_.multichassis_binding && !host.empty() && migrating != port.profile.end() &&
      !migrating->second.empty() && migrating->second != host) {
    options["requested-chassis"] = host + "," + migrating->second;
    if (!config_.activation_strategy.empty()) options["activation-strategy"] = config_.activation_strategy;
  } else if (!host.empty()) {
    options["requested-chassis"] = host;
  }
  return options;
}

void OvnMechanismDriver::write_options(const Port& port) {
  auto options = port_options(port);
  auto it = written_.find(port.id);
  if (it != written_.end() && it->second == options) return;  // update_port_postcommit with nothing new
  Status s = nb_.set_port_options(port.id, options);
  timeline_.record("neutron.ovn", "logical port " + short_id(port.id) + " options " + describe(options) +
                                      (s.ok() ? "" : " failed: " + s.message()));
  if (s.ok()) written_[port.id] = options;
}

std::optional<OvnPortState> OvnMechanismDriver::port_state(const std::string& port_id) const {
  auto it = states_.find(port_id);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

void OvnMechanismDriver::handle(const OvnPortState& state) {
  const Port* port = neutron_.port(state.name);
  if (!port) return;  // a localnet port or one neutron does not know
  auto previous = states_.find(state.name);
  if (previous != states_.end() && previous->second == state) return;
  states_[state.name] = state;
  timeline_.record("ovn", "port " + short_id(state.name) + " " + describe(state));
  const std::string tap = tap_name(port->id);
  const PortBinding* active = port->active_binding();
  // LogicalSwitchPortUpdateUpEvent / ...DownEvent: the port's status.
  if (active && state.chassis == active->host) {
    if (state.up) neutron_.update_device_up(tap, active->host);
    else neutron_.update_device_down(tap, active->host);
  }
  // PortBindingChassisUpdateEvent (neutron 28.0.0): the destination claimed
  // the port as an additional chassis while it is up.
  if (!config_.vif_plugged_on_additional_chassis || !state.up) return;
  auto migrating = port->profile.find("migrating_to");
  if (migrating == port->profile.end()) return;
  const std::string& dest = migrating->second;
  if (std::find(state.additional_chassis.begin(), state.additional_chassis.end(), dest) ==
          state.additional_chassis.end() ||
      additional_notified_[port->id] == dest)
    return;
  additional_notified_[port->id] = dest;
  neutron_.update_device_up(tap, dest);
}

void OvnControllerAgent::start() {
  if (running_) return;
  running_ = true;
  watch();
}

void OvnControllerAgent::stop() {
  running_ = false;
  if (timer_) loop_.cancel(timer_);
  timer_ = 0;
}

void OvnControllerAgent::watch() {
  auto ports = ovs_.list_ports(integration_bridge_);
  if (ports.ok()) {
    std::map<std::string, bool> now;  // iface-id -> ovn-installed
    for (const auto& p : *ports) {
      auto id = p.external_ids.find("iface-id");
      if (id == p.external_ids.end()) continue;
      auto inst = p.external_ids.find("ovn-installed");
      now[id->second] = inst != p.external_ids.end() && inst->second == "true";
    }
    for (const auto& [id, installed] : now) {
      auto [it, added] = watched_.try_emplace(id, Watched{loop_.now(), false});
      if (added) timeline_.record("ovn." + host_, tap_name(id) + " on " + integration_bridge_);
      if (installed && !it->second.installed) {
        auto after = loop_.now() - it->second.appeared;
        installed_after_[id] = after;
        timeline_.record("ovn." + host_, tap_name(id) + " ovn-installed " +
                                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(after).count()) +
                                             " ms after it appeared");
      } else if (!installed && it->second.installed) {
        timeline_.record("ovn." + host_, tap_name(id) + " no longer ovn-installed");
      }
      it->second.installed = installed;
    }
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (now.count(it->first)) { ++it; continue; }
      timeline_.record("ovn." + host_, tap_name(it->first) + " left " + integration_bridge_);
      it = watched_.erase(it);
    }
  }
  if (running_) timer_ = loop_.post_after(kWatchInterval, [this] { watch(); });
}

std::optional<MonoClock::duration> OvnControllerAgent::flows_installed_after(const std::string& port_id) const {
  auto it = installed_after_.find(port_id);
  if (it == installed_after_.end()) return std::nullopt;
  return it->second;
}

std::string OvnControllerAgent::wiring_problem(const Vif& vif, HostNetwork&) {
  const std::string& port_id = vif.port_id;
  if (vif.vif_type != "ovs")
    return "port " + port_id + " bound as " + vif.vif_type + " on " + host_ + ", an OVN chassis";
  const std::string tap = tap_name(port_id);
  auto bridge = ovs_.port_bridge(tap);
  if (!bridge.ok()) return "OVS on " + host_ + ": " + bridge.status().message();
  if (*bridge != integration_bridge_)
    return tap + " on " + host_ + " is on OVS bridge " + (bridge->empty() ? "(none)" : *bridge) + ", OVN needs " +
           integration_bridge_;
  auto ports = ovs_.list_ports(integration_bridge_);
  if (!ports.ok()) return "OVS on " + host_ + ": " + ports.status().message();
  for (const auto& p : *ports) {
    if (p.name != tap) continue;
    auto id = p.external_ids.find("iface-id");
    if (id == p.external_ids.end() || id->second != port_id)
      return tap + " on " + host_ + " has no iface-id " + port_id + ": ovn-controller cannot claim it";
    auto installed = p.external_ids.find("ovn-installed");
    if (installed == p.external_ids.end() || installed->second != "true")
      return tap + " on " + host_ + " is not ovn-installed: ovn-controller has not claimed it or installed its flows";
  }
  return "";
}

namespace {

AgentConfig ovn_agent_config(const HostConfig& host) {
  AgentConfig a;
  a.host = host.name;
  a.agent_type = to_string(Backend::kOvn);
  a.firewall_driver = "ovn";  // ACLs in the logical pipeline: no hybrid plug
  a.datapath_type = host.datapath_type;
  a.bridge_mappings = host.bridge_mappings;
  if (!host.ovn.encap_ip.empty()) {
    a.tunnel_types = {host.ovn.encap_type};
    a.tunneling_ip = host.ovn.encap_ip;
  }
  return a;
}

StatusOr<std::unique_ptr<L2Agent>> create_ovn_agent(const HostConfig& host, const L2AgentDeps& deps) {
  if (!host.ovs) return invalid_argument("host " + host.name + ": an ovn host needs its OVSDB");
  return std::unique_ptr<L2Agent>(std::make_unique<OvnControllerAgent>(host.name, "br-int", *host.ovs, deps.loop, deps.timeline));
}

}  // namespace

StatusOr<PortBinding> bind_port_ovn(const AgentConfig& agent, const Network& net) {
  const std::string& type = net.network_type;
  auto failed = [&](const std::string& why) {
    return failed_precondition("binding_failed: network " + net.id + " on host " + agent.host + " (ovn chassis): " + why);
  };
  // The OVN driver serves geneve (with the chassis' encap), flat and vlan.
  if (type != "flat" && type != "vlan" && !agent.tunnel_types.count(type))
    return failed("network type " + type + " not supported by the chassis");
  if ((type == "flat" || type == "vlan") && !agent.bridge_mappings.count(net.physnet))
    return failed("physical network " + net.physnet + " not in the chassis' ovn-bridge-mappings");
  PortBinding b;
  b.host = agent.host;
  b.status = BindingStatus::kInactive;
  b.vif_type = "ovs";
  b.vif_details = {{"bridge_name", agent.integration_bridge},
                   {"port_filter", "true"},
                   {"connectivity", "l2"},
                   {"datapath_type", agent.datapath_type.empty() ? "system" : agent.datapath_type}};
  return b;
}

const L2BackendClass& ovn_backend() {
  static const L2BackendClass cls{Backend::kOvn, ovn_agent_config, create_ovn_agent, bind_port_ovn};
  return cls;
}

}  // namespace lmh::core
