// nova's database as the roles share it: instances, migration records, the
// scheduler's claims and the resizes awaiting confirm or revert. No role
// logic lives here; a status change is recorded on the timeline.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/migration_kind.h"
#include "core/migration_status.h"
#include "core/timeline.h"

namespace lmh::core {

// Members default to {} so designated initialisers may skip them.
struct Instance {
  std::string uuid{};
  std::string name{};
  std::string host{};
  std::string vm_state = "active";
  std::string task_state{};  // "" = None
  std::vector<std::string> port_ids{};
  uint64_t memory_mb = 128;  // the flavor's RAM: what a live migration copies
};

struct Migration {
  int id = 0;
  std::string instance_uuid{};
  std::string source{};
  std::string dest{};
  // nova's migration_type: nova_migration_type() spells it.
  MigrationKind migration_type = MigrationKind::kLive;
  MigrationStatus status = MigrationStatus::kAccepted;
};

class NovaDatabase {
 public:
  explicit NovaDatabase(Timeline& timeline) : timeline_(timeline) {}

  // Adds 'instance'; false when its uuid is taken.
  bool add_instance(Instance instance);
  Instance* instance(const std::string& uuid);
  const Instance* instance(const std::string& uuid) const;
  // A new migration record (ids are 1, 2, ... in request order) in 'status'.
  Migration& add_migration(Migration record, MigrationStatus status);
  Migration* migration(int id);
  int migration_count() const { return static_cast<int>(migrations_.size()); }
  // Sets and records a migration's status; a terminal one ends its claim.
  void set_status(Migration& m, MigrationStatus status);
  // The scheduler's claim of 'mb' on 'host' for migration 'id' (placement's
  // allocation), until the move ends.
  void claim(int id, const std::string& host, uint64_t mb) { claims_[id] = {host, mb}; }
  // RAM of 'host' taken by its instances and by claims of moves to it.
  uint64_t memory_used_mb(const std::string& host) const;
  // finish_resize reached VERIFY_RESIZE for 'instance_uuid'.
  void note_pending_resize(const std::string& instance_uuid, int migration_id) {
    pending_resizes_[instance_uuid] = migration_id;
  }
  // Takes the resize awaiting confirm/revert of 'instance_uuid' (0: none).
  int take_pending_resize(const std::string& instance_uuid);

 private:
  Timeline& timeline_;
  std::map<std::string, Instance> instances_;
  std::deque<Migration> migrations_;  // deque: pointers stay valid as it grows
  std::map<int, std::pair<std::string, uint64_t>> claims_;  // migration id -> (host, MB)
  std::map<std::string, int> pending_resizes_;              // instance -> migration id
};

}  // namespace lmh::core
