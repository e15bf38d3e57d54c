#include "core/migration_kind.h"

#include <string>

namespace lmh::core {

const char* to_string(MigrationKind kind) {
  switch (kind) {
    case MigrationKind::kLive: return "live";
    case MigrationKind::kCold: return "cold";
    case MigrationKind::kResize: return "resize";
  }
  return "?";
}

const char* nova_migration_type(MigrationKind kind) {
  switch (kind) {
    case MigrationKind::kLive: return "live-migration";
    case MigrationKind::kCold: return "migration";
    case MigrationKind::kResize: return "resize";
  }
  return "?";
}

StatusOr<MigrationKind> parse_migration_kind(std::string_view name) {
  for (MigrationKind k : {MigrationKind::kLive, MigrationKind::kCold, MigrationKind::kResize})
    if (name == to_string(k)) return k;
  return invalid_argument("expected live, cold or resize, got '" + std::string(name) + "'");
}

}  // namespace lmh::core
