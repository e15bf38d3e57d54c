// VXLAN with l2population, run by the lmh binary on real namespaces: kernel
// vxlan devices on linuxbridge hosts, br-tun on each OVS host's own
// userspace Open vSwitch, the OVS fabric as underlay. Assertions on what the
// bystander host's peer measured.
#include <gtest/gtest.h>

#include "integration_util.h"

namespace lmh::testing {
namespace {

using nlohmann::json;

class VxlanScenario : public ::testing::Test {
 protected:
  void SetUp() override { LMH_REQUIRE_ROOT(); }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "the run leaked";
    }
  }
  // When the bystander's agent learnt that the guest is behind dst's
  // endpoint (its vxlan-1001 device, or on OVS its br-tun).
  static double bystander_learns_dst(const json& s) {
    return t_of(s, "agent.lb.by", "add_fdb_entries vxlan-1001 {198.19.0.12: flood, fa:16:3e:3a:7b:01");
  }
  static double ovs_bystander_learns_dst(const json& s) {
    return t_of(s, "agent.ovs.by", "add_fdb_entries br-tun {198.19.0.12: flood, fa:16:3e:3a:7b:01");
  }
  static json invariant(const json& s, const std::string& name) {
    for (const auto& i : s["invariants"])
      if (i["name"] == name) return i;
    return json{{"name", "(missing)"}};
  }
};

// The scenario pins the destination agent's next poll 1000 ms after resume:
// until it plugs the port and l2population tells the bystander, the
// bystander tunnels the guest's frames to the source, and QEMU's announces
// die on the destination's bridge, which has no vxlan device yet.
TEST_F(VxlanScenario, BystanderKeepsTunnellingToTheSourceUntilTheDestinationAgentPolls) {
  auto r = run_lmh({scenario_path("lb-vxlan-live.yaml")}, "itvx");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "fail");
  EXPECT_EQ(s["migration_status"], "completed");
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  const double learnt = bystander_learns_dst(s);
  ASSERT_GT(resumed, 0);
  ASSERT_GT(learnt, resumed);
  EXPECT_NEAR(learnt - resumed, 1000.0, 60.0);
  // The peer gets its replies back when the bystander's entry moves.
  EXPECT_NEAR(m["recovery_ms"].get<double>(), learnt - resumed, 30.0);
  EXPECT_GT(m["downtime_ms"].get<double>(), 950.0);
  EXPECT_EQ(s["recovery_cause"], "tunnel_fdb");
  // The bystander host sent the guest's frames to the source's endpoint
  // until then; the destination never did.
  EXPECT_NEAR(m["stale_forwarding_by_host_ms"]["by"].get<double>(), learnt - resumed, 30.0);
  EXPECT_EQ(m["stale_forwarding_by_host_ms"]["dst"].get<double>(), 0.0);
  // Every RARP (+0..+800 ms) went out before the destination had a vxlan
  // device: none left its tap.
  ASSERT_EQ(s["announces"].size(), 5u);
  for (const auto& a : s["announces"]) EXPECT_EQ(a["seen_at"], json::array({"dst.tap"})) << a.dump();
}

// A late add_fdb_entries (fault l2pop.fdb_add) lengthens the outage by its
// delay: the source's remove still arrives, so the bystander stops sending
// to the source at the poll and has no entry at all until the add lands.
TEST_F(VxlanScenario, DelayedL2popAddLengthensTheOutageByTheDelay) {
  auto r = run_lmh({scenario_path("lb-vxlan-live.yaml"), "--fault", "l2pop.fdb_add=delay:1500"}, "itvxd");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  const double learnt = bystander_learns_dst(s);
  EXPECT_NEAR(learnt - resumed, 2500.0, 80.0);
  EXPECT_NEAR(m["recovery_ms"].get<double>(), learnt - resumed, 30.0);
  EXPECT_NEAR(m["stale_forwarding_by_host_ms"]["by"].get<double>(), 1000.0, 60.0);
  bool injected = false;
  for (const auto& f : s["faults"])
    if (f["point"] == "l2pop.fdb_add") injected = f["injected"].get<int>() >= 1;
  EXPECT_TRUE(injected);
}

