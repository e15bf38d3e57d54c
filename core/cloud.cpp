#include "core/cloud.h"

#include <algorithm>

#include "core/fault_hooks.h"
#include "core/l2_backend.h"
#include "core/libvirt_xml.h"
#include "core/names.h"
#include "core/os_vif.h"

namespace lmh::core {

namespace {

using faults::ActionKind;
using faults::MigrationPhase;

// Fault points of the compute RPC, one per method and the way lmh sends it
// (as nova's compute/rpcapi.py does, except
// rollback_live_migration_at_destination, which nova casts and lmh calls so
// the rollback is done when the status is set; the other way is never
// reached, so it is no point). A call can be late, lost (the caller's
// MessagingTimeout after rpc_response_timeout), refused, or reach a compute
// that dies (crash: the service stops answering anything). A cast can also
// be doubled, except the ones that start a move (a second copy would start
// a second move).
const std::vector<ActionKind> kCallActions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail,
                                              ActionKind::kCrash};
const std::vector<ActionKind> kCastActions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail,
                                              ActionKind::kCrash, ActionKind::kDuplicate};
// A lost or refused call, or a dead callee, fails a live migration; a cold
// move fails when a cast cannot be sent or its callee dies (a lost cast is a
// hang, which the migration_terminal invariant reports on its own).
const std::vector<ActionKind> kCallLost = {ActionKind::kFail, ActionKind::kDrop, ActionKind::kCrash};
const std::vector<ActionKind> kColdCastLost = {ActionKind::kFail, ActionKind::kCrash};

const auto kRpcCallPreLiveMigration = faults::define_fault_point({
    .name = "rpc.call.pre_live_migration",
    .description = "rpc call (waits for the reply) pre_live_migration: source -> destination compute: prepare "
                   "(plug VIFs, migrating_to)",
    .actions = kCallActions,
    .phase = MigrationPhase::kPrepare,
    .fatal = {.live = kCallLost},
});
const auto kRpcCallPostLiveMigrationAtDestination = faults::define_fault_point({
    .name = "rpc.call.post_live_migration_at_destination",
    .description = "rpc call (waits for the reply) post_live_migration_at_destination: source -> destination "
                   "compute: activate binding, update port host, finish",
    .actions = kCallActions,
    .phase = MigrationPhase::kFinish,
    .fatal = {.live = kCallLost},
});
const auto kRpcCallRollbackLiveMigrationAtDestination = faults::define_fault_point({
    .name = "rpc.call.rollback_live_migration_at_destination",
    .description = "rpc call (waits for the reply) rollback_live_migration_at_destination: source -> "
                   "destination compute: undo what pre_live_migration made",
    .actions = kCallActions,
    .phase = MigrationPhase::kRollback,
});
const auto kRpcCastLiveMigration = faults::define_fault_point({
    .name = "rpc.cast.live_migration",
    .description = "rpc cast (no reply) live_migration: conductor -> source compute: start the live migration",
    .actions = kCallActions,  // never doubled: it starts the move
    .phase = MigrationPhase::kBegin,
    .fatal = {.live = {ActionKind::kFail}},
});
const auto kRpcCastPrepResize = faults::define_fault_point({
    .name = "rpc.cast.prep_resize",
    .description = "rpc cast (no reply) prep_resize: conductor -> destination compute: claim resources for cold "
                   "migrate/resize",
    .actions = kCallActions,  // never doubled: it starts the move
    .phase = MigrationPhase::kPrepare,
    .fatal = {.cold = kColdCastLost},
});
const auto kRpcCastResizeInstance = faults::define_fault_point({
    .name = "rpc.cast.resize_instance",
    .description = "rpc cast (no reply) resize_instance: destination -> source compute: power off, move the disk",
    .actions = kCastActions,
    .phase = MigrationPhase::kPerform,
    .fatal = {.cold = kColdCastLost},
});
const auto kRpcCastFinishResize = faults::define_fault_point({
    .name = "rpc.cast.finish_resize",
    .description = "rpc cast (no reply) finish_resize: source -> destination compute: bind ports, plug, spawn, "
                   "power on",
    .actions = kCastActions,
    .phase = MigrationPhase::kFinish,
    .fatal = {.cold = kColdCastLost},
});
const auto kRpcCastConfirmResize = faults::define_fault_point({
    .name = "rpc.cast.confirm_resize",
    .description = "rpc cast (no reply) confirm_resize: api -> source compute: clean up the source after a resize",
    .actions = kCastActions,
    .phase = MigrationPhase::kConfirm,
    .fatal = {.cold = kColdCastLost},
});
const auto kRpcCastRevertResize = faults::define_fault_point({
    .name = "rpc.cast.revert_resize",
    .description = "rpc cast (no reply) revert_resize: api -> destination compute: tear down the destination copy",
    .actions = kCastActions,
    .phase = MigrationPhase::kRollback,
    .fatal = {.cold = kColdCastLost},
});
const auto kRpcCastFinishRevertResize = faults::define_fault_point({
    .name = "rpc.cast.finish_revert_resize",
    .description = "rpc cast (no reply) finish_revert_resize: destination -> source compute: rebind, replug, power "
                   "on at source",
    .actions = kCastActions,
    .phase = MigrationPhase::kRollback,
    .fatal = {.cold = kColdCastLost},
});

const auto kComputePreLiveMigration = faults::define_fault_point({
    .name = "compute.pre_live_migration",
    .description = "destination compute pre_live_migration: plugs VIFs, sets binding:profile migrating_to",
    .actions = {ActionKind::kDelay, ActionKind::kFail, ActionKind::kCrash},
    .phase = MigrationPhase::kPrepare,
    .fatal = {.live = {ActionKind::kFail, ActionKind::kCrash}},
});
const auto kComputePostLiveMigration = faults::define_fault_point({
    .name = "compute.post_live_migration",
    .description = "source compute post_live_migration: unplugs source VIFs, hands over to the destination",
    .actions = {ActionKind::kDelay, ActionKind::kFail},
    .phase = MigrationPhase::kConfirm,
    .fatal = {.live = {ActionKind::kFail}},
});

