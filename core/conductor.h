// nova's API and conductor with its scheduler: accepts a boot or a move,
// creates the Migration record, checks the move (LiveMigrationTask,
// MigrationTask), claims the destination's RAM and casts the first RPC to a
// compute host. Everything after that runs in the compute managers.
#pragma once

#include <string>

#include "common/status.h"
#include "core/nova_services.h"

namespace lmh::core {

class Conductor {
 public:
  explicit Conductor(NovaServices services) : s_(services) {}

  // API: boot 'instance' on 'host' with its ports (which must exist in neutron).
  Status boot(Instance instance, const std::string& host);
  // API os-migrateLive: returns the migration id; the flow continues on the loop.
  // 'dest' empty: the scheduler picks one (the first other host that is up).
  // 'force' (API microversions 2.30-2.67): a given destination bypasses
  // the scheduler's filters (a disabled service is accepted); the
  // conductor's own checks (up, memory, hypervisor) still run.
  StatusOr<int> live_migrate(const std::string& instance_uuid, const std::string& dest, bool force = false);
  // API migrate (cold) or resize: the flow runs to 'finished' (VERIFY_RESIZE);
  // then confirm_resize or revert_resize. Returns the migration id.
  StatusOr<int> migrate(const std::string& instance_uuid, const std::string& dest, bool resize = false);
  Status confirm_resize(const std::string& instance_uuid);
  Status revert_resize(const std::string& instance_uuid);

  // The scheduler: the first host (in name order) that passes the checks
  // for moving 'instance_uuid' there; "" when none does (NoValidHost).
  std::string pick_destination(const std::string& instance_uuid, bool live);

 private:
  // Creates the Migration record of a move of 'uuid' to 'dest' (the
  // scheduler's pick when empty) in 'status'.
  Migration& new_migration(const std::string& uuid, const std::string& dest, MigrationKind kind,
                           MigrationStatus status);
  // The conductor's checks before any move: instance active and idle,
  // source up, destination known, up and not the source, with RAM free;
  // live: the same hypervisor type, not older; unless 'force', the
  // scheduler's filters (service enabled).
  Status check_move(const Instance* inst, const std::string& uuid, const std::string& dest, bool live, bool force);
  // Records a refused request: status 'error', task state cleared.
  StatusOr<int> refuse(Migration& m, Instance* inst, const Status& why);

  NovaServices s_;
};

}  // namespace lmh::core
