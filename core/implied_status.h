// What a migration's final status must be once faults acted, as nova's flow
// decides it: the invariant "migration_terminal" compares the record with
// this, so a fault that should have failed a move but did not (or one that
// failed a move it should not have) is caught.
#pragma once

#include <map>
#include <set>
#include <string>

#include "faults/fault_plan.h"

namespace lmh::core {

struct MoveContext {
  std::string migration_type = "live-migration";  // | "migration" | "resize"
  std::string resize_outcome = "confirm";          // cold/resize: "confirm" | "revert" | "none"
  bool waits_for_vif_plugged = true;  // destination's live_migration_wait_for_vif_plug
  bool vif_plugging_is_fatal = true;  // source's vif_plugging_is_fatal
};

// The statuses the move may end in given the faults that fired (point ->
// actions). Without a fatal fault: the normal end ("completed"; cold and
// resize: "confirmed", "reverted", or "finished" when nothing follows).
std::set<std::string> implied_migration_statuses(const MoveContext& context,
                                                 const std::map<std::string, std::set<faults::ActionKind>>& fired);

}  // namespace lmh::core