// The method an RPC point sends: "rpc.cast.live_migration" -> "live_migration".
std::string rpc_method(const faults::FaultPointDescriptor& point) {
  return point.name.substr(point.name.find('.', std::string("rpc.").size()) + 1);
}

}  // namespace

bool is_terminal_migration_status(const std::string& s) {
  return s == "completed" || s == "error" || s == "failed" || s == "cancelled" || s == "confirmed" ||
         s == "reverted";
}

// ---------------------------------------------------------------- Cloud

Cloud::Cloud(EventLoop& loop, Timeline& timeline, Hypervisor& hypervisor, Behaviour behaviour,
             faults::FaultPlan* faults)
    : loop_(loop), timeline_(timeline), hypervisor_(hypervisor), behaviour_(behaviour), faults_(faults),
      neutron_(timeline, NeutronBehaviour{behaviour.vif_plugged_from_agent_only}) {
  neutron_.set_fault_plan(faults, &loop);
  neutron_.set_vif_event_sink([this](const std::string& event, const std::string& port_id) {
    notifier_send(event, port_id);
  });
  neutron_.set_binding_activate_notifier([this](const std::string& port, const std::string& host) {
    if (auto* a = agent(host)) a->binding_activate(port, host);
  });
  neutron_.set_binding_deactivate_notifier([this](const std::string& port, const std::string& host) {
    if (auto* a = agent(host)) a->binding_deactivate(port, host);
  });
}

Cloud::~Cloud() {
  for (auto& [host, agent] : agents_) agent->stop();
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
  computes_[config.name] = std::make_unique<ComputeManager>(*this, config, net);
  return ok_status();
}

ComputeManager* Cloud::compute(const std::string& host) {
  auto it = computes_.find(host);
  return it == computes_.end() ? nullptr : it->second.get();
}

L2Agent* Cloud::agent(const std::string& host) {
  auto it = agents_.find(host);
  return it == agents_.end() ? nullptr : it->second.get();
}

Instance* Cloud::instance(const std::string& uuid) {
  auto it = instances_.find(uuid);
  return it == instances_.end() ? nullptr : &it->second;
}

Migration* Cloud::migration(int id) {
  for (auto& m : migrations_) if (m.id == id) return &m;
  return nullptr;
}

void Cloud::set_migration_status(Migration& m, const std::string& status) {
  m.status = status;
  // The claim ends with the move: the instance's own RAM counts from here.
  if (is_terminal_migration_status(status)) claims_.erase(m.id);
  timeline_.record("conductor", "migration " + std::to_string(m.id) + " status " + status);
}

Status Cloud::boot(Instance instance, const std::string& host) {
  ComputeManager* c = compute(host);
  if (!c) return not_found("host " + host);
  if (instances_.count(instance.uuid)) return {StatusCode::kAlreadyExists, "instance " + instance.uuid};
  for (const auto& port : instance.port_ids) {
    LMH_RETURN_IF_ERROR(neutron_.create_binding(port, host));
  }
  instance.host = host;
  std::string uuid = instance.uuid;
  instances_.emplace(uuid, std::move(instance));
  timeline_.record("nova.api", "boot " + uuid.substr(0, 8) + " on " + host);
  return c->spawn(uuid);
}

std::string Cloud::pick_destination(const std::string& uuid, bool live) {
  const Instance* inst = instance(uuid);
  for (const auto& [host, compute] : computes_)
    if (inst && check_move(inst, uuid, host, live, /*force=*/false).ok()) return host;
  return "";
}

uint64_t Cloud::memory_used_mb(const std::string& host) const {
  uint64_t used = 0;
  for (const auto& [uuid, inst] : instances_)
    if (inst.host == host) used += inst.memory_mb;
  for (const auto& [id, claim] : claims_)
    if (claim.first == host) used += claim.second;
  return used;
}

StatusOr<int> Cloud::refuse(Migration& m, Instance* inst, const Status& why) {
  timeline_.record("conductor", "migration " + std::to_string(m.id) + " refused: " + why.message());
  set_migration_status(m, "error");
  if (inst) inst->task_state.clear();
  return why;
}

Migration& Cloud::new_migration(const std::string& uuid, const std::string& dest_in, MigrationKind kind,
                                const std::string& status) {
  Instance* inst = instance(uuid);
  Migration m;
  m.id = static_cast<int>(migrations_.size()) + 1;
  m.instance_uuid = uuid;
  m.migration_type = kind;
  m.source = inst ? inst->host : "";
  // The scheduler picks a destination when none is given.
  m.dest = dest_in.empty() && inst ? pick_destination(uuid, kind == MigrationKind::kLive) : dest_in;
  migrations_.push_back(m);
  set_migration_status(migrations_.back(), status);
  return migrations_.back();
}

Status Cloud::check_move(const Instance* inst, const std::string& uuid, const std::string& dest, bool live,
                         bool force) {
  if (!inst) return not_found("instance " + uuid);
  if (inst->vm_state != "active") return failed_precondition("instance is " + inst->vm_state + ", not active");
  if (!inst->task_state.empty()) return failed_precondition("instance task_state is " + inst->task_state);
  if (!compute(inst->host) || !service_up(inst->host))
    return failed_precondition("source host " + inst->host + " is not up");
  if (dest.empty()) return failed_precondition("No valid host was found");
  ComputeManager* d = compute(dest);
  if (!d) return failed_precondition("destination host " + dest + " does not exist");
  if (!service_up(dest)) return failed_precondition("destination host " + dest + " is not up");
  if (dest == inst->host) return failed_precondition("destination " + dest + " is the instance's host");
  // The scheduler's filters; a forced destination bypasses them.
  if (!force && !d->config().service_enabled)
    return failed_precondition("No valid host was found: compute service on " + dest + " is disabled");
  const uint64_t free_mb = d->config().memory_mb - std::min(d->config().memory_mb, memory_used_mb(dest));
  if (free_mb < inst->memory_mb)
    return failed_precondition("MigrationPreCheckError: " + dest + " has " + std::to_string(free_mb) +
                               " MB free, the instance needs " + std::to_string(inst->memory_mb) + " MB");
  if (live) {
    const HostConfig& src = compute(inst->host)->config();
    if (src.hypervisor_type != d->config().hypervisor_type)
      return failed_precondition("InvalidHypervisorType: " + dest + " runs " + d->config().hypervisor_type + ", " +
                                 inst->host + " runs " + src.hypervisor_type);
    if (d->config().hypervisor_version < src.hypervisor_version)
      return failed_precondition("DestinationHypervisorTooOld: " + dest + " has version " +
                                 std::to_string(d->config().hypervisor_version) + ", older than " +
                                 std::to_string(src.hypervisor_version) + " on " + inst->host);
  }
  return ok_status();
}

