#include "core/neutron.h"

#include "core/fault_hooks.h"
#include "core/mechanism_driver.h"
#include "core/names.h"

namespace lmh::core {

namespace {

using faults::ActionKind;
using faults::MigrationPhase;

const auto kNeutronPortUpdateProfile = faults::define_fault_point({
    .name = "neutron.port_update.profile",
    .description = "neutron port update of binding:profile (migrating_to)",
    .actions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail},
    .phase = MigrationPhase::kPrepare,
    .fatal = {.live = {ActionKind::kFail}},
});
const auto kNeutronBindingActivate = faults::define_fault_point({
    .name = "neutron.binding.activate",
    .description = "neutron activates the destination port binding",
    .actions = {ActionKind::kFail},
    .phase = MigrationPhase::kFinish,
    .fatal = {.live = {ActionKind::kFail}},
});

}  // namespace

const faults::FaultPointDescriptor kNeutronNotifyVifPlugged = faults::define_fault_point({
    .name = "neutron.notify.vif_plugged",
    .description = "neutron's nova notifier sends network-vif-plugged (fire-early: on the migrating_to update, "
                   "before any agent wired the port, bug 1880389)",
    .actions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kDuplicate, ActionKind::kFail,
                ActionKind::kFireEarly},
    .phase = MigrationPhase::kPrepare,
    .loses_vif_plugged = {ActionKind::kDrop, ActionKind::kFail},
});

const PortBinding* Port::active_binding() const {
  for (const auto& b : bindings) if (b.status == BindingStatus::kActive) return &b;
  return nullptr;
}

const PortBinding* Port::binding_for(const std::string& host) const {
  for (const auto& b : bindings) if (b.host == host) return &b;
  return nullptr;
}

Status NeutronServer::create_network(Network network) {
  if (networks_.count(network.id)) return {StatusCode::kAlreadyExists, "network " + network.id};
  const Network& net = networks_.emplace(network.id, std::move(network)).first->second;
  for (auto* d : postcommit_) d->network_created(net);
  return ok_status();
}

Status NeutronServer::create_port(Port port) {
  if (!networks_.count(port.network_id)) return not_found("network " + port.network_id);
  if (ports_.count(port.id)) return {StatusCode::kAlreadyExists, "port " + port.id};
  const Port& p = ports_.emplace(port.id, std::move(port)).first->second;
  for (auto* d : postcommit_) d->port_created(p);
  return ok_status();
}

const Network* NeutronServer::network(const std::string& id) const {
  auto it = networks_.find(id);
  return it == networks_.end() ? nullptr : &it->second;
}

const Port* NeutronServer::port(const std::string& id) const {
  auto it = ports_.find(id);
  return it == ports_.end() ? nullptr : &it->second;
}

std::vector<const Port*> NeutronServer::ports_of_device(const std::string& device_id) const {
  std::vector<const Port*> out;
  for (const auto& [id, p] : ports_) if (p.device_id == device_id) out.push_back(&p);
  return out;
}

void NeutronServer::register_agent(AgentConfig agent) {
  std::string host = agent.host;
  agents_[host] = std::move(agent);
}

const AgentConfig* NeutronServer::agent(const std::string& host) const {
  auto it = agents_.find(host);
  return it == agents_.end() ? nullptr : &it->second;
}

