#include "core/migration_status.h"

#include <string>

namespace lmh::core {

namespace {
constexpr MigrationStatus kAll[] = {
    MigrationStatus::kAccepted,     MigrationStatus::kPreparing, MigrationStatus::kRunning,
    MigrationStatus::kCompleted,    MigrationStatus::kError,     MigrationStatus::kFailed,
    MigrationStatus::kCancelled,    MigrationStatus::kPreMigrating, MigrationStatus::kMigrating,
    MigrationStatus::kPostMigrating, MigrationStatus::kFinished, MigrationStatus::kConfirming,
    MigrationStatus::kConfirmed,    MigrationStatus::kReverting, MigrationStatus::kReverted,
};
}  // namespace

const char* migration_status_name(MigrationStatus s) {
  switch (s) {
    case MigrationStatus::kAccepted: return "accepted";
    case MigrationStatus::kPreparing: return "preparing";
    case MigrationStatus::kRunning: return "running";
    case MigrationStatus::kCompleted: return "completed";
    case MigrationStatus::kError: return "error";
    case MigrationStatus::kFailed: return "failed";
    case MigrationStatus::kCancelled: return "cancelled";
    case MigrationStatus::kPreMigrating: return "pre-migrating";
    case MigrationStatus::kMigrating: return "migrating";
    case MigrationStatus::kPostMigrating: return "post-migrating";
    case MigrationStatus::kFinished: return "finished";
    case MigrationStatus::kConfirming: return "confirming";
    case MigrationStatus::kConfirmed: return "confirmed";
    case MigrationStatus::kReverting: return "reverting";
    case MigrationStatus::kReverted: return "reverted";
  }
  return "?";
}

StatusOr<MigrationStatus> parse_migration_status(std::string_view name) {
  for (MigrationStatus s : kAll)
    if (name == migration_status_name(s)) return s;
  return invalid_argument("unknown migration status '" + std::string(name) + "'");
}

bool is_terminal(MigrationStatus s) {
  switch (s) {
    case MigrationStatus::kCompleted:
    case MigrationStatus::kError:
    case MigrationStatus::kFailed:
    case MigrationStatus::kCancelled:
    case MigrationStatus::kConfirmed:
    case MigrationStatus::kReverted:
      return true;
    default:
      return false;
  }
}

}  // namespace lmh::core