StatusOr<int> Cloud::migrate(const std::string& uuid, const std::string& dest_in, bool resize) {
  Migration& mig = new_migration(uuid, dest_in, resize ? MigrationKind::kResize : MigrationKind::kCold, "pre-migrating");
  Instance* inst = instance(uuid);
  if (Status check = check_move(inst, uuid, mig.dest, /*live=*/false, /*force=*/false); !check.ok())
    return refuse(mig, inst, check);
  claims_[mig.id] = {mig.dest, inst->memory_mb};  // the scheduler's claim (placement allocation)
  inst->task_state = "resize_prep";
  int id = mig.id;
  std::string dest = mig.dest;
  Status sent = rpc_cast(kRpcCastPrepResize, dest, [this, uuid, dest, id] { compute(dest)->prep_resize(uuid, id); });
  if (!sent.ok()) return refuse(mig, inst, sent);
  return id;
}

Status Cloud::confirm_resize(const std::string& uuid) {
  auto it = pending_resizes_.find(uuid);
  if (it == pending_resizes_.end()) return failed_precondition("instance " + uuid + " has no resize to confirm");
  int id = it->second;
  pending_resizes_.erase(it);
  set_migration_status(*migration(id), "confirming");
  std::string source = migration(id)->source;
  Status sent = rpc_cast(kRpcCastConfirmResize, source, [this, uuid, id, source] { compute(source)->confirm_resize(uuid, id); });
  if (!sent.ok()) set_migration_status(*migration(id), "error");
  return sent;
}

Status Cloud::revert_resize(const std::string& uuid) {
  auto it = pending_resizes_.find(uuid);
  if (it == pending_resizes_.end()) return failed_precondition("instance " + uuid + " has no resize to revert");
  int id = it->second;
  pending_resizes_.erase(it);
  set_migration_status(*migration(id), "reverting");
  instance(uuid)->task_state = "resize_reverting";
  std::string dest = migration(id)->dest;
  Status sent = rpc_cast(kRpcCastRevertResize, dest, [this, uuid, id, dest] { compute(dest)->revert_resize(uuid, id); });
  if (!sent.ok()) {
    instance(uuid)->task_state.clear();
    set_migration_status(*migration(id), "error");
  }
  return sent;
}

StatusOr<int> Cloud::live_migrate(const std::string& uuid, const std::string& dest_in, bool force) {
  Migration& mig = new_migration(uuid, dest_in, MigrationKind::kLive, "accepted");
  Instance* inst = instance(uuid);
  const std::string dest = mig.dest;
  // LiveMigrationTask checks.
  if (Status check = check_move(inst, uuid, dest, /*live=*/true, force); !check.ok()) return refuse(mig, inst, check);
  if (force) timeline_.record("conductor", "forced to " + dest + ": scheduler bypassed");
  claims_[mig.id] = {dest, inst->memory_mb};
  inst->task_state = "migrating";
  // Multiple port bindings: an INACTIVE binding on the destination first.
  for (const auto& port : inst->port_ids) {
    Status s = neutron_.create_binding(port, dest);
    if (!s.ok()) return refuse(mig, inst, s);
  }
  int id = mig.id;
  std::string source = inst->host;
  // rpc.cast.live_migration: conductor -> source compute. A lost cast
  // leaves the migration 'accepted' for good, as in nova; a failed send
  // is an error the API sees, and the conductor undoes its binding.
  Status sent = rpc_cast(kRpcCastLiveMigration, source,
                         [this, uuid, dest, id, source] { compute(source)->live_migration(uuid, dest, id); });
  if (!sent.ok()) {
    for (const auto& port : inst->port_ids) (void)neutron_.delete_binding(port, dest);
    return refuse(mig, inst, sent);
  }
  return id;
}

void Cloud::crash_service(const std::string& host) {
  if (down_services_.insert(host).second) timeline_.record("compute." + host, "nova-compute crashed (stops answering)");
}

Status Cloud::rpc_cast(const faults::FaultPointDescriptor& point, const std::string& host,
                       std::function<void()> deliver) {
  const std::string method = rpc_method(point);
  faults::Decision d = consult_fault(faults_, timeline_, point);
  if (d.kind == faults::ActionKind::kCrash) crash_service(host);
  // A cast to a dead service sits in its queue: nothing happens.
  if (!service_up(host)) {
    timeline_.record("rpc", "cast " + method + " to " + host + ": service down, not consumed");
    return ok_status();
  }
  switch (d.kind) {
    case faults::ActionKind::kFail:
      // The send itself raised (e.g. the broker refused it).
      timeline_.record("rpc", "cast " + method + " failed to send: " + d.message);
      return unavailable("cast " + method + " failed: " + d.message);
    case faults::ActionKind::kDrop:
      timeline_.record("rpc", "cast " + method + " not delivered");
      return ok_status();
    case faults::ActionKind::kDelay:
      loop_.post_after(d.delay, std::move(deliver));
      return ok_status();
    case faults::ActionKind::kDuplicate:
      loop_.post(deliver);
      loop_.post(std::move(deliver));
      return ok_status();
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, point, d);
  }
  loop_.post(std::move(deliver));
  return ok_status();
}

