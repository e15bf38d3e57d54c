// The final status nova's flow implies for the faults that fired.
#include "core/implied_status.h"

#include <gtest/gtest.h>

namespace lmh::core {
namespace {

using faults::ActionKind;
using Fired = std::map<std::string, std::set<ActionKind>>;
using Statuses = std::set<MigrationStatus>;

TEST(ImpliedStatus, NoFatalFaultImpliesNothing) {
  MoveContext live;
  EXPECT_EQ(implied_migration_statuses(live, {}), Statuses{});
  EXPECT_EQ(implied_migration_statuses(live, Fired{{"agent.lb.enslave_uplink", {ActionKind::kDelay}},
                                                   {"guest.announce", {ActionKind::kDrop}},
                                                   {"fabric.port", {ActionKind::kDrop}}}),
            Statuses{});
}

TEST(ImpliedStatus, FatalFaultsBeforeOrAfterSwitchoverEndInError) {
  MoveContext live;
  for (const auto& [point, kind] : std::vector<std::pair<std::string, ActionKind>>{
           {"rpc.call.pre_live_migration", ActionKind::kDrop},
           {"rpc.call.pre_live_migration", ActionKind::kCrash},
           {"compute.pre_live_migration", ActionKind::kFail},
           {"hypervisor.migrate", ActionKind::kFail},
           {"hypervisor.switchover", ActionKind::kFail},
           {"neutron.binding.activate", ActionKind::kFail},
           {"rpc.call.post_live_migration_at_destination", ActionKind::kFail}}) {
    EXPECT_EQ(implied_migration_statuses(live, Fired{{point, {kind}}}), Statuses{MigrationStatus::kError}) << point;
  }
  // A delayed call is not fatal.
  EXPECT_EQ(implied_migration_statuses(live, Fired{{"rpc.call.pre_live_migration", {ActionKind::kDelay}}}),
            Statuses{});
}

TEST(ImpliedStatus, LostVifEventDependsOnTheWaitConfiguration) {
  Fired lost{{"neutron.notify.vif_plugged", {ActionKind::kDrop}}};
  MoveContext fatal;
  EXPECT_EQ(implied_migration_statuses(fatal, lost), Statuses{});  // another copy may get through
  MoveContext non_fatal;
  non_fatal.vif_plugging_is_fatal = false;
  EXPECT_EQ(implied_migration_statuses(non_fatal, lost), Statuses{MigrationStatus::kCompleted});
  MoveContext no_wait;
  no_wait.waits_for_vif_plugged = false;
  EXPECT_EQ(implied_migration_statuses(no_wait, lost), Statuses{MigrationStatus::kCompleted});
}

TEST(ImpliedStatus, ColdMovesEndInErrorWhenACastFailed) {
  MoveContext cold;
  cold.migration_type = MigrationKind::kCold;
  EXPECT_EQ(implied_migration_statuses(cold, {}), Statuses{});
  EXPECT_EQ(implied_migration_statuses(cold, Fired{{"rpc.cast.finish_resize", {ActionKind::kFail}}}),
            Statuses{MigrationStatus::kError});
  EXPECT_EQ(implied_migration_statuses(cold, Fired{{"rpc.cast.finish_resize", {ActionKind::kDelay}}}),
            Statuses{});
}

}  // namespace
}  // namespace lmh::core
