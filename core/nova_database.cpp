#include "core/nova_database.h"

namespace lmh::core {

bool NovaDatabase::add_instance(Instance instance) {
  std::string uuid = instance.uuid;
  return instances_.emplace(std::move(uuid), std::move(instance)).second;
}

Instance* NovaDatabase::instance(const std::string& uuid) {
  auto it = instances_.find(uuid);
  return it == instances_.end() ? nullptr : &it->second;
}

const Instance* NovaDatabase::instance(const std::string& uuid) const {
  auto it = instances_.find(uuid);
  return it == instances_.end() ? nullptr : &it->second;
}

Migration& NovaDatabase::add_migration(Migration record, MigrationStatus status) {
  record.id = static_cast<int>(migrations_.size()) + 1;
  migrations_.push_back(std::move(record));
  set_status(migrations_.back(), status);
  return migrations_.back();
}

Migration* NovaDatabase::migration(int id) {
  if (id < 1 || id > migration_count()) return nullptr;
  return &migrations_[static_cast<size_t>(id - 1)];
}

void NovaDatabase::set_status(Migration& m, MigrationStatus status) {
  m.status = status;
  // The claim ends with the move: the instance's own RAM counts from here.
  if (is_terminal(status)) claims_.erase(m.id);
  timeline_.record("conductor", "migration " + std::to_string(m.id) + " status " + migration_status_name(status));
}

uint64_t NovaDatabase::memory_used_mb(const std::string& host) const {
  uint64_t used = 0;
  for (const auto& [uuid, inst] : instances_)
    if (inst.host == host) used += inst.memory_mb;
  for (const auto& [id, claim] : claims_)
    if (claim.first == host) used += claim.second;
  return used;
}

int NovaDatabase::take_pending_resize(const std::string& uuid) {
  auto it = pending_resizes_.find(uuid);
  if (it == pending_resizes_.end()) return 0;
  int id = it->second;
  pending_resizes_.erase(it);
  return id;
}

}  // namespace lmh::core