void Cloud::rpc_call(const faults::FaultPointDescriptor& point, const std::string& host,
                     std::function<Status()> deliver, std::function<void(Status)> on_reply) {
  const std::string method = rpc_method(point);
  faults::Decision d = consult_fault(faults_, timeline_, point);
  if (d.kind == faults::ActionKind::kCrash) crash_service(host);
  auto time_out = [this, method, on_reply] {
    loop_.post_after(rpc_response_timeout_, [this, method, on_reply] {
      timeline_.record("rpc", "call " + method + ": MessagingTimeout");
      on_reply(deadline_exceeded("MessagingTimeout: no reply to " + method + " within " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                    rpc_response_timeout_).count()) + " s"));
    });
  };
  if (!service_up(host)) return time_out();
  switch (d.kind) {
    case faults::ActionKind::kFail:
      // The callee raised: the caller gets the remote error at once.
      loop_.post([method, on_reply, message = d.message] { on_reply(unavailable(method + ": " + message)); });
      return;
    case faults::ActionKind::kDrop:
      return time_out();  // the request (or its reply) is lost
    case faults::ActionKind::kDelay:
      // The callee works when the request arrives; the caller waits.
      loop_.post_after(d.delay, [this, host, deliver = std::move(deliver), on_reply, time_out] {
        Status result = deliver();
        if (!service_up(host)) return time_out();
        on_reply(result);
      });
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, point, d);
  }
  // The callee runs now; the caller resumes with its reply on the next turn
  // of the loop, as a blocked caller would after the reply arrives.
  reply_delay_ = MonoClock::duration::zero();
  Status result = deliver();
  if (!service_up(host)) return time_out();  // the callee died mid-call
  loop_.post_after(reply_delay_, [on_reply, result] { on_reply(result); });
}

void Cloud::notifier_send(const std::string& event, const std::string& port_id) {
  if (event != "network-vif-plugged") {
    external_instance_event(event, port_id);
    return;
  }
  faults::Decision d = consult_fault(faults_, timeline_, kNeutronNotifyVifPlugged);
  switch (d.kind) {
    case faults::ActionKind::kFireEarly:
      break;  // neutron sent it early already (on the migrating_to update)
    case faults::ActionKind::kDrop:
    case faults::ActionKind::kFail:
      return;  // nova never hears of it
    case faults::ActionKind::kDelay:
      loop_.post_after(d.delay, [this, event, port_id] { external_instance_event(event, port_id); });
      return;
    case faults::ActionKind::kDuplicate:
      external_instance_event(event, port_id);
      external_instance_event(event, port_id);
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, kNeutronNotifyVifPlugged, d);
  }
  external_instance_event(event, port_id);
}

void Cloud::external_instance_event(const std::string& event, const std::string& port_id) {
  vif_events_.push_back(event + " " + port_id);
  const std::string name = event + "-" + port_id;
  timeline_.record("nova.api", "external event " + event + " port " + port_id.substr(0, 11));
  for (auto& [id, w] : waits_) {
    if (w.finished) continue;
    auto it = std::find(w.pending.begin(), w.pending.end(), name);
    if (it == w.pending.end()) continue;
    w.pending.erase(it);
    timeline_.record("nova.compute", "event " + event + " port " + port_id.substr(0, 11) + " received by waiter");
    if (w.pending.empty() && w.done) {
      int wid = id;
      loop_.post([this, wid] { finish_wait(wid, ok_status()); });
    }
    return;
  }
  timeline_.record("nova.compute", "no waiter for " + event + " port " + port_id.substr(0, 11) + " (dropped)");
}

int Cloud::prepare_for_events(const std::string& instance_uuid, std::vector<std::string> names) {
  int id = next_wait_++;
  waits_[id] = EventWait{instance_uuid, std::move(names), nullptr, 0, false};
  return id;
}

void Cloud::wait_for_events(int id, MonoClock::duration timeout, std::function<void(Status)> done) {
  EventWait& w = waits_.at(id);
  w.done = std::move(done);
  if (w.pending.empty()) {
    loop_.post([this, id] { finish_wait(id, ok_status()); });
    return;
  }
  w.deadline_timer = loop_.post_after(timeout, [this, id] {
    std::string missing;
    for (const auto& n : waits_.at(id).pending) missing += (missing.empty() ? "" : ", ") + n;
    finish_wait(id, deadline_exceeded("timed out waiting for events: " + missing));
  });
}

void Cloud::finish_wait(int id, Status status) {
  auto it = waits_.find(id);
  if (it == waits_.end() || it->second.finished) return;
  it->second.finished = true;
  loop_.cancel(it->second.deadline_timer);
  auto done = std::move(it->second.done);
  if (done) done(std::move(status));
}

int Cloud::pending_waits() const {
  int n = 0;
  for (const auto& [id, w] : waits_) n += !w.finished;
  return n;
}

