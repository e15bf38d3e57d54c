// nova's wait for network-vif-plugged during live migration, against the two
// ways neutron can send it (seed 001, bugs 1880389 / 1901707), under a
// simulated clock: the premature event, the fix, timeouts fatal or not.
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


struct Cfg {
  Behaviour behaviour;
  bool wait_for_vif_plug = true;
  bool fatal = true;
};

class VifEvents : public ::testing::Test, protected testing::TwoHostCloud {
 protected:
  void build(Cfg setup, const std::string& fault = "") {
    if (!fault.empty()) {
      auto spec = faults::parse_fault_spec(fault);
      ASSERT_TRUE(spec.ok()) << spec.status().message();
      plan = std::make_unique<faults::FaultPlan>(std::vector<faults::FaultSpec>{*spec}, 1);
    }
    ASSERT_TRUE(build_cloud(setup.behaviour, plan.get(), [&](HostConfig& hc) {
                  hc.live_migration_wait_for_vif_plug = setup.wait_for_vif_plug;
                  hc.vif_plugging_is_fatal = setup.fatal;
                }).ok());
  }
  int migrate() {
    start = clock.now();
    auto id = cloud->live_migrate(kVm, "dst");
    EXPECT_TRUE(id.ok());
    auto done = [&] { return is_terminal(cloud->migration(*id)->status); };
    EXPECT_TRUE(loop.run_until(done, clock.now() + 1000s).ok());
    return *id;
  }
  // Position of the first matching event on the timeline (-1: none).
  int index_of(const std::string& source, const std::string& prefix) {
    auto events = timeline.events();
    for (size_t i = 0; i < events.size(); ++i)
      if (events[i].source == source && events[i].event.rfind(prefix, 0) == 0) return static_cast<int>(i);
    return -1;
  }
  std::optional<MonoTime> when(const std::string& source, const std::string& prefix) {
    auto e = timeline.first(source, prefix);
    return e ? std::optional(e->t) : std::nullopt;
  }

  MonoTime start;
  std::unique_ptr<faults::FaultPlan> plan;
};

TEST_F(VifEvents, AsShippedTheProfileUpdateReleasesTheWaitBeforeAnythingIsPlugged) {
  build({});
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  int released = index_of("nova.compute", "event network-vif-plugged port " + kPort.substr(0, 11) + " received");
  int notified = index_of("neutron", "notifier network-vif-plugged port " + kPort.substr(0, 11) + " on the migrating_to");
  int job = index_of("compute.src", "driver live_migration");
  ASSERT_GE(released, 0);
  ASSERT_GE(notified, 0);
  // Released by the migrating_to update, during pre_live_migration, before
  // the driver even started (so before any destination tap existed).
  EXPECT_LT(notified, released);
  EXPECT_LT(released, job);
  EXPECT_LT(released, index_of("compute.dst", "guest resumed"));
  // No wait is left behind.
  EXPECT_EQ(cloud->events().pending(), 0);
}

TEST_F(VifEvents, WithTheNeutronFixTheWaitTimesOutAndFatalRollsBack) {
  build({Behaviour{.vif_plugged_from_agent_only = true}});
  int id = migrate();
  // Seed 001: the tap only appears once the transfer starts, which is after
  // the wait, so nothing can plug it: vif_plugging_timeout (300 s) expires.
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kError);
  auto timeout = when("compute.src", "timed out waiting for events: network-vif-plugged-" + kPort);
  ASSERT_TRUE(timeout);
  EXPECT_EQ(*timeout - start, 300s);
  EXPECT_FALSE(when("compute.src", "driver live_migration"));
  EXPECT_EQ(cloud->instance(kVm)->host, "src");
  ASSERT_EQ(cloud->neutron().port(kPort)->bindings.size(), 1u);  // destination binding deleted
  EXPECT_EQ(cloud->neutron().port(kPort)->bindings[0].host, "src");
  EXPECT_TRUE(cloud->check_invariants(kVm, id).empty());
}

TEST_F(VifEvents, WithTheFixAndNonFatalTimeoutTheMigrationGoesOnAfter300s) {
  build({Behaviour{.vif_plugged_from_agent_only = true}, true, false});
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  auto job = when("compute.src", "driver live_migration");
  ASSERT_TRUE(job);
  EXPECT_EQ(*job - start, 300s);
  EXPECT_TRUE(when("compute.src", "continuing: vif_plugging_is_fatal=false"));
}

TEST_F(VifEvents, HonouringMigratingToDoesNotHelpBecauseTheTapComesWithTheTransfer) {
  build({Behaviour{.vif_plugged_from_agent_only = true, .lb_agent_honours_migrating_to = true}});
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kError);
  EXPECT_FALSE(when("agent.lb.dst", "device up " + tap_name(kPort)));
}

TEST_F(VifEvents, HonouringMigratingToLetsTheAgentPlugATapThatExistsEarly) {
  // If the destination tap exists before the transfer (as with a hypervisor
  // that creates it at plug time), the agent plugs it under migrating_to
  // and its report releases the wait.
  build({Behaviour{.vif_plugged_from_agent_only = true, .lb_agent_honours_migrating_to = true}});
  dst.links[tap_name(kPort)] = {"tap", "", true};
  auto id = cloud->live_migrate(kVm, "dst");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(loop.run_until([&] { return when("compute.src", "driver live_migration").has_value(); },
                             clock.now() + 10s).ok());
  EXPECT_TRUE(when("neutron", "notifier network-vif-plugged port " + kPort.substr(0, 11) + " from the agent on dst"));
  EXPECT_EQ(dst.links.at("eth1.100").master, lb_bridge_name(kNet));
}

TEST_F(VifEvents, FireEarlyFaultBringsBackThePrematureEventDespiteTheFix) {
  // The neutron fix is on, but the fault makes the notifier send
  // network-vif-plugged on the migrating_to update: the wait is released
  // before anything is plugged, exactly as without the fix.
  build({Behaviour{.vif_plugged_from_agent_only = true}}, "neutron.notify.vif_plugged=fire-early");
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  int notified = index_of("neutron", "notifier network-vif-plugged port " + kPort.substr(0, 11) + " on the migrating_to");
  int released = index_of("nova.compute", "event network-vif-plugged port " + kPort.substr(0, 11) + " received");
  ASSERT_GE(notified, 0);
  ASSERT_GE(released, 0);
  EXPECT_LT(released, index_of("compute.src", "driver live_migration"));
  EXPECT_LT(*when("compute.src", "driver live_migration") - start, 1s);
  EXPECT_GE(plan->counts().at("neutron.notify.vif_plugged").injected, 1);
}

TEST_F(VifEvents, LateProfileUpdateDelaysThePrematureEventByTheDelay) {
  build({}, "neutron.port_update.profile=delay:4000@nth:1");
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  auto set = when("neutron", "port " + kPort.substr(0, 11) + " binding:profile migrating_to=dst");
  auto job = when("compute.src", "driver live_migration");
  ASSERT_TRUE(set);
  ASSERT_TRUE(job);
  EXPECT_GE(*set - start, 4000ms);
  EXPECT_LT(*set - start, 4100ms);
  EXPECT_GE(*job, *set);  // the wait was released by the late update
}

TEST_F(VifEvents, NoWaitWhenTheDestinationDoesNotAskForIt) {
  build({Behaviour{.vif_plugged_from_agent_only = true}, false, true});
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  EXPECT_FALSE(when("compute.src", "waiting for"));
  EXPECT_LT(*when("compute.src", "driver live_migration") - start, 1s);
}

}  // namespace
}  // namespace lmh::core
