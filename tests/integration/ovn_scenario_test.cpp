// ML2/OVN, run by the lmh binary on real namespaces: OVN's central
// databases and ovn-northd, an ovn-controller per chassis over the host's
// own userspace Open vSwitch, Geneve between chassis over the fabric's
// underlay VLAN. Assertions on what the peer measured and on when OVN's
// databases and chassis acted (the timeline's "ovn" entries come from the
// real southbound Port_Binding and the chassis' ovn-installed marks).
#include <gtest/gtest.h>

#include "integration_util.h"

namespace lmh::testing {
namespace {

using nlohmann::json;

class OvnScenario : public ::testing::Test {
 protected:
  void SetUp() override { LMH_REQUIRE_ROOT(); }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "the run leaked";
    }
  }
  // When the southbound database first named 'chassis' for the guest's port
  // ("up chassis src additional [dst]").
  static double port_state(const json& s, const std::string& prefix) {
    return t_of(s, "ovn", "port cfcfd97b-b5 " + prefix);
  }
  static bool seen_at(const json& announce, const std::string& point) {
    for (const auto& p : announce["seen_at"])
      if (p == point) return true;
    return false;
  }
};

// As Debian 12's OVN and neutron Zed+ ship it: requested-chassis "src,dst"
// with activation-strategy rarp. The destination claims the port as an
// additional chassis during the pre-copy, the guest's first RARP lifts the
// blocks and reaches the fabric, and the outage is the switchover pause.
TEST_F(OvnScenario, MultichassisBindingClaimsTheDestinationBeforeTheSwitchover) {
  auto r = run_lmh({scenario_path("ovn-live.yaml")}, "itovn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "pass");
  EXPECT_LT(m["downtime_ms"].get<double>(), 80.0);
  EXPECT_GT(m["downtime_ms"].get<double>(), 25.0) << "at least the 30 ms switchover pause";
  const double paused = t_of_kind(s, "guest_paused", "src");
  const double requested = t_of(s, "neutron.ovn", "logical port cfcfd97b-b5 options activation-strategy=rarp "
                                                  "requested-chassis=src,dst");
  const double additional = port_state(s, "up chassis src additional [dst]");
  const double installed = t_of(s, "ovn.dst", "tapcfcfd97b-b5 ovn-installed");
  ASSERT_GT(requested, 0);
  ASSERT_GT(additional, requested);
  EXPECT_LT(additional, paused);
  EXPECT_LT(installed, paused) << "the destination's flows were in before the switchover";
  // result.json's figure for it: the destination's tap to ovn-installed.
  ASSERT_TRUE(m["flows_installed_ms"].is_number()) << m.dump();
  EXPECT_GT(m["flows_installed_ms"].get<double>(), 0.0);
  EXPECT_NEAR(m["flows_installed_ms"].get<double>(), installed - t_of(s, "ovn.dst", "tapcfcfd97b-b5 on br-int"), 0.01);
  EXPECT_GT(t_of(s, "neutron.ovn", "logical port cfcfd97b-b5 options requested-chassis=dst"),
            t_of_kind(s, "guest_resumed", "dst"));
  // The first RARP, from the additional chassis, reached the fabric and the
  // peer; OVN's port security on the main chassis (table 73) drops later
  // ones, which are RARP, not IP or ARP.
  ASSERT_EQ(s["announces"].size(), 5u);
  EXPECT_TRUE(seen_at(s["announces"][0], "dst.fabric_port")) << s["announces"][0].dump();
  EXPECT_TRUE(seen_at(s["announces"][0], "peer"));
  EXPECT_FALSE(seen_at(s["announces"][4], "dst.fabric_port")) << s["announces"][4].dump();
  EXPECT_EQ(s["recovery_cause"], "announce");
}

// Before multi-chassis bindings (neutron before Zed, OVN before 22.09) the
// destination may claim the port only once its binding is activated, after
// the guest resumed; its RARPs then leave a main chassis, whose port
// security drops them, and the fabric learns the guest from the gratuitous
// ARP ovn-controller sends for the port about a second after its claim.
TEST_F(OvnScenario, WithoutMultichassisTheDestinationClaimsAfterActivationAndNoRarpGetsOut) {
  auto r = run_lmh({scenario_path("ovn-live.yaml"), "--set", "behaviour.ovn_multichassis_binding=false"}, "itovn1");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "fail");
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  const double activated = t_of(s, "neutron", "binding activated port cfcfd97b-b5 host dst");
  const double installed = t_of(s, "ovn.dst", "tapcfcfd97b-b5 ovn-installed");
  ASSERT_GT(activated, resumed);
  EXPECT_GT(installed, activated) << "claimed only once requested on dst alone";
  EXPECT_LT(port_state(s, "up chassis src additional [dst]"), 0) << "never an additional chassis";
  for (const auto& a : s["announces"]) EXPECT_FALSE(seen_at(a, "dst.fabric_port")) << a.dump();
  EXPECT_GT(m["downtime_ms"].get<double>(), 500.0);
  // An ARP from the guest's MAC that the guest did not send (the emulated
  // guest sends none after a live migration).
  EXPECT_EQ(s["recovery_cause"], "guest_traffic");
  EXPECT_NEAR(m["recovery_ms"].get<double>(), installed - resumed + 1000.0, 150.0);
}