std::vector<Cloud::InvariantResult> Cloud::invariant_report(const std::string& uuid, int migration_id,
                                                            const std::set<std::string>& expected) {
  std::vector<std::string> one_host, binding_host, leftover, terminal, waits, wired;
  Instance* inst = instance(uuid);
  if (!inst) {
    one_host.push_back("instance " + uuid + " is not in the database");
  } else {
    auto running = hypervisor_.hosts_running(uuid);
    if (running.size() != 1) {
      std::string hosts;
      for (const auto& h : running) hosts += (hosts.empty() ? "" : ",") + h;
      one_host.push_back("instance runs on " + std::to_string(running.size()) + " hosts (" + hosts + ")");
    } else if (running[0] != inst->host) {
      one_host.push_back("instance runs on " + running[0] + " but the database says " + inst->host);
    }
    for (const auto& port_id : inst->port_ids) {
      const Port* p = neutron_.port(port_id);
      const PortBinding* b = p ? p->active_binding() : nullptr;
      if (!b) binding_host.push_back("port " + port_id + " has no ACTIVE binding");
      else if (b->host != inst->host)
        binding_host.push_back("port " + port_id + " ACTIVE binding on " + b->host + ", instance on " + inst->host);
      if (std::string why = vif_wiring_problem(port_id, inst->host); !why.empty()) wired.push_back(why);
      for (const auto& [host, compute] : computes_) {
        if (host == inst->host) continue;
        if (compute->network().link_exists(tap_name(port_id))) leftover.push_back("tap " + tap_name(port_id) + " left on " + host);
      }
    }
  }
  if (Migration* m = migration(migration_id); m && !is_terminal_migration_status(m->status)) {
    terminal.push_back("migration " + std::to_string(m->id) + " ended in non-terminal status " + m->status);
  } else if (m && !expected.empty() && !expected.count(m->status)) {
    std::string want;
    for (const auto& e : expected) want += (want.empty() ? "" : " or ") + e;
    terminal.push_back("migration " + std::to_string(m->id) + " ended " + m->status + "; the faults that fired imply " +
                       want);
  }
  if (int n = pending_waits(); n > 0) waits.push_back(std::to_string(n) + " event wait(s) left pending");
  auto entry = [](std::string name, const std::vector<std::string>& problems) {
    std::string detail;
    for (const auto& p : problems) detail += (detail.empty() ? "" : "; ") + p;
    return InvariantResult{std::move(name), problems.empty(), detail};
  };
  return {entry("one_host", one_host), entry("binding_host", binding_host), entry("no_leftover_vif", leftover),
          entry("migration_terminal", terminal), entry("no_pending_wait", waits), entry("vif_wired", wired)};
}

std::string Cloud::vif_wiring_problem(const std::string& port_id, const std::string& host) {
  ComputeManager* c = compute(host);
  L2Agent* a = agent(host);
  auto vif = neutron_.vif_for(port_id, host);
  if (!c || !a || !vif.ok()) return "port " + port_id + " has no binding on " + host;
  return a->wiring_problem(*vif, c->network());
}

std::vector<std::string> Cloud::check_invariants(const std::string& uuid, int migration_id) {
  std::vector<std::string> v;
  for (const auto& r : invariant_report(uuid, migration_id))
    if (!r.ok) v.push_back(r.detail);
  return v;
}

// ---------------------------------------------------------------- ComputeManager

ComputeManager::ComputeManager(Cloud& cloud, HostConfig config, HostNetwork& net)
    : cloud_(cloud), config_(std::move(config)), net_(net) {}

Status ComputeManager::plug_vifs(const Instance& instance, bool provide_vlan) {
  for (const auto& port_id : instance.port_ids) {
    auto vif = cloud_.neutron().vif_for(port_id, config_.name);
    if (!vif.ok()) return vif.status();
    LMH_RETURN_IF_ERROR(plug_vif(*vif, instance.uuid, provide_vlan));
  }
  return ok_status();
}

Status ComputeManager::plug_vif(const Vif& vif, const std::string& instance_uuid, bool provide_vlan) {
  if (vif.vif_type == "ovs") {
    if (!config_.ovs || !config_.links)
      return failed_precondition("host " + config_.name + " cannot plug an ovs vif: no Open vSwitch here");
    return plug_ovs(vif, instance_uuid, net_, *config_.links, *config_.ovs, cloud_.timeline(), source());
  }
  if (vif.vif_type != "bridge") return invalid_argument("unsupported vif_type " + vif.vif_type);
  LinuxBridgePlugOptions opts;
  opts.should_provide_vlan = provide_vlan;
  auto m = config_.physical_interface_mappings.find(vif.network.physnet);
  if (m != config_.physical_interface_mappings.end()) opts.bridge_interface = m->second;
  else if (provide_vlan) return failed_precondition("no bridge_interface for physnet " + vif.network.physnet);
  return plug_linux_bridge(vif, opts, net_, cloud_.timeline(), source());
}

GuestInterface ComputeManager::guest_interface(const Vif& vif, DestXmlBridge mode) const {
  // Plain OVS carries <virtualport type='openvswitch'>: libvirt adds the tap
  // to that (OVS) bridge with the port's external_ids. Hybrid plugs into qbr,
  // a Linux bridge, like the linuxbridge backend.
  std::string type = vif.vif_type == "ovs" && !is_hybrid_plug(vif) ? "openvswitch" : "bridge";
  GuestInterface gi{vif.mac, vif.devname, interface_bridge(vif, mode), type, ""};
  if (type == "openvswitch") gi.interface_id = vif.ovs_interfaceid.empty() ? vif.port_id : vif.ovs_interfaceid;
  return gi;
}

Status ComputeManager::spawn(const std::string& uuid) {
  Instance* inst = cloud_.instance(uuid);
  LMH_RETURN_IF_ERROR(plug_vifs(*inst, false));
  GuestSpec spec{inst->uuid, inst->name, {}};
  for (const auto& port_id : inst->port_ids) {
    auto vif = cloud_.neutron().vif_for(port_id, config_.name);
    if (!vif.ok()) return vif.status();
    // A boot builds the model from this host's own binding: both modes agree.
    spec.interfaces.push_back(guest_interface(*vif, DestXmlBridge::kDestination));
  }
  cloud_.timeline().record(source(), "spawn " + uuid.substr(0, 8));
  return cloud_.hypervisor().spawn(config_.name, spec);
}

