#include "core/cloud.h"

#include "core/fault_hooks.h"
#include "core/l2_backend.h"

namespace lmh::core {

Cloud::Cloud(EventLoop& loop, Timeline& timeline, Hypervisor& hypervisor, Behaviour behaviour,
             faults::FaultPlan* faults)
    : loop_(loop), timeline_(timeline), hypervisor_(hypervisor), behaviour_(behaviour), faults_(faults),
      neutron_(timeline, NeutronBehaviour{.vif_plugged_from_agent_only = behaviour.vif_plugged_from_agent_only,
                                           .l2pop_on_binding_activate = behaviour.l2pop_on_binding_activate}),
      db_(timeline),
      rpc_(loop, timeline, faults),
      events_(loop, timeline, faults),
      conductor_(services()),
      invariants_(services()) {
  neutron_.set_fault_plan(faults, &loop);
  neutron_.set_vif_event_sink([this](const std::string& event, const std::string& port_id) {
    events_.notify(event, port_id);
  });
  neutron_.set_binding_activate_notifier([this](const std::string& port, const std::string& host) {
    if (auto* a = agent(host)) a->binding_activate(port, host);
  });
  neutron_.set_binding_deactivate_notifier([this](const std::string& port, const std::string& host) {
    if (auto* a = agent(host)) a->binding_deactivate(port, host);
  });
  neutron_.set_l2pop_sink([this](FdbOperation op, const NetworkFdb& fdb, const std::string& host) {
    for (const auto& [name, a] : agents_)
      if (host.empty() || name == host) cast_fdb(*a, op, fdb);
  });
}

void Cloud::cast_fdb(L2Agent& agent, FdbOperation op, const NetworkFdb& fdb) {
  const faults::FaultPointDescriptor& point = op == FdbOperation::kAdd ? kL2popFdbAdd : kL2popFdbRemove;
  faults::Decision d = consult_fault(faults_, timeline_, point);
  MonoClock::duration delay{};
  switch (d.kind) {
    case faults::ActionKind::kDrop:
      timeline_.record("rpc", std::string(fdb_operation_name(op)) + " to " + agent.host() + " lost");
      return;
    case faults::ActionKind::kDelay:
      delay = d.delay;
      break;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, point, d);
  }
  L2Agent* target = &agent;
  loop_.post_after(delay, [target, op, fdb] { target->fdb_update(op, fdb); });
}

Cloud::~Cloud() {
  for (auto& [host, agent] : agents_) agent->stop();
  if (ovn_) ovn_->stop();
}

Status Cloud::use_ovn(OvnNorthbound& nb) {
  if (ovn_) return {StatusCode::kAlreadyExists, "the OVN mechanism driver is loaded already"};
  OvnDriverConfig config{.multichassis_binding = behaviour_.ovn_multichassis_binding,
                         .activation_strategy = behaviour_.ovn_activation_strategy,
                         .vif_plugged_on_additional_chassis = behaviour_.vif_plugged_from_agent_only};
  ovn_ = std::make_unique<OvnMechanismDriver>(config, nb, neutron_, loop_, timeline_);
  ovn_->start();
  return ok_status();
}

NovaServices Cloud::services() {
  return NovaServices{loop_, timeline_, db_, rpc_, events_, neutron_, hypervisor_, *this, behaviour_, faults_};
}

Status Cloud::add_host(HostConfig config, HostNetwork& net) {
  if (computes_.count(config.name)) return {StatusCode::kAlreadyExists, "host " + config.name};
  auto backend = find_l2_backend(config.backend);
  if (!backend.ok()) return backend.status().with_context("host " + config.name);
  auto agent = (*backend)->create_agent(config, L2AgentDeps{net, neutron_, loop_, timeline_, behaviour_, faults_});
  if (!agent.ok()) return agent.status();
  // What the host's L2 agent reports to the server.
  neutron_.register_agent((*backend)->agent_config(config));
  std::unique_ptr<L2Agent>& a = agents_[config.name];
  a = std::move(agent).value();
  a->start();
  computes_[config.name] = std::make_unique<ComputeManager>(services(), config, net);
  return ok_status();
}

std::vector<std::string> Cloud::host_names() const {
  std::vector<std::string> names;
  for (const auto& [host, compute] : computes_) names.push_back(host);
  return names;
}

ComputeManager* Cloud::compute(const std::string& host) {
  auto it = computes_.find(host);
  return it == computes_.end() ? nullptr : it->second.get();
}

L2Agent* Cloud::agent(const std::string& host) {
  auto it = agents_.find(host);
  return it == agents_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Cloud::check_invariants(const std::string& uuid, int migration_id) {
  std::vector<std::string> v;
  for (const auto& r : invariant_report(uuid, migration_id))
    if (!r.ok) v.push_back(r.detail);
  return v;
}

}  // namespace lmh::core
