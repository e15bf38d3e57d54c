// What a migration's final status must be once faults acted, as nova's flow
// decides it: the invariant "migration_terminal" compares the record with
// this, so a fault that should have failed a move but did not (or one that
// failed a move it should not have) is caught. The rules are the fired
// points' descriptors (FaultPointDescriptor::fatal, loses_vif_plugged).
#pragma once

#include <map>
#include <set>
#include <string>

#include "core/migration_kind.h"
#include "core/migration_status.h"
#include "faults/fault_plan.h"

namespace lmh::core {

struct MoveContext {
  MigrationKind migration_type = MigrationKind::kLive;
  bool waits_for_vif_plugged = true;  // destination's live_migration_wait_for_vif_plug
  bool vif_plugging_is_fatal = true;  // source's vif_plugging_is_fatal
};

// The statuses the move must end in given the faults that fired (point ->
// actions), or an empty set when they imply nothing (no fatal fault fired:
// the move may still fail for its own reasons, e.g. seed 001's timeout).
std::set<MigrationStatus> implied_migration_statuses(const MoveContext& context,
                                                 const std::map<std::string, std::set<faults::ActionKind>>& fired);

}  // namespace lmh::core