Status ComputeManager::pre_live_migration(const std::string& uuid, const std::string& src) {
  Instance* inst = cloud_.instance(uuid);
  if (!inst) return not_found("instance " + uuid);
  cloud_.timeline().record(source(), "pre_live_migration " + uuid.substr(0, 8) + " from " + src);
  faults::Decision d = consult_fault(cloud_.faults(), cloud_.timeline(), kComputePreLiveMigration);
  switch (d.kind) {
    case faults::ActionKind::kFail:
      return unavailable(d.message);
    case faults::ActionKind::kCrash:
      // The destination compute dies before doing anything: no reply.
      cloud_.crash_service(config_.name);
      return unavailable("nova-compute on " + config_.name + " died");
    case faults::ActionKind::kDelay:
      cloud_.delay_reply(d.delay);  // a slow prepare: the reply is late
      break;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(cloud_.timeline(), kComputePreLiveMigration, d);
  }
  // nova (multiple port bindings): plug migrate_data.vifs[].get_dest_vif(),
  // the source's network model with this host's vif type and details. Its
  // network bridge is what os-vif plugs into: the source's (as shipped, so a
  // plain-OVS plug creates an OVS bridge named brq..., seed 000) or the
  // destination binding's (the fix).
  for (const auto& port_id : inst->port_ids) {
    auto vif = cloud_.compute(src)->destination_vif(port_id, config_.name);
    if (!vif.ok()) return vif.status();
    Vif plug = *vif;
    plug.network_bridge = os_vif_network_bridge(plug, cloud_.behaviour().dest_xml_bridge);
    LMH_RETURN_IF_ERROR(plug_vif(plug, uuid, cloud_.behaviour().pre_plug_vlan_uplink));
  }
  // The port update that announces the destination to neutron (seed 001:
  // in Queens this update itself produced a premature network-vif-plugged).
  for (const auto& port_id : inst->port_ids) {
    LMH_RETURN_IF_ERROR(cloud_.neutron().update_profile(port_id, "migrating_to", config_.name));
  }
  return ok_status();
}

void ComputeManager::live_migration(const std::string& uuid, const std::string& dest, int mid) {
  Migration* mig = cloud_.migration(mid);
  cloud_.set_migration_status(*mig, "preparing");
  ComputeManager* dst = cloud_.compute(dest);
  // migrate_data.wait_for_vif_plugged comes from the destination's config
  // (check_can_live_migrate_destination); the events are registered before
  // pre_live_migration so that none can slip past.
  std::vector<std::string> events;
  if (dst->config().live_migration_wait_for_vif_plug) {
    for (const auto& port_id : cloud_.instance(uuid)->port_ids) events.push_back("network-vif-plugged-" + port_id);
  }
  int wait = cloud_.prepare_for_events(uuid, events);
  const std::string src = config_.name;
  const size_t n_events = events.size();
  cloud_.rpc_call(
      kRpcCallPreLiveMigration, dest, [dst, uuid, src] { return dst->pre_live_migration(uuid, src); },
      [this, uuid, dest, mid, wait, n_events](Status s) {
        if (!s.ok()) {
          cloud_.cancel_wait(wait);
          rollback_live_migration(uuid, dest, mid, s.with_context("pre_live_migration"));
          return;
        }
        if (n_events)
          cloud_.timeline().record(source(), "waiting for " + std::to_string(n_events) + " network-vif-plugged event(s)");
        cloud_.wait_for_events(wait, config_.vif_plugging_timeout, [this, uuid, dest, mid](Status st) {
          if (!st.ok()) {
            cloud_.timeline().record(source(), st.message());
            if (config_.vif_plugging_is_fatal) {
              rollback_live_migration(uuid, dest, mid, st.with_context("vif_plugging_is_fatal"));
              return;
            }
            cloud_.timeline().record(source(), "continuing: vif_plugging_is_fatal=false");
          }
          start_live_migration_job(uuid, dest, mid);
        });
      });
}

void ComputeManager::start_live_migration_job(const std::string& uuid, const std::string& dest, int mid) {
  cloud_.set_migration_status(*cloud_.migration(mid), "running");
  // The destination domain XML's interfaces (get_updated_guest_xml).
  std::vector<GuestInterface> dest_ifaces;
  for (const auto& port_id : cloud_.instance(uuid)->port_ids) {
    auto vif = destination_vif(port_id, dest);
    if (!vif.ok()) {
      rollback_live_migration(uuid, dest, mid, vif.status());
      return;
    }
    GuestInterface gi = cloud_.compute(dest)->guest_interface(*vif, cloud_.behaviour().dest_xml_bridge);
    cloud_.timeline().record(source(), "destination XML: " + gi.target_dev + " on " + gi.bridge + " (" + gi.type +
                                           ", vif_type " + vif->vif_type + ", dest_xml_bridge=" +
                                           dest_xml_bridge_name(cloud_.behaviour().dest_xml_bridge) + ")");
    dest_ifaces.push_back(gi);
  }
  cloud_.timeline().record(source(), "driver live_migration to " + dest);
  LiveMigrationCallbacks cb;
  cb.on_paused = [this] { cloud_.timeline().record(source(), "guest paused for switchover"); };
  cb.on_resumed = [this, dest] { cloud_.timeline().record("compute." + dest, "guest resumed"); };
  cb.on_done = [this, uuid, dest, mid](Status st) {
    if (st.ok()) post_live_migration(uuid, dest, mid);
    else rollback_live_migration(uuid, dest, mid, st.with_context("live_migration"));
  };
  cloud_.hypervisor().live_migrate(uuid, config_.name, dest, dest_ifaces, std::move(cb));
  // _live_migration_monitor: downtime steps, completion timeout. The job's
  // own completion (above) drives post or rollback; the monitor only acts.
  if (JobControl* job = cloud_.hypervisor().migration_job(uuid)) {
    double data_gb = live_migration_data_gb(cloud_.instance(uuid)->memory_mb);
    JobMonitorOptions options;
    options.source = source();
    auto monitor = std::make_unique<JobMonitor>(cloud_.loop(), cloud_.timeline(), *job, config_.libvirt, data_gb,
                                                std::chrono::milliseconds(500), options);
    Status started = monitor->start([this](Status st) {
      cloud_.timeline().record(source(), "job monitor done: " + st.to_string());
    });
    if (!started.ok()) cloud_.timeline().record(source(), "job monitor not started: " + started.to_string());
    else cloud_.keep_monitor(mid, std::move(monitor));
  }
}

