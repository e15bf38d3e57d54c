// The live-migration flow against fakes under a simulated clock: the order of
// plug, resume and uplink enslavement that decides seed 001's outage.
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


class LiveMigrationTest : public ::testing::Test, protected testing::TwoHostCloud {
 protected:
  void SetUp() override { build(Behaviour{}); }

  void build(Behaviour b) { ASSERT_TRUE(build_cloud(b).ok()); }

  MonoTime when(const std::string& source, const std::string& prefix) {
    auto e = timeline.first(source, prefix);
    EXPECT_TRUE(e.has_value()) << source << " / " << prefix;
    return e ? e->t : MonoTime::max();
  }

  int migrate() {
    auto id = cloud->live_migrate(kVm, "dst");
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    auto done = [&] { return is_terminal(cloud->migration(*id)->status); };
    EXPECT_TRUE(loop.run_until(done, clock.now() + 30s).ok());
    return *id;
  }

};

TEST_F(LiveMigrationTest, BootPlugsSourceUplinkAndPortGoesActive) {
  EXPECT_EQ(src.links.at(tap_name(kPort)).master, lb_bridge_name(kNet));
  EXPECT_EQ(src.links.at("eth1.100").master, lb_bridge_name(kNet));
  EXPECT_EQ(cloud->neutron().port(kPort)->status, "ACTIVE");
  EXPECT_EQ(cloud->events().received(), std::vector<std::string>{"network-vif-plugged " + kPort});
}

TEST_F(LiveMigrationTest, AsShippedUplinkIsEnslavedOnlyAfterResumeAndActivation) {
  hv->precopy = 3s;  // long enough for a destination poll to see the new tap
  int id = migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());  // let the destination agent poll
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  MonoTime resumed = when("compute.dst", "guest resumed");
  MonoTime activated = when("neutron", "binding activated port " + kPort.substr(0, 11) + " host dst");
  MonoTime uplink = when("agent.lb.dst", "enslave uplink eth1.100");
  EXPECT_LT(resumed, uplink);
  EXPECT_LE(activated, uplink);
  // Until activation the destination agent is told NO_ACTIVE_BINDING.
  EXPECT_LT(when("agent.lb.dst", "skip " + tap_name(kPort) + ": NO_ACTIVE_BINDING"), activated);
  // pre_live_migration only ensured the bridge (os-vif ensure_bridge).
  EXPECT_LT(when("compute.dst", "os-vif ensure_bridge " + lb_bridge_name(kNet)), resumed);
  EXPECT_FALSE(timeline.first("compute.dst", "os-vif ensure_vlan_bridge").has_value());
  // The agent acts at its next poll after activation: within one interval.
  EXPECT_LE(uplink - activated, 2s);
  EXPECT_EQ(dst.links.at("eth1.100").master, lb_bridge_name(kNet));
  EXPECT_TRUE(cloud->check_invariants(kVm, id).empty());
}

TEST_F(LiveMigrationTest, FixedPrePlugsUplinkBeforeResume) {
  cloud.reset();
  src = {};
  dst = {};
  build(Behaviour{.pre_plug_vlan_uplink = true});
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  MonoTime resumed = when("compute.dst", "guest resumed");
  MonoTime plugged = when("compute.dst", "os-vif ensure_vlan_bridge " + lb_bridge_name(kNet) + " eth1.100");
  EXPECT_LT(plugged, resumed);
  EXPECT_EQ(dst.links.at("eth1.100").master, lb_bridge_name(kNet));
  // The destination tap was attached to the bridge named by the destination binding.
  ASSERT_EQ(hv->last_dest_interfaces.size(), 1u);
  EXPECT_EQ(hv->last_dest_interfaces[0].bridge, lb_bridge_name(kNet));
  EXPECT_EQ(hv->last_dest_interfaces[0].target_dev, tap_name(kPort));
}

TEST_F(LiveMigrationTest, MigrationStatusesAndBindingsFollowNova) {
  int id = migrate();
  std::vector<std::string> statuses;
  for (const auto& e : timeline.all("conductor", "migration " + std::to_string(id) + " status "))
    statuses.push_back(e.event.substr(e.event.rfind(' ') + 1));
  EXPECT_EQ(statuses, (std::vector<std::string>{"accepted", "preparing", "running", "completed"}));
  const Port* p = cloud->neutron().port(kPort);
  ASSERT_EQ(p->bindings.size(), 1u);
  EXPECT_EQ(p->bindings[0].host, "dst");
  EXPECT_EQ(p->bindings[0].status, BindingStatus::kActive);
  EXPECT_FALSE(p->profile.count("migrating_to"));
  EXPECT_EQ(cloud->instance(kVm)->host, "dst");
  // migrating_to was set during pre_live_migration.
  EXPECT_LT(when("neutron", "port " + kPort.substr(0, 11) + " binding:profile migrating_to=dst"),
            when("compute.dst", "guest resumed"));
}

