#include "core/conductor.h"

#include <algorithm>

#include "core/compute_manager.h"
#include "core/compute_rpcapi.h"

namespace lmh::core {

Status Conductor::boot(Instance instance, const std::string& host) {
  ComputeManager* c = s_.hosts.compute(host);
  if (!c) return not_found("host " + host);
  if (s_.db.instance(instance.uuid)) return {StatusCode::kAlreadyExists, "instance " + instance.uuid};
  for (const auto& port : instance.port_ids) {
    LMH_RETURN_IF_ERROR(s_.neutron.create_binding(port, host));
  }
  instance.host = host;
  std::string uuid = instance.uuid;
  s_.db.add_instance(std::move(instance));
  s_.timeline.record("nova.api", "boot " + uuid.substr(0, 8) + " on " + host);
  return c->spawn(uuid);
}

std::string Conductor::pick_destination(const std::string& uuid, bool live) {
  const Instance* inst = s_.db.instance(uuid);
  for (const auto& host : s_.hosts.host_names())
    if (inst && check_move(inst, uuid, host, live, /*force=*/false).ok()) return host;
  return "";
}

StatusOr<int> Conductor::refuse(Migration& m, Instance* inst, const Status& why) {
  s_.timeline.record("conductor", "migration " + std::to_string(m.id) + " refused: " + why.message());
  s_.db.set_status(m, MigrationStatus::kError);
  if (inst) inst->task_state.clear();
  return why;
}

Migration& Conductor::new_migration(const std::string& uuid, const std::string& dest_in, MigrationKind kind,
                                MigrationStatus status) {
  Instance* inst = s_.db.instance(uuid);
  Migration m;
  m.instance_uuid = uuid;
  m.migration_type = kind;
  m.source = inst ? inst->host : "";
  // The scheduler picks a destination when none is given.
  m.dest = dest_in.empty() && inst ? pick_destination(uuid, kind == MigrationKind::kLive) : dest_in;
  return s_.db.add_migration(std::move(m), status);
}

Status Conductor::check_move(const Instance* inst, const std::string& uuid, const std::string& dest, bool live,
                         bool force) {
  if (!inst) return not_found("instance " + uuid);
  if (inst->vm_state != "active") return failed_precondition("instance is " + inst->vm_state + ", not active");
  if (!inst->task_state.empty()) return failed_precondition("instance task_state is " + inst->task_state);
  if (!s_.hosts.compute(inst->host) || !s_.rpc.service_up(inst->host))
    return failed_precondition("source host " + inst->host + " is not up");
  if (dest.empty()) return failed_precondition("No valid host was found");
  ComputeManager* d = s_.hosts.compute(dest);
  if (!d) return failed_precondition("destination host " + dest + " does not exist");
  if (!s_.rpc.service_up(dest)) return failed_precondition("destination host " + dest + " is not up");
  if (dest == inst->host) return failed_precondition("destination " + dest + " is the instance's host");
  // The scheduler's filters; a forced destination bypasses them.
  if (!force && !d->config().service_enabled)
    return failed_precondition("No valid host was found: compute service on " + dest + " is disabled");
  const uint64_t free_mb = d->config().memory_mb - std::min(d->config().memory_mb, s_.db.memory_used_mb(dest));
  if (free_mb < inst->memory_mb)
    return failed_precondition("MigrationPreCheckError: " + dest + " has " + std::to_string(free_mb) +
                               " MB free, the instance needs " + std::to_string(inst->memory_mb) + " MB");
  if (live) {
    const HostConfig& src = s_.hosts.compute(inst->host)->config();
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

StatusOr<int> Conductor::migrate(const std::string& uuid, const std::string& dest_in, bool resize) {
  Migration& mig = new_migration(uuid, dest_in, resize ? MigrationKind::kResize : MigrationKind::kCold, MigrationStatus::kPreMigrating);
  Instance* inst = s_.db.instance(uuid);
  if (Status check = check_move(inst, uuid, mig.dest, /*live=*/false, /*force=*/false); !check.ok())
    return refuse(mig, inst, check);
  s_.db.claim(mig.id, mig.dest, inst->memory_mb);  // the scheduler's claim (placement allocation)
  inst->task_state = "resize_prep";
  int id = mig.id;
  std::string dest = mig.dest;
  Status sent = s_.rpc.cast(compute_rpcapi::kPrepResize, dest, [this, uuid, dest, id] { s_.hosts.compute(dest)->prep_resize(uuid, id); });
  if (!sent.ok()) return refuse(mig, inst, sent);
  return id;
}

Status Conductor::confirm_resize(const std::string& uuid) {
  const int id = s_.db.take_pending_resize(uuid);
  if (id == 0) return failed_precondition("instance " + uuid + " has no resize to confirm");
  s_.db.set_status(*s_.db.migration(id), MigrationStatus::kConfirming);
  std::string source = s_.db.migration(id)->source;
  Status sent = s_.rpc.cast(compute_rpcapi::kConfirmResize, source, [this, uuid, id, source] { s_.hosts.compute(source)->confirm_resize(uuid, id); });
  if (!sent.ok()) s_.db.set_status(*s_.db.migration(id), MigrationStatus::kError);
  return sent;
}

Status Conductor::revert_resize(const std::string& uuid) {
  const int id = s_.db.take_pending_resize(uuid);
  if (id == 0) return failed_precondition("instance " + uuid + " has no resize to revert");
  s_.db.set_status(*s_.db.migration(id), MigrationStatus::kReverting);
  s_.db.instance(uuid)->task_state = "resize_reverting";
  std::string dest = s_.db.migration(id)->dest;
  Status sent = s_.rpc.cast(compute_rpcapi::kRevertResize, dest, [this, uuid, id, dest] { s_.hosts.compute(dest)->revert_resize(uuid, id); });
  if (!sent.ok()) {
    s_.db.instance(uuid)->task_state.clear();
    s_.db.set_status(*s_.db.migration(id), MigrationStatus::kError);
  }
  return sent;
}

StatusOr<int> Conductor::live_migrate(const std::string& uuid, const std::string& dest_in, bool force) {
  Migration& mig = new_migration(uuid, dest_in, MigrationKind::kLive, MigrationStatus::kAccepted);
  Instance* inst = s_.db.instance(uuid);
  const std::string dest = mig.dest;
  // LiveMigrationTask checks.
  if (Status check = check_move(inst, uuid, dest, /*live=*/true, force); !check.ok()) return refuse(mig, inst, check);
  if (force) s_.timeline.record("conductor", "forced to " + dest + ": scheduler bypassed");
  s_.db.claim(mig.id, dest, inst->memory_mb);
  inst->task_state = "migrating";
  // Multiple port bindings: an INACTIVE binding on the destination first.
  for (const auto& port : inst->port_ids) {
    Status s = s_.neutron.create_binding(port, dest);
    if (!s.ok()) return refuse(mig, inst, s);
  }
  int id = mig.id;
  std::string source = inst->host;
  // rpc.cast.live_migration: conductor -> source compute. A lost cast
  // leaves the migration 'accepted' for good, as in nova; a failed send
  // is an error the API sees, and the conductor undoes its binding.
  Status sent = s_.rpc.cast(compute_rpcapi::kLiveMigration, source,
                         [this, uuid, dest, id, source] { s_.hosts.compute(source)->live_migration(uuid, dest, id); });
  if (!sent.ok()) {
    for (const auto& port : inst->port_ids) (void)s_.neutron.delete_binding(port, dest);
    return refuse(mig, inst, sent);
  }
  return id;
}

}  // namespace lmh::core