// neutron 28.0.0's wait (network-vif-plugged only once the destination is
// an additional chassis) without nova's tap pre-creation (nova 33.0.0,
// ovs_create_tap): libvirt creates the destination's tap only when the
// migration starts, which nova holds back until that very event. The wait
// times out and the migration is rolled back, the port requested on the
// source alone again.
TEST_F(OvnScenario, NeutronsAdditionalChassisWaitWithoutTapPrecreationTimesOutAndRollsBack) {
  auto r = run_lmh({scenario_path("ovn-live.yaml"), "--set", "behaviour.vif_plugged_from_agent_only=true", "--set",
                    "nova.vif_plugging_timeout_s=3"},
                   "itovnw");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "error");
  const double waiting = t_of(s, "compute.src", "waiting for 1 network-vif-plugged");
  const double timed_out = t_of(s, "compute.src", "timed out waiting for events: network-vif-plugged");
  ASSERT_GT(waiting, 0);
  EXPECT_NEAR(timed_out - waiting, 3000.0, 100.0);
  EXPECT_LT(t_of(s, "libvirt", "Prepare on dst"), 0) << "the migration never started";
  EXPECT_LT(port_state(s, "up chassis src additional [dst]"), 0);
  EXPECT_GT(last_t_of(s, "neutron.ovn", "logical port cfcfd97b-b5 options requested-chassis=src"), timed_out);
  // The guest never left the source.
  EXPECT_EQ(s["metrics"]["loss"], 0);
}

// ovn-controller on the destination stalls at switchover: the port stays
// blocked (activation-strategy rarp) until it runs again.
TEST_F(OvnScenario, AStalledDestinationControllerBlocksThePortForTheStall) {
  auto r = run_lmh({scenario_path("ovn-live.yaml"), "--fault", "ovn.controller=delay:1500"}, "itovnc");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  const double stopped = t_of(s, "ovn.dst", "ovn-controller (pid");
  const double continued = last_t_of(s, "ovn.dst", "ovn-controller (pid");
  ASSERT_GT(stopped, 0);
  EXPECT_NEAR(continued - stopped, 1500.0, 50.0);
  EXPECT_NEAR(s["metrics"]["downtime_ms"].get<double>(), 1500.0, 120.0);
  EXPECT_EQ(s["faults"][0]["injected"], 1);
}

// A Geneve network has no localnet port: the bystander chassis reaches the
// guest through tunnels, to both chassis while the port is requested on both.
TEST_F(OvnScenario, GeneveBystanderFollowsTheGuestWithinTheSwitchover) {
  auto r = run_lmh({scenario_path("ovn-geneve-live.yaml")}, "itovng");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["verdict"], "pass");
  EXPECT_LT(s["metrics"]["downtime_ms"].get<double>(), 80.0);
  EXPECT_LT(port_state(s, "up chassis src additional [dst]"), t_of_kind(s, "guest_paused", "src"));
  EXPECT_EQ(s["metrics"]["stale_forwarding_ms"].get<double>(), 0.0);
}

// A cloud moving from ML2/OVS to OVN: the source is no chassis, so OVN makes
// the destination the port's main chassis as soon as its tap appears, during
// the pre-copy, and about a second later ovn-controller announces the
// guest's address from there (gratuitous ARP) while the guest still runs on
// the source: the outage starts before the switchover.
TEST_F(OvnScenario, FromOvsTheDestinationIsMainAtOnceAndAnnouncesTheGuestBeforeTheSwitchover) {
  auto r = run_lmh({scenario_path("ovs-to-ovn-live.yaml")}, "itovno");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["verdict"], "fail");
  EXPECT_EQ(s["migration_status"], "completed");
  const double main_dst = port_state(s, "up chassis dst additional []");
  ASSERT_GT(main_dst, 0);
  EXPECT_LT(main_dst, t_of_kind(s, "guest_paused", "src"));
  for (const auto& a : s["announces"]) EXPECT_FALSE(seen_at(a, "dst.fabric_port")) << a.dump();
  const double paused = t_of_kind(s, "guest_paused", "src");
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  const double downtime = s["metrics"]["downtime_ms"].get<double>();
  EXPECT_GT(downtime, 1000.0);
  // The gap ends 'recovery' after the resume, so it began
  // downtime - recovery before it: well before the pause.
  const double began_before_resume = downtime - s["metrics"]["recovery_ms"].get<double>();
  EXPECT_GT(began_before_resume, (resumed - paused) + 500.0);
  // Every invariant holds: nova and neutron see a healthy port.
  for (const auto& i : s["invariants"]) EXPECT_TRUE(i["ok"].get<bool>()) << i.dump();
}

}  // namespace
}  // namespace lmh::testing
