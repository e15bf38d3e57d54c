// Faults on RPC between roles and on the OVS agent's report, on fakes under
// a simulated clock.
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


class RpcFaults : public ::testing::Test, protected testing::TwoHostCloud {
 protected:
  // The cloud with 'fault' in its plan, armed after boot.
  void build(const std::string& fault) {
    auto spec = faults::parse_fault_spec(fault);
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    plan = std::make_unique<faults::FaultPlan>(std::vector<faults::FaultSpec>{*spec}, 1, /*armed=*/false);
    ASSERT_TRUE(build_cloud(Behaviour{}, plan.get()).ok());
    plan->arm();
  }
  std::map<std::string, bool> invariants(int id) {
    std::map<std::string, bool> out;
    for (const auto& r : cloud->invariant_report(kVm, id)) out[r.name] = r.ok;
    return out;
  }

  std::unique_ptr<faults::FaultPlan> plan;
};

TEST_F(RpcFaults, PreLiveMigrationCallFailingRollsBackAtOnce) {
  build("rpc.call.pre_live_migration=fail:remote error");
  MonoTime start = clock.now();
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(5s).ok());
  EXPECT_EQ(cloud->migration(*id)->status, MigrationStatus::kError);
  auto rollback = timeline.first("compute.src", "rollback_live_migration: UNAVAILABLE");
  ASSERT_TRUE(rollback.has_value());
  EXPECT_NE(rollback->event.find("remote error"), std::string::npos) << rollback->event;
  EXPECT_LT(rollback->t - start, 1s);  // an error reply, not a timeout
  EXPECT_EQ(plan->counts().at("rpc.call.pre_live_migration").injected, 1);
  for (const auto& [name, ok] : invariants(*id)) EXPECT_TRUE(ok) << name;
}

TEST_F(RpcFaults, LostPreLiveMigrationReplyTimesOutAfterRpcResponseTimeout) {
  build("rpc.call.pre_live_migration=drop");
  cloud->rpc().set_response_timeout(30s);
  MonoTime start = clock.now();
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(29s).ok());
  EXPECT_EQ(cloud->migration(*id)->status, MigrationStatus::kPreparing);  // the caller still waits
  ASSERT_TRUE(loop.run_for(5s).ok());
  EXPECT_EQ(cloud->migration(*id)->status, MigrationStatus::kError);
  auto timeout = timeline.first("rpc", "call pre_live_migration: MessagingTimeout");
  ASSERT_TRUE(timeout.has_value());
  EXPECT_EQ(timeout->t - start, 30s);
  for (const auto& [name, ok] : invariants(*id)) EXPECT_TRUE(ok) << name;
}

TEST_F(RpcFaults, DelayedPreLiveMigrationReplyStartsTheJobThatMuchLater) {
  build("rpc.call.pre_live_migration=delay:7000");
  MonoTime start = clock.now();
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_until([&] { return cloud->migration(*id)->status == MigrationStatus::kCompleted; }, clock.now() + 60s).ok());
  auto running = timeline.first("conductor", "migration 1 status running");
  ASSERT_TRUE(running.has_value());
  // Without the fault the job starts as soon as vif-plugged arrives (one
  // agent poll, 2 s here); the reply 7 s late holds it back to 7 s.
  EXPECT_GE(running->t - start, 7000ms);
  EXPECT_LT(running->t - start, 7100ms);
}

TEST_F(RpcFaults, DestinationComputeCrashingInPreLiveMigrationEndsInErrorAndStaysDown) {
  build("compute.pre_live_migration=crash");
  cloud->rpc().set_response_timeout(20s);
  MonoTime start = clock.now();
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(60s).ok());
  EXPECT_FALSE(cloud->rpc().service_up("dst"));
  EXPECT_TRUE(cloud->rpc().service_up("src"));
  // pre_live_migration times out, and so does the rollback call to the
  // dead destination: two timeouts, then 'error'.
  auto error = timeline.first("conductor", "migration 1 status error");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->t - start, 40s);
  EXPECT_EQ(cloud->instance(kVm)->host, "src");
  EXPECT_TRUE(cloud->instance(kVm)->task_state.empty());
  // The conductor refuses a later move to the dead host.
  auto again = cloud->live_migrate(kVm, "dst");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("destination host dst is not up"), std::string::npos)
      << again.status().message();
}

TEST_F(RpcFaults, SlowSourcePostLiveMigrationDelaysCompletionNotTheGuest) {
  build("compute.post_live_migration=delay:5000");
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_until([&] { return cloud->migration(*id)->status == MigrationStatus::kCompleted; }, clock.now() + 60s).ok());
  auto post = timeline.first("compute.src", "post_live_migration");
  auto host = timeline.first("compute.dst", "instance host = dst");
  ASSERT_TRUE(post.has_value());
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(host->t - post->t, 5000ms);
  for (const auto& [name, ok] : invariants(*id)) EXPECT_TRUE(ok) << name;
}

TEST_F(RpcFaults, InvariantFailsWhenTheRecordDisagreesWithWhatTheFaultsImply) {
  build("compute.pre_live_migration=fail:plug failed");
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(60s).ok());
  ASSERT_EQ(cloud->migration(*id)->status, MigrationStatus::kError);
  auto ok_with = [&](const std::set<MigrationStatus>& expected) {
    for (const auto& r : cloud->invariant_report(kVm, *id, expected))
      if (r.name == "migration_terminal") return r.ok;
    return false;
  };
  EXPECT_TRUE(ok_with({MigrationStatus::kError}));
  EXPECT_FALSE(ok_with({MigrationStatus::kCompleted}));
}

TEST_F(RpcFaults, LiveMigrationCastThatCannotBeSentIsRefusedAndUndone) {
  build("rpc.cast.live_migration=fail:broker down");
  auto id = cloud->live_migrate(kVm, "dst");
  EXPECT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("broker down"), std::string::npos);
  EXPECT_EQ(cloud->migration(1)->status, MigrationStatus::kError);
  EXPECT_TRUE(cloud->instance(kVm)->task_state.empty());
  EXPECT_EQ(cloud->neutron().port(kPort)->bindings.size(), 1u);  // the destination binding is gone
}

TEST_F(RpcFaults, LostFinishResizeCastLeavesAHangTheInvariantsReport) {
  build("rpc.cast.finish_resize=drop");
  auto id = cloud->migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(60s).ok());
  // Powered off on the source, never started on the destination.
  EXPECT_EQ(cloud->migration(*id)->status, MigrationStatus::kPostMigrating);
  auto inv = invariants(*id);
  EXPECT_FALSE(inv.at("migration_terminal"));
  EXPECT_FALSE(inv.at("one_host"));
  EXPECT_TRUE(timeline.first("rpc", "cast finish_resize not delivered").has_value());
}

TEST_F(RpcFaults, DelayedCastShiftsTheFlowByTheDelay) {
  build("rpc.cast.resize_instance=delay:4000");
  auto id = cloud->migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  MonoTime start = clock.now();
  ASSERT_TRUE(loop.run_until([&] { return cloud->migration(*id)->status == MigrationStatus::kFinished; }, clock.now() + 30s).ok());
  auto migrating = timeline.first("conductor", "migration 1 status migrating");
  ASSERT_TRUE(migrating.has_value());
  EXPECT_EQ(migrating->t - start, 4000ms);
}

}  // namespace
}  // namespace lmh::core