Status NeutronServer::create_binding(const std::string& port_id, const std::string& host) {
  auto it = ports_.find(port_id);
  if (it == ports_.end()) return not_found("port " + port_id);
  Port& port = it->second;
  if (port.binding_for(host)) return {StatusCode::kAlreadyExists, "binding of " + port_id + " on " + host};
  const Network& net = networks_.at(port.network_id);
  auto agent = agents_.find(host);
  StatusOr<PortBinding> bound = agent == agents_.end()
                                    ? StatusOr<PortBinding>(failed_precondition("binding_failed: no L2 agent on host " + host))
                                    : bind_port(agent->second, net);
  if (!bound.ok()) {
    timeline_.record("neutron", "binding failed port " + port_id.substr(0, 11) + " host " + host + ": " +
                                    bound.status().message());
    return bound.status();
  }
  PortBinding b = std::move(bound).value();
  b.host = host;
  b.status = port.bindings.empty() ? BindingStatus::kActive : BindingStatus::kInactive;
  port.bindings.push_back(b);
  timeline_.record("neutron", "binding created port " + port_id.substr(0, 11) + " host " + host + " vif_type " +
                                  b.vif_type + (b.status == BindingStatus::kActive ? " ACTIVE" : " INACTIVE"));
  port_updated(port);
  return ok_status();
}

Status NeutronServer::activate_binding(const std::string& port_id, const std::string& host) {
  auto it = ports_.find(port_id);
  if (it == ports_.end()) return not_found("port " + port_id);
  Port& port = it->second;
  if (!port.binding_for(host)) return not_found("binding of " + port_id + " on " + host);
  faults::Decision d = consult_fault(faults_, timeline_, kNeutronBindingActivate);
  if (d.kind == faults::ActionKind::kFail) return unavailable(d.message);
  if (d.fires()) fault_not_supported(timeline_, kNeutronBindingActivate, d);
  std::string previous;
  for (auto& b : port.bindings) {
    if (b.status == BindingStatus::kActive && b.host != host) previous = b.host;
    b.status = b.host == host ? BindingStatus::kActive : BindingStatus::kInactive;
  }
  timeline_.record("neutron", "binding activated port " + port_id.substr(0, 11) + " host " + host);
  port_updated(port);
  if (!previous.empty() && on_deactivate_) on_deactivate_(port_id, previous);
  if (on_activate_) on_activate_(port_id, host);
  // The proposed fix: the new location goes out with the activation.
  if (behaviour_.l2pop_on_binding_activate && port.status == "ACTIVE") l2pop_port_up(port, host);
  return ok_status();
}

Status NeutronServer::delete_binding(const std::string& port_id, const std::string& host) {
  auto it = ports_.find(port_id);
  if (it == ports_.end()) return not_found("port " + port_id);
  auto& bs = it->second.bindings;
  for (auto b = bs.begin(); b != bs.end(); ++b) {
    if (b->host == host) {
      bs.erase(b);
      timeline_.record("neutron", "binding deleted port " + port_id.substr(0, 11) + " host " + host);
      port_updated(it->second);
      return ok_status();
    }
  }
  return ok_status();  // already gone
}

Status NeutronServer::update_profile(const std::string& port_id, const std::string& key,
                                     const std::optional<std::string>& value) {
  auto it = ports_.find(port_id);
  if (it == ports_.end()) return not_found("port " + port_id);
  faults::Decision d = consult_fault(faults_, timeline_, kNeutronPortUpdateProfile);
  switch (d.kind) {
    case faults::ActionKind::kFail:
      return unavailable(d.message);
    case faults::ActionKind::kDrop:
      return ok_status();  // accepted, never applied
    case faults::ActionKind::kDelay:
      // The API accepted it; the server applies it late (a busy neutron).
      if (!loop_) break;
      loop_->post_after(d.delay, [this, port_id, key, value] { apply_profile(port_id, key, value); });
      return ok_status();
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, kNeutronPortUpdateProfile, d);
  }
  apply_profile(port_id, key, value);
  return ok_status();
}

