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

const std::string kNet = "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11";
const std::string kPort = "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30";
const std::string kVm = "7c1e2a5b-3d4f-4a6b-8c9d-0e1f2a3b4c5d";

class RpcFaults : public ::testing::Test {
 protected:
  void build(const std::string& fault) {
    auto spec = faults::parse_fault_spec(fault);
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    plan = std::make_unique<faults::FaultPlan>(std::vector<faults::FaultSpec>{*spec}, 1, /*armed=*/false);
    src.links["eth1"] = {"nic", "", true};
    dst.links["eth1"] = {"nic", "", true};
    hv = std::make_unique<FakeHypervisor>(loop, std::map<std::string, FakeHostNetwork*>{{"src", &src}, {"dst", &dst}});
    cloud = std::make_unique<Cloud>(loop, timeline, *hv, Behaviour{}, plan.get());
    ASSERT_TRUE(cloud->neutron().create_network({kNet, "vlan", "physnet1", 100}).ok());
    Port p;
    p.id = kPort;
    p.network_id = kNet;
    p.mac = "fa:16:3e:3a:7b:01";
    p.device_id = kVm;
    ASSERT_TRUE(cloud->neutron().create_port(p).ok());
    for (auto* h : {"dst", "src"}) {
      HostConfig hc;
      hc.name = h;
      hc.physical_interface_mappings = {{"physnet1", "eth1"}};
      ASSERT_TRUE(cloud->add_host(hc, std::string(h) == "src" ? static_cast<HostNetwork&>(src) : dst).ok());
    }
    ASSERT_TRUE(cloud->boot({kVm, "vm1", "", "active", "", {kPort}}, "src").ok());
    ASSERT_TRUE(loop.run_for(100ms).ok());
    plan->arm();
  }
  std::map<std::string, bool> invariants(int id) {
    std::map<std::string, bool> out;
    for (const auto& r : cloud->invariant_report(kVm, id)) out[r.name] = r.ok;
    return out;
  }

  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  FakeHostNetwork src, dst;
  std::unique_ptr<faults::FaultPlan> plan;
  std::unique_ptr<FakeHypervisor> hv;
  std::unique_ptr<Cloud> cloud;
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
