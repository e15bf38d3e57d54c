// Cold migration and resize as nova runs them (prep_resize, resize_instance,
// finish_resize, then confirm or revert), on fakes under a simulated clock.
#include <gtest/gtest.h>

#include "core/cloud.h"
#include "core/names.h"
#include "fakes.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using testing::FakeHostNetwork;
using testing::FakeHypervisor;
using testing::kNet;
using testing::kPort;
using testing::kVm;


class ColdMigration : public ::testing::Test, protected testing::TwoHostCloud {
 protected:
  void SetUp() override { ASSERT_TRUE(build_cloud().ok()); }
  void run_until_status(int id, MigrationStatus status) {
    ASSERT_TRUE(loop.run_until([&] { return cloud->migration(id)->status == status; }, clock.now() + 30s).ok())
        << "status is " << cloud->migration(id)->status;
  }
  std::vector<std::string> statuses(int id) {
    std::vector<std::string> out;
    for (const auto& e : timeline.all("conductor", "migration " + std::to_string(id) + " status "))
      out.push_back(e.event.substr(e.event.rfind(' ') + 1));
    return out;
  }

};

TEST_F(ColdMigration, MigrateThenConfirmMovesEverythingToTheScheduledHost) {
  auto id = cloud->migrate(kVm, "");  // the scheduler picks: the only other host
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(cloud->migration(*id)->dest, "dst");
  run_until_status(*id, MigrationStatus::kFinished);
  EXPECT_EQ(cloud->instance(kVm)->vm_state, "resized");
  EXPECT_EQ(cloud->instance(kVm)->host, "dst");
  EXPECT_EQ(hv->running.at(kVm), "dst");
  EXPECT_FALSE(src.links.count(tap_name(kPort)));            // powered off there
  EXPECT_EQ(dst.links.at(tap_name(kPort)).master, lb_bridge_name(kNet));
  EXPECT_EQ(cloud->neutron().port(kPort)->active_binding()->host, "dst");
  ASSERT_TRUE(cloud->confirm_resize(kVm).ok());
  run_until_status(*id, MigrationStatus::kConfirmed);
  EXPECT_EQ(statuses(*id), (std::vector<std::string>{"pre-migrating", "migrating", "post-migrating", "finished",
                                                      "confirming", "confirmed"}));
  EXPECT_EQ(cloud->instance(kVm)->vm_state, "active");
  ASSERT_EQ(cloud->neutron().port(kPort)->bindings.size(), 1u);  // the source binding is gone
  EXPECT_TRUE(cloud->check_invariants(kVm, *id).empty());
  // The destination agent wires the port once its binding is active.
  ASSERT_TRUE(loop.run_for(3s).ok());
  EXPECT_EQ(dst.links.at("eth1.100").master, lb_bridge_name(kNet));
}

TEST_F(ColdMigration, ResizeRevertBringsTheGuestBackToTheSource) {
  auto id = cloud->migrate(kVm, "dst", /*resize=*/true);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(cloud->migration(*id)->migration_type, MigrationKind::kResize);
  run_until_status(*id, MigrationStatus::kFinished);
  ASSERT_TRUE(cloud->revert_resize(kVm).ok());
  run_until_status(*id, MigrationStatus::kReverted);
  EXPECT_EQ(cloud->instance(kVm)->host, "src");
  EXPECT_EQ(cloud->instance(kVm)->vm_state, "active");
  EXPECT_EQ(hv->running.at(kVm), "src");
  EXPECT_FALSE(dst.links.count(tap_name(kPort)));
  EXPECT_EQ(src.links.at(tap_name(kPort)).master, lb_bridge_name(kNet));
  const Port* p = cloud->neutron().port(kPort);
  ASSERT_EQ(p->bindings.size(), 1u);
  EXPECT_EQ(p->bindings[0].host, "src");
  EXPECT_EQ(p->bindings[0].status, BindingStatus::kActive);
  EXPECT_EQ(statuses(*id), (std::vector<std::string>{"pre-migrating", "migrating", "post-migrating", "finished",
                                                      "reverting", "reverted"}));
  EXPECT_TRUE(cloud->check_invariants(kVm, *id).empty());
  EXPECT_FALSE(cloud->confirm_resize(kVm).ok());  // nothing left to confirm
}

TEST_F(ColdMigration, RefusedWhenTheDestinationIsTheSourceOrUnknown) {
  auto same = cloud->migrate(kVm, "src");
  EXPECT_EQ(same.status().code(), StatusCode::kFailedPrecondition);
  auto unknown = cloud->migrate(kVm, "nowhere");
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cloud->instance(kVm)->task_state, "");
  EXPECT_EQ(cloud->neutron().port(kPort)->bindings.size(), 1u);
}

TEST_F(ColdMigration, LiveMigrationWithoutADestinationAsksTheScheduler) {
  auto id = cloud->live_migrate(kVm, "");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(cloud->migration(*id)->dest, "dst");
  run_until_status(*id, MigrationStatus::kCompleted);
}

}  // namespace
}  // namespace lmh::core