void NeutronServer::apply_profile(const std::string& port_id, const std::string& key,
                                  const std::optional<std::string>& value) {
  auto it = ports_.find(port_id);
  if (it == ports_.end()) return;
  if (value) it->second.profile[key] = *value; else it->second.profile.erase(key);
  timeline_.record("neutron", "port " + port_id.substr(0, 11) + " binding:profile " + key + "=" +
                                  (value ? *value : std::string("(removed)")));
  port_updated(it->second);
  // The premature network-vif-plugged: from this update itself (bug
  // 1880389, unless the fix is on), or forced by the fault fire-early at
  // the notifier.
  if (key == "migrating_to" && value) {
    bool forced = faults_ && faults_->planned_action(kNeutronNotifyVifPlugged.name) == faults::ActionKind::kFireEarly;
    if (!behaviour_.vif_plugged_from_agent_only || forced)
      notify("network-vif-plugged", it->second, "on the migrating_to port update (bug 1880389)");
  }
}

void NeutronServer::port_updated(const Port& port) {
  for (auto* d : postcommit_) d->port_updated(port);
}

Port* NeutronServer::find_port_by_device(const std::string& device) {
  for (auto& [id, p] : ports_) if (tap_name(id) == device) return &p;
  return nullptr;
}

const Port* NeutronServer::find_port_by_device(const std::string& device) const {
  for (const auto& [id, p] : ports_) if (tap_name(id) == device) return &p;
  return nullptr;
}

DeviceDetails NeutronServer::get_device_details(const std::string& device, const std::string& host,
                                                bool honour_migrating_to) const {
  DeviceDetails d;
  const Port* port = find_port_by_device(device);
  if (!port) return d;  // kUnknown: "device not defined on plugin"
  d.port_id = port->id;
  const PortBinding* active = port->active_binding();
  if (!active || active->host != host) {
    auto migrating = port->profile.find("migrating_to");
    bool to_here = migrating != port->profile.end() && migrating->second == host;
    if (!(honour_migrating_to && to_here && port->binding_for(host))) {
      d.kind = DeviceDetails::Kind::kNoActiveBinding;
      return d;
    }
    active = port->binding_for(host);
  }
  const Network& net = networks_.at(port->network_id);
  d.kind = DeviceDetails::Kind::kDetails;
  d.network_id = net.id;
  d.network_type = net.network_type;
  d.physnet = net.physnet;
  d.segmentation_id = net.segmentation_id;
  d.bridge_name = active->vif_details.at("bridge_name");
  return d;
}

void NeutronServer::notify(const std::string& event, const Port& port, const std::string& why) {
  timeline_.record("neutron", "notifier " + event + " port " + port.id.substr(0, 11) + " " + why);
  if (vif_sink_) vif_sink_(event, port.id);
}

void NeutronServer::set_status(Port& port, const std::string& status) {
  if (port.status == status) return;
  port.status = status;
  timeline_.record("neutron", "port " + port.id.substr(0, 11) + " status " + status);
  // The nova notifier sends network-vif-plugged/-unplugged on status changes.
  notify(status == "ACTIVE" ? "network-vif-plugged" : "network-vif-unplugged", port, "on status " + status);
}

void NeutronServer::update_device_up(const std::string& device, const std::string& host) {
  Port* port = find_port_by_device(device);
  if (!port) return;
  const PortBinding* active = port->active_binding();
  if (active && active->host == host) {
    set_status(*port, "ACTIVE");
    l2pop_port_up(*port, host);
    return;
  }
  auto migrating = port->profile.find("migrating_to");
  if (migrating != port->profile.end() && migrating->second == host) {
    // The destination wired the port for an incoming migration.
    notify("network-vif-plugged", *port, "from the agent on " + host + " (migrating_to)");
  }
  // Otherwise a stale agent's report: it does not count.
}

void NeutronServer::update_device_down(const std::string& device, const std::string& host) {
  Port* port = find_port_by_device(device);
  if (!port) return;
  const PortBinding* active = port->active_binding();
  if (!active || active->host != host) {
    // Not bound here any more (a live migration's source): l2pop's
    // update_port_down, which acts only with an L3 plugin loaded.
    if (behaviour_.l3_plugin) l2pop_port_removed(*port, host);
    return;
  }
  set_status(*port, "DOWN");
  l2pop_port_removed(*port, host);
}

