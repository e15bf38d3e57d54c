// The statuses of nova's Migration record, typed. nova stores them as text
// (objects/migration.py); migration_status_name() gives that text, for the
// timeline and result.json.
//
//   live:        accepted preparing running completed | error failed cancelled
//   cold/resize: pre-migrating migrating post-migrating finished, then
//                confirming confirmed | reverting reverted | error
#pragma once

#include <ostream>
#include <string_view>

#include "common/status.h"

namespace lmh::core {

enum class MigrationStatus {
  kAccepted,
  kPreparing,
  kRunning,
  kCompleted,
  kError,
  kFailed,
  kCancelled,
  kPreMigrating,
  kMigrating,
  kPostMigrating,
  kFinished,
  kConfirming,
  kConfirmed,
  kReverting,
  kReverted,
};

// nova's spelling: "accepted", "pre-migrating", ...
const char* migration_status_name(MigrationStatus status);
StatusOr<MigrationStatus> parse_migration_status(std::string_view name);
// A status nothing moves the record out of.
bool is_terminal(MigrationStatus status);
// For test failure messages.
inline std::ostream& operator<<(std::ostream& os, MigrationStatus s) { return os << migration_status_name(s); }

}  // namespace lmh::core
