// The kinds of move nova makes: live migration, cold migration and resize.
// Scenario files name them "live", "cold", "resize"; nova's Migration
// record names them by its migration_type ("live-migration", "migration",
// "resize"). Both spellings live here, once.
#pragma once

#include <string_view>

#include "common/status.h"

namespace lmh::core {

enum class MigrationKind {
  kLive,    // os-migrateLive
  kCold,    // migrate (same flavor)
  kResize,  // resize (new flavor), the cold migration flow
};

// The scenario name: "live", "cold", "resize".
const char* to_string(MigrationKind kind);
// nova's Migration.migration_type: "live-migration", "migration", "resize".
const char* nova_migration_type(MigrationKind kind);
// The kind named 'name' (scenario spelling); kInvalidArgument "expected
// live, cold or resize, got '<name>'" for any other name.
StatusOr<MigrationKind> parse_migration_kind(std::string_view name);

}  // namespace lmh::core