TEST_F(LiveMigrationTest, ConductorRefusesSameHostAndUnknownHost) {
  auto same = cloud->live_migrate(kVm, "src");
  EXPECT_EQ(same.status().code(), StatusCode::kFailedPrecondition);
  auto unknown = cloud->live_migrate(kVm, "nowhere");
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cloud->migration(1)->status, MigrationStatus::kError);
  EXPECT_EQ(cloud->migration(2)->status, MigrationStatus::kError);
  EXPECT_EQ(cloud->instance(kVm)->task_state, "");
  EXPECT_EQ(cloud->neutron().port(kPort)->bindings.size(), 1u);  // no destination binding made
}

// The conductor's checks and the scheduler, with one host tweaked.
class ConductorChecks : public ::testing::Test, protected testing::TwoHostCloud {
 protected:
  void build(const std::function<void(HostConfig&)>& dst_tweak) {
    ASSERT_TRUE(build_cloud(Behaviour{}, nullptr, [&](HostConfig& hc) {
                  if (hc.name == "dst") dst_tweak(hc);
                }).ok());
  }
  std::string refusal(const StatusOr<int>& id) { return id.ok() ? "" : id.status().message(); }
};

TEST_F(ConductorChecks, DisabledServiceIsRefusedByTheSchedulerButForceBypassesIt) {
  build([](HostConfig& hc) { hc.service_enabled = false; });
  auto refused = cloud->live_migrate(kVm, "dst");
  EXPECT_NE(refusal(refused).find("No valid host was found: compute service on dst is disabled"), std::string::npos)
      << refusal(refused);
  EXPECT_EQ(cloud->live_migrate(kVm, "").status().message(), "No valid host was found");
  auto forced = cloud->live_migrate(kVm, "dst", /*force=*/true);
  ASSERT_TRUE(forced.ok()) << refusal(forced);
  ASSERT_TRUE(loop.run_for(std::chrono::seconds(30)).ok());
  EXPECT_EQ(cloud->migration(*forced)->status, MigrationStatus::kCompleted);
  EXPECT_TRUE(timeline.first("conductor", "forced to dst: scheduler bypassed").has_value());
}

TEST_F(ConductorChecks, DestinationWithoutRamIsRefusedEvenWhenForced) {
  build([](HostConfig& hc) { hc.memory_mb = 100; });  // the guest needs 128
  auto forced = cloud->live_migrate(kVm, "dst", /*force=*/true);
  EXPECT_NE(refusal(forced).find("MigrationPreCheckError: dst has 100 MB free, the instance needs 128 MB"),
            std::string::npos)
      << refusal(forced);
  EXPECT_EQ(cloud->neutron().port(kPort)->bindings.size(), 1u);
}

TEST_F(ConductorChecks, ClaimHoldsTheRamWhileTheMoveRunsAndEndsWithIt) {
  build([](HostConfig& hc) { hc.memory_mb = 200; });
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(cloud->db().memory_used_mb("dst"), 128u);  // claimed, the guest still on src
  ASSERT_TRUE(loop.run_for(std::chrono::seconds(30)).ok());
  ASSERT_EQ(cloud->migration(*id)->status, MigrationStatus::kCompleted);
  EXPECT_EQ(cloud->db().memory_used_mb("dst"), 128u);  // now the instance's own
  EXPECT_EQ(cloud->db().memory_used_mb("src"), 0u);
}

TEST_F(ConductorChecks, LiveMigrationNeedsTheSameHypervisorNotOlder) {
  build([](HostConfig& hc) { hc.hypervisor_version = 6000000; });
  EXPECT_NE(refusal(cloud->live_migrate(kVm, "dst", true)).find("DestinationHypervisorTooOld"), std::string::npos);
  // A cold move does not care.
  auto cold = cloud->migrate(kVm, "dst");
  EXPECT_TRUE(cold.ok()) << refusal(cold);
}

TEST_F(ConductorChecks, DifferentHypervisorTypeIsRefused) {
  build([](HostConfig& hc) { hc.hypervisor_type = "Xen"; });
  EXPECT_NE(refusal(cloud->live_migrate(kVm, "dst")).find("InvalidHypervisorType: dst runs Xen, src runs QEMU"),
            std::string::npos);
}

TEST_F(LiveMigrationTest, FailedJobRollsBackDestinationBinding) {
  hv->fail_migration = true;
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kError);
  const Port* p = cloud->neutron().port(kPort);
  ASSERT_EQ(p->bindings.size(), 1u);
  EXPECT_EQ(p->bindings[0].host, "src");
  EXPECT_EQ(cloud->instance(kVm)->host, "src");
  EXPECT_TRUE(cloud->check_invariants(kVm, id).empty());
}

TEST_F(LiveMigrationTest, InvariantsCatchATapLeftOnTheOtherHost) {
  int id = migrate();
  src.links[tap_name(kPort)] = {"tap", "", true};  // a source tap that was not removed
  auto v = cloud->check_invariants(kVm, id);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "tap " + tap_name(kPort) + " left on src");
}

TEST(Names, FitIfnamsizAndFollowNeutron) {
  EXPECT_EQ(tap_name(kPort), "tapcfcfd97b-b5");
  EXPECT_EQ(lb_bridge_name(kNet), "brq0fe9c836-58");
  EXPECT_EQ(vlan_interface_name("eth1", 100), "eth1.100");
  EXPECT_LE(tap_name(kPort).size(), 15u);
}

}  // namespace
}  // namespace lmh::core