StatusOr<Vif> ComputeManager::destination_vif(const std::string& port_id, const std::string& dest) {
  // nova's migrate_data VIF.get_dest_vif: a copy of the source VIF (its
  // network model, bridge included) with the destination binding's type and
  // details swapped in.
  auto src_vif = cloud_.neutron().vif_for(port_id, config_.name);
  auto dst_vif = cloud_.neutron().vif_for(port_id, dest);
  if (!dst_vif.ok()) return dst_vif.status();
  if (!src_vif.ok()) return src_vif.status();
  Vif v = *src_vif;
  v.vif_type = dst_vif->vif_type;
  v.details = dst_vif->details;
  v.ovs_interfaceid = dst_vif->ovs_interfaceid;
  return v;
}

void ComputeManager::post_live_migration(const std::string& uuid, const std::string& dest, int mid) {
  cloud_.timeline().record(source(), "post_live_migration");
  // No rollback after this point: the guest already runs on the destination.
  faults::Decision d = consult_fault(cloud_.faults(), cloud_.timeline(), kComputePostLiveMigration);
  switch (d.kind) {
    case faults::ActionKind::kFail:
      cloud_.timeline().record(source(), "post_live_migration failed: " + d.message);
      cloud_.set_migration_status(*cloud_.migration(mid), "error");
      return;
    case faults::ActionKind::kDelay:
      // A slow source (e.g. volume detach): everything after waits.
      cloud_.loop().post_after(d.delay, [this, uuid, dest, mid] { finish_post_live_migration(uuid, dest, mid); });
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(cloud_.timeline(), kComputePostLiveMigration, d);
  }
  finish_post_live_migration(uuid, dest, mid);
}

void ComputeManager::finish_post_live_migration(const std::string& uuid, const std::string& dest, int mid) {
  Instance* inst = cloud_.instance(uuid);
  for (const auto& port_id : inst->port_ids) {
    auto vif = cloud_.neutron().vif_for(port_id, config_.name);
    if (vif.ok()) (void)unplug_linux_bridge(*vif, net_);
  }
  cloud_.rpc_call(
      kRpcCallPostLiveMigrationAtDestination, dest,
      [this, dest, uuid] { return cloud_.compute(dest)->post_live_migration_at_destination(uuid); },
      [this, uuid, mid](Status s) {
        if (!s.ok()) cloud_.timeline().record(source(), "post_live_migration_at_destination failed: " + s.to_string());
        // The source binding is now INACTIVE; nova removes it from the old
        // host, but only once the destination's is active (else the port
        // would have none).
        if (s.ok())
          for (const auto& port_id : cloud_.instance(uuid)->port_ids)
            (void)cloud_.neutron().delete_binding(port_id, config_.name);
        cloud_.set_migration_status(*cloud_.migration(mid), s.ok() ? "completed" : "error");
      });
}

Status ComputeManager::post_live_migration_at_destination(const std::string& uuid) {
  Instance* inst = cloud_.instance(uuid);
  cloud_.timeline().record(source(), "post_live_migration_at_destination");
  for (const auto& port_id : inst->port_ids) {
    LMH_RETURN_IF_ERROR(cloud_.neutron().activate_binding(port_id, config_.name));
    LMH_RETURN_IF_ERROR(cloud_.neutron().update_profile(port_id, "migrating_to", std::nullopt));
  }
  inst->host = config_.name;
  inst->task_state.clear();
  cloud_.timeline().record(source(), "instance host = " + config_.name);
  const Behaviour& b = cloud_.behaviour();
  if (b.announce_self_after_migration) {
    // The libvirt driver's _qemu_monitor_announce_self: count attempts,
    // interval apart, the first at once.
    for (int i = 0; i < b.announce_self_count; ++i) {
      cloud_.loop().post_after(std::chrono::milliseconds(b.announce_self_interval_ms) * i, [this, uuid, i] {
        cloud_.timeline().record(source(), "qemu monitor announce_self " + std::to_string(i + 1));
        Status s = cloud_.hypervisor().announce_self(uuid);
        if (!s.ok()) cloud_.timeline().record(source(), "announce_self failed: " + s.message());
      });
    }
  }
  return ok_status();
}

// ---------------------------------------------------------------- cold migration / resize

void ComputeManager::cast_or_error(const faults::FaultPointDescriptor& cast, const std::string& host,
                                   std::function<void()> deliver, const std::string& uuid, int mid) {
  // A cast that cannot be sent raises in the sender, whose migration ends
  // in 'error' (nova's errors_out_migration).
  Status sent = cloud_.rpc_cast(cast, host, std::move(deliver));
  if (sent.ok()) return;
  cloud_.timeline().record(source(), rpc_method(cast) + ": " + sent.message());
  if (Instance* inst = cloud_.instance(uuid)) inst->task_state.clear();
  cloud_.set_migration_status(*cloud_.migration(mid), "error");
}

void ComputeManager::prep_resize(const std::string& uuid, int mid) {
  cloud_.timeline().record(source(), "prep_resize: resource claim for " + uuid.substr(0, 8));
  Migration& m = *cloud_.migration(mid);
  // The binding for this host is made now, inactive, like a live migration's.
  for (const auto& port_id : cloud_.instance(uuid)->port_ids) {
    Status s = cloud_.neutron().create_binding(port_id, config_.name);
    if (!s.ok()) {
      cloud_.timeline().record(source(), "prep_resize failed: " + s.message());
      cloud_.instance(uuid)->task_state.clear();
      cloud_.set_migration_status(m, "error");
      return;
    }
  }
  cloud_.instance(uuid)->task_state = "resize_migrating";
  std::string src = m.source;
  cast_or_error(kRpcCastResizeInstance, src, [this, uuid, mid, src] { cloud_.compute(src)->resize_instance(uuid, mid); },
                uuid, mid);
}

