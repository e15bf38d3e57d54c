#include "core/implied_status.h"

namespace lmh::core {

namespace {

using faults::ActionKind;

bool fired_any(const std::map<std::string, std::set<ActionKind>>& fired, const std::string& point,
               std::initializer_list<ActionKind> kinds) {
  auto it = fired.find(point);
  if (it == fired.end()) return false;
  for (ActionKind k : kinds)
    if (it->second.count(k)) return true;
  return false;
}

}  // namespace

std::set<std::string> implied_migration_statuses(const MoveContext& c,
                                                 const std::map<std::string, std::set<ActionKind>>& fired) {
  const auto lost = {ActionKind::kFail, ActionKind::kDrop, ActionKind::kCrash};
  if (c.migration_type != MigrationKind::kLive) {
    // Cold/resize: any refused, lost or crashed step ends in 'error' (a
    // lost cast is a hang, which migration_terminal reports on its own).
    for (const auto& [point, kinds] : fired) {
      bool cold_point = point.rfind("rpc.cast.", 0) == 0 && point != "rpc.cast.live_migration";
      if (cold_point && (kinds.count(ActionKind::kFail) || kinds.count(ActionKind::kCrash))) return {"error"};
    }
    return {};
  }
  // Live migration: faults before the switchover roll it back, after it
  // leave it in 'error' with the guest already moved; both are 'error'.
  if (fired_any(fired, "rpc.cast.live_migration", {ActionKind::kFail}) ||
      fired_any(fired, "rpc.call.pre_live_migration", lost) ||
      fired_any(fired, "compute.pre_live_migration", {ActionKind::kFail, ActionKind::kCrash}) ||
      fired_any(fired, "neutron.port_update.profile", {ActionKind::kFail}) ||
      fired_any(fired, "hypervisor.migrate", {ActionKind::kFail}) ||
      fired_any(fired, "hypervisor.switchover", {ActionKind::kFail}) ||
      fired_any(fired, "compute.post_live_migration", {ActionKind::kFail}) ||
      fired_any(fired, "rpc.call.post_live_migration_at_destination", lost) ||
      fired_any(fired, "neutron.binding.activate", {ActionKind::kFail}))
    return {"error"};
  // A lost network-vif-plugged (never sent, or its agent report lost) is
  // fatal only when the source waits for it and the timeout is fatal.
  bool event_lost = fired_any(fired, "neutron.notify.vif_plugged", {ActionKind::kDrop, ActionKind::kFail}) ||
                    fired_any(fired, "agent.lb.scan", {ActionKind::kCrash}) ||
                    fired_any(fired, "agent.ovs.port_up", {ActionKind::kDrop});
  // Not waited for, or not fatal: the move must go on regardless. (When
  // fatal, another copy of the event may still have got through.)
  if (event_lost && !(c.waits_for_vif_plugged && c.vif_plugging_is_fatal)) return {"completed"};
  return {};
}

}  // namespace lmh::core