// The proposed fix (both switches): the destination agent plugs the port
// during the pre-copy, and l2population sends its location with the
// activation: the peer's replies come back within the activation's delay,
// and the downtime is the switchover's plus that.
TEST_F(VxlanScenario, WithTheFixTheBystanderMovesAtActivation) {
  auto r = run_lmh({scenario_path("lb-vxlan-live.yaml") + "[lb_agent_honours_migrating_to=true,l2pop_on_binding_activate=true]"},
                   "itvxf");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["migration_status"], "completed");
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  const double activated = t_of(s, "neutron", "binding activated port");
  EXPECT_NEAR(bystander_learns_dst(s), activated, 5.0);
  EXPECT_LT(activated - resumed, 40.0);
  EXPECT_LT(m["recovery_ms"].get<double>(), 60.0);
  EXPECT_LT(m["stale_forwarding_by_host_ms"]["by"].get<double>(), 40.0);
  EXPECT_LT(m["downtime_ms"].get<double>(), 80.0);
}

// OVS hosts: the bystander's br-tun keeps the guest's unicast entry to the
// source until the destination agent's poll after activation; the
// destination's br-tun has no flooding list until then, so QEMU's RARPs
// stop there.
TEST_F(VxlanScenario, OvsBystanderTunnelsToTheSourceUntilTheDestinationAgentPolls) {
  auto r = run_lmh({scenario_path("ovs-vxlan-live.yaml")}, "itovx");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["migration_status"], "completed");
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  const double learnt = ovs_bystander_learns_dst(s);
  ASSERT_GT(resumed, 0);
  ASSERT_GT(learnt, resumed + 950.0) << "not before the pinned poll";
  // Replies come back once by's br-tun has the entry (its flows applied).
  EXPECT_NEAR(m["recovery_ms"].get<double>(), learnt - resumed, 60.0);
  EXPECT_GT(m["stale_forwarding_by_host_ms"]["by"].get<double>(), 900.0);
  EXPECT_EQ(m["stale_forwarding_by_host_ms"]["dst"].get<double>(), 0.0);
  EXPECT_EQ(s["recovery_cause"], "tunnel_fdb");
  ASSERT_EQ(s["announces"].size(), 5u);
  for (const auto& a : s["announces"]) EXPECT_EQ(a["seen_at"], json::array({"dst.tap"})) << a.dump();
  EXPECT_TRUE(invariant(s, "tunnel_udp_port")["ok"].get<bool>());
}

// Seed 000 on VXLAN, three ways: as shipped the tap is on an OVS bridge
// named like the Linux bridge; with the tap on br-int the linuxbridge
// bystander (UDP 8472) and the OVS destination (4789) still cannot reach
// each other; with udp_dstport 4789 everywhere the guest is back.
TEST_F(VxlanScenario, LinuxbridgeToOvsNeedsTheTapOnBrIntAndOneUdpPort) {
  const std::string file = scenario_path("lb-to-ovs-vxlan-live.yaml");
  auto r = run_lmh({file, file + "[behaviour.dest_xml_bridge=destination]",
                    file + "[behaviour.dest_xml_bridge=destination,agent.udp_dstport=4789]"},
                   "itl2o");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  ASSERT_EQ(r.result["scenarios"].size(), 3u);
  const json& shipped = r.result["scenarios"][0];
  const json& tap_fixed = r.result["scenarios"][1];
  const json& both_fixed = r.result["scenarios"][2];
  EXPECT_TRUE(shipped["metrics"]["recovery_ms"].is_null()) << "recovered";
  EXPECT_FALSE(invariant(shipped, "vif_wired")["ok"].get<bool>());
  EXPECT_TRUE(tap_fixed["metrics"]["recovery_ms"].is_null()) << "recovered";
  EXPECT_TRUE(invariant(tap_fixed, "vif_wired")["ok"].get<bool>());
  const json udp = invariant(tap_fixed, "tunnel_udp_port");
  EXPECT_FALSE(udp["ok"].get<bool>());
  EXPECT_EQ(udp["detail"], "vxlan network 0fe9c836-58: dst on UDP 4789; by on UDP 8472 (their endpoints drop each "
                           "other's frames)");
  ASSERT_FALSE(both_fixed["metrics"]["recovery_ms"].is_null()) << "not recovered";
  EXPECT_TRUE(invariant(both_fixed, "tunnel_udp_port")["ok"].get<bool>());
  // What is left is l2population's timing: the destination's poll.
  EXPECT_GT(both_fixed["metrics"]["recovery_ms"].get<double>(), 950.0);
  EXPECT_LT(both_fixed["metrics"]["recovery_ms"].get<double>(), 1600.0);
}

}  // namespace
}  // namespace lmh::testing
