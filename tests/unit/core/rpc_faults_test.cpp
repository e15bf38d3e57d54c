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

TEST_F(RpcFaults, PreLiveMigrationCallTimingOutRollsBack) {
  build("rpc.call.pre_live_migration=fail:no reply");
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(5s).ok());
  EXPECT_EQ(cloud->migration(*id)->status, "error");
  EXPECT_TRUE(timeline.first("compute.src", "rollback_live_migration: UNAVAILABLE: pre_live_migration: "
                                            "MessagingTimeout").has_value());
  EXPECT_EQ(plan->counts().at("rpc.call.pre_live_migration").injected, 1);
  for (const auto& [name, ok] : invariants(*id)) EXPECT_TRUE(ok) << name;
}

TEST_F(RpcFaults, LostFinishResizeCastLeavesAHangTheInvariantsReport) {
  build("rpc.cast.finish_resize=drop");
  auto id = cloud->migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_for(60s).ok());
  // Powered off on the source, never started on the destination.
  EXPECT_EQ(cloud->migration(*id)->status, "post-migrating");
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
  ASSERT_TRUE(loop.run_until([&] { return cloud->migration(*id)->status == "finished"; }, clock.now() + 30s).ok());
  auto migrating = timeline.first("conductor", "migration 1 status migrating");
  ASSERT_TRUE(migrating.has_value());
  EXPECT_EQ(migrating->t - start, 4000ms);
}

}  // namespace
}  // namespace lmh::core