void ComputeManager::resize_instance(const std::string& uuid, int mid) {
  Migration& m = *cloud_.migration(mid);
  cloud_.set_migration_status(m, "migrating");
  // migrate_disk_and_power_off: the guest stops here; its taps go with it.
  Status s = cloud_.hypervisor().power_off(config_.name, uuid);
  if (!s.ok()) {
    cloud_.timeline().record(source(), "resize_instance failed: " + s.message());
    for (const auto& port_id : cloud_.instance(uuid)->port_ids) (void)cloud_.neutron().delete_binding(port_id, m.dest);
    cloud_.instance(uuid)->task_state.clear();
    cloud_.set_migration_status(m, "error");
    return;
  }
  cloud_.timeline().record(source(), "resize_instance: powered off, disk moved");
  cloud_.set_migration_status(m, "post-migrating");
  cloud_.instance(uuid)->task_state = "resize_migrated";
  std::string dest = m.dest;
  cast_or_error(kRpcCastFinishResize, dest, [this, uuid, mid, dest] { cloud_.compute(dest)->finish_resize(uuid, mid); },
                uuid, mid);
}

void ComputeManager::finish_resize(const std::string& uuid, int mid) {
  Migration& m = *cloud_.migration(mid);
  Instance& inst = *cloud_.instance(uuid);
  cloud_.timeline().record(source(), "finish_resize");
  // migrate_instance_finish: the port's binding moves to this host.
  Status s;
  for (const auto& port_id : inst.port_ids) {
    if (s.ok()) s = cloud_.neutron().activate_binding(port_id, config_.name);
  }
  if (s.ok()) s = plug_vifs(inst, cloud_.behaviour().pre_plug_vlan_uplink);
  if (s.ok()) {
    inst.host = config_.name;
    s = spawn(uuid);  // define, plug taps, power on
  }
  if (!s.ok()) {
    cloud_.timeline().record(source(), "finish_resize failed: " + s.message());
    cloud_.set_migration_status(m, "error");
    inst.vm_state = "error";
    inst.task_state.clear();
    return;
  }
  inst.vm_state = "resized";
  inst.task_state.clear();
  cloud_.set_migration_status(m, "finished");
  cloud_.note_pending_resize(uuid, mid);
}

void ComputeManager::confirm_resize(const std::string& uuid, int mid) {
  Migration& m = *cloud_.migration(mid);
  Instance& inst = *cloud_.instance(uuid);
  cloud_.timeline().record(source(), "confirm_resize: source cleanup");
  for (const auto& port_id : inst.port_ids) {
    auto vif = cloud_.neutron().vif_for(port_id, config_.name);
    if (vif.ok() && vif->vif_type == "bridge") (void)unplug_linux_bridge(*vif, net_);
    (void)cloud_.neutron().delete_binding(port_id, config_.name);
  }
  inst.vm_state = "active";
  cloud_.set_migration_status(m, "confirmed");
}

void ComputeManager::revert_resize(const std::string& uuid, int mid) {
  Migration& m = *cloud_.migration(mid);
  Instance& inst = *cloud_.instance(uuid);
  cloud_.timeline().record(source(), "revert_resize: destroy here");
  Status s = cloud_.hypervisor().power_off(config_.name, uuid);
  if (!s.ok()) cloud_.timeline().record(source(), "revert_resize: power off failed: " + s.message());
  // The binding goes back to the source; this host's is deleted.
  for (const auto& port_id : inst.port_ids) {
    (void)cloud_.neutron().activate_binding(port_id, m.source);
    (void)cloud_.neutron().delete_binding(port_id, config_.name);
  }
  std::string src = m.source;
  cast_or_error(kRpcCastFinishRevertResize, src,
                [this, uuid, mid, src] { cloud_.compute(src)->finish_revert_resize(uuid, mid); }, uuid, mid);
}

void ComputeManager::finish_revert_resize(const std::string& uuid, int mid) {
  Migration& m = *cloud_.migration(mid);
  Instance& inst = *cloud_.instance(uuid);
  cloud_.timeline().record(source(), "finish_revert_resize");
  Status s = plug_vifs(inst, false);
  if (s.ok()) {
    inst.host = config_.name;
    s = spawn(uuid);
  }
  if (!s.ok()) {
    cloud_.timeline().record(source(), "finish_revert_resize failed: " + s.message());
    inst.vm_state = "error";
    cloud_.set_migration_status(m, "error");
    return;
  }
  inst.vm_state = "active";
  inst.task_state.clear();
  cloud_.set_migration_status(m, "reverted");
}

void ComputeManager::rollback_live_migration(const std::string& uuid, const std::string& dest,
                                             int mid, const Status& why) {
  cloud_.timeline().record(source(), "rollback_live_migration: " + why.to_string());
  // An aborted job (the monitor's completion timeout, an operator) is
  // 'cancelled', anything else 'error', as nova's recover_method records.
  const std::string status = why.code() == StatusCode::kCancelled ? "cancelled" : "error";
  cloud_.rpc_call(
      kRpcCallRollbackLiveMigrationAtDestination, dest,
      [this, dest, uuid] {
        cloud_.compute(dest)->rollback_live_migration_at_destination(uuid);
        return ok_status();
      },
      [this, uuid, mid, status](Status s) {
        if (!s.ok()) cloud_.timeline().record(source(), "rollback at destination failed: " + s.to_string());
        if (Instance* inst = cloud_.instance(uuid)) inst->task_state.clear();
        cloud_.set_migration_status(*cloud_.migration(mid), status);
      });
}

void ComputeManager::rollback_live_migration_at_destination(const std::string& uuid) {
  Instance* inst = cloud_.instance(uuid);
  cloud_.timeline().record(source(), "rollback_live_migration_at_destination");
  for (const auto& port_id : inst->port_ids) {
    auto vif = cloud_.neutron().vif_for(port_id, config_.name);
    if (vif.ok()) (void)unplug_linux_bridge(*vif, net_);
    (void)cloud_.neutron().update_profile(port_id, "migrating_to", std::nullopt);
    (void)cloud_.neutron().delete_binding(port_id, config_.name);
  }
}

}  // namespace lmh::core
