#include "core/implied_status.h"

#include <algorithm>

namespace lmh::core {

namespace {

using faults::ActionKind;

bool any_of(const std::set<ActionKind>& fired, const std::vector<ActionKind>& kinds) {
  return std::any_of(kinds.begin(), kinds.end(), [&](ActionKind k) { return fired.count(k) > 0; });
}

}  // namespace

std::set<MigrationStatus> implied_migration_statuses(const MoveContext& c,
                                                 const std::map<std::string, std::set<ActionKind>>& fired) {
  // Each point's descriptor says which of its actions end a live or a cold
  // move in 'error' (before the switchover a live migration rolls back,
  // after it the guest has moved: both are 'error'), and which lose the
  // network-vif-plugged event.
  const bool live = c.migration_type == MigrationKind::kLive;
  bool event_lost = false;
  for (const auto& [name, kinds] : fired) {
    const faults::FaultPointDescriptor* point = faults::find_fault_point(name);
    if (!point) continue;
    if (any_of(kinds, live ? point->fatal.live : point->fatal.cold)) return {MigrationStatus::kError};
    event_lost = event_lost || (live && any_of(kinds, point->loses_vif_plugged));
  }
  // A lost network-vif-plugged is fatal only when the source waits for it
  // and the timeout is fatal. Not waited for, or not fatal: the move must go
  // on regardless. (When fatal, another copy of the event may still have
  // got through.)
  if (event_lost && !(c.waits_for_vif_plugged && c.vif_plugging_is_fatal)) return {MigrationStatus::kCompleted};
  return {};
}

}  // namespace lmh::core