int NeutronServer::active_port_count(const std::string& network_id, const std::string& host) const {
  int n = 0;
  for (const auto& [id, p] : ports_)
    if (p.network_id == network_id && p.status == "ACTIVE" && p.binding_for(host)) ++n;
  return n;
}

void NeutronServer::send_fdb(FdbOperation op, const NetworkFdb& fdb, const std::string& host) {
  timeline_.record("neutron", std::string("l2pop ") + fdb_operation_name(op) + (host.empty() ? " fanout" : " to " + host) +
                                  " vni " + std::to_string(fdb.segment_id) + " {" + describe_fdb(fdb) + "}");
  if (l2pop_sink_) l2pop_sink_(op, fdb, host);
}

const AgentConfig* NeutronServer::l2pop_agent(const Network& net, const std::string& host) const {
  const AgentConfig* a = agent(host);
  if (net.network_type != "vxlan" || !a || !a->l2_population || a->tunneling_ip.empty()) return nullptr;
  return a;
}

void NeutronServer::l2pop_port_up(const Port& port, const std::string& host) {
  const Network& net = networks_.at(port.network_id);
  const AgentConfig* agent = l2pop_agent(net, host);
  if (!agent) return;
  NetworkFdb base{net.id, net.network_type, net.segmentation_id, {}};
  const bool first = active_port_count(net.id, host) <= 2;  // 1 or 2: bug 1789846
  if (first) {
    // The host's first port here: it gets the whole network, once.
    NetworkFdb full = base;
    for (const auto& [id, p] : ports_) {
      if (p.network_id != net.id || p.status != "ACTIVE") continue;
      for (const auto& b : p.bindings) {
        const AgentConfig* other = this->agent(b.host);
        if (b.host == host || !other || other->tunneling_ip.empty()) continue;
        auto& entries = full.ports[other->tunneling_ip];
        if (entries.empty()) entries.push_back(kFloodingEntry);
        entries.push_back({p.mac, p.ip});
      }
    }
    if (!full.ports.empty()) send_fdb(FdbOperation::kAdd, full, host);
  }
  NetworkFdb mine = base;
  auto& entries = mine.ports[agent->tunneling_ip];
  if (first) entries.push_back(kFloodingEntry);
  entries.push_back({port.mac, port.ip});
  send_fdb(FdbOperation::kAdd, mine, "");
}

void NeutronServer::l2pop_port_removed(const Port& port, const std::string& host) {
  const Network& net = networks_.at(port.network_id);
  const AgentConfig* agent = l2pop_agent(net, host);
  if (!agent) return;
  NetworkFdb fdb{net.id, net.network_type, net.segmentation_id, {}};
  auto& entries = fdb.ports[agent->tunneling_ip];
  // The flooding entry goes with the host's last active port there; an
  // INACTIVE binding still counts (db.py joins bindings without status).
  if (active_port_count(net.id, host) == 0) entries.push_back(kFloodingEntry);
  entries.push_back({port.mac, port.ip});
  send_fdb(FdbOperation::kRemove, fdb, "");
}

StatusOr<Vif> NeutronServer::vif_for(const std::string& port_id, const std::string& host) const {
  const Port* p = port(port_id);
  if (!p) return not_found("port " + port_id);
  const PortBinding* b = p->binding_for(host);
  if (!b) return not_found("binding of " + port_id + " on " + host);
  Vif v;
  v.port_id = p->id;
  v.mac = p->mac;
  v.vif_type = b->vif_type;
  v.details = b->vif_details;
  v.devname = tap_name(p->id);
  v.network = networks_.at(p->network_id);
  v.network_bridge = b->vif_details.count("bridge_name") ? b->vif_details.at("bridge_name") : "";
  if (b->vif_type == "ovs") v.ovs_interfaceid = p->id;
  return v;
}

}  // namespace lmh::core
