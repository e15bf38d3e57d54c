// The shipped scenarios, run by the lmh binary on real namespaces, bridges
// and the OVS fabric; assertions on the measured numbers (seed 001).
#include <gtest/gtest.h>

#include <algorithm>

#include "integration_util.h"

namespace lmh::testing {
namespace {

using nlohmann::json;

bool seen_at_any_fabric_port(const json& announce) {
  for (const auto& p : announce["seen_at"])
    if (p.get<std::string>().find("fabric_port") != std::string::npos) return true;
  return false;
}

bool seen_at(const json& announce, const std::string& point) {
  for (const auto& p : announce["seen_at"]) if (p == point) return true;
  return false;
}

class ScenarioRun : public ::testing::Test {
 protected:
  void SetUp() override { LMH_REQUIRE_ROOT(); }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "the run leaked";
    }
  }
};

TEST_F(ScenarioRun, WarmDestinationAsShippedRecoversByAnnounce) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml")}, "itwarm");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "pass");
  EXPECT_EQ(s["migration_status"], "completed");
  EXPECT_EQ(s["tier"], "emulated");
  EXPECT_EQ(s["behaviour"]["pre_plug_vlan_uplink"], "false");
  // Downtime within the switchover pause (30 ms) + 20 ms, and not below the
  // pause itself: the guest really stopped.
  EXPECT_LE(m["downtime_ms"].get<double>(), 50.0);
  EXPECT_GE(m["max_gap_ms"].get<double>(), 30.0);
  // At most a probe in flight at the resume instant (vs >800 ms when broken).
  EXPECT_LE(m["stale_forwarding_ms"].get<double>(), 10.0);
  EXPECT_LT(m["recovery_ms"].get<double>(), 20.0);
  EXPECT_EQ(s["recovery_cause"], "announce");
  ASSERT_EQ(s["announces"].size(), 5u);
  for (const auto& a : s["announces"]) {
    EXPECT_TRUE(seen_at(a, "dst.fabric_port")) << a.dump();
    EXPECT_TRUE(seen_at(a, "peer")) << a.dump();
  }
  // QEMU's announce schedule: +0, +50, +200, +450, +800 ms.
  const double first = s["announces"][0]["t_ms"];
  const double expected[] = {0, 50, 200, 450, 800};
  for (int i = 0; i < 5; ++i)
    EXPECT_NEAR(s["announces"][i]["t_ms"].get<double>() - first, expected[i], 5.0) << "announce " << i + 1;
  ASSERT_EQ(s["invariants"].size(), 6u);
  for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
  EXPECT_TRUE(std::filesystem::exists(::testing::TempDir() + "lmh-results/itwarm/junit.xml"));
  EXPECT_TRUE(std::filesystem::exists(::testing::TempDir() + "lmh-results/itwarm/1-dst.tap.pcap"));
}

TEST_F(ScenarioRun, ColdDestinationAsShippedLosesAnnouncesUntilPeerReResolves) {
  auto r = run_lmh({scenario_path("lb-vlan-cold-destination.yaml")}, "itcold");
  ASSERT_EQ(r.exit_code, 1) << r.err;  // a scenario failed its threshold
  const json& s = r.result["scenarios"][0];
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "fail");
  EXPECT_EQ(s["migration_status"], "completed");
  ASSERT_EQ(s["announces"].size(), 5u);
  for (const auto& a : s["announces"]) {
    EXPECT_TRUE(seen_at(a, "dst.tap")) << a.dump();            // the guest sent it
    EXPECT_FALSE(seen_at_any_fabric_port(a)) << a.dump();      // the fabric never got it
  }
  const double resume = t_of_kind(s, "guest_resumed", "dst");
  const double uplink = t_of(s, "agent.lb.dst", "enslave uplink eth1.100");
  const double last_announce = s["announces"][4]["t_ms"];
  ASSERT_GT(resume, 0);
  ASSERT_GT(uplink, 0) << "the destination agent never enslaved the uplink";
  // The agent enslaved the uplink only after QEMU's last announce.
  EXPECT_GT(uplink, last_announce);
  // The fabric kept forwarding the probes to the source past the announces
  // and until the peer's broadcast ARP re-taught it.
  EXPECT_GT(m["stale_forwarding_ms"].get<double>(), last_announce - resume);
  EXPECT_EQ(s["recovery_cause"], "peer_arp");
  ASSERT_FALSE(m["recovery_ms"].is_null());
  EXPECT_GT(m["recovery_ms"].get<double>(), uplink - resume);  // not before the uplink exists
  EXPECT_GT(m["max_gap_ms"].get<double>(), uplink - resume);
  EXPECT_GT(m["loss"].get<int>(), 100);
  EXPECT_NE(s["verdict_reason"].get<std::string>().find("downtime"), std::string::npos);
}

TEST_F(ScenarioRun, ColdDestinationWithoutArpTimersRecoversByGuestTraffic) {
  // Real peer ARP timers (30 s): only the guest's own traffic re-teaches the
  // fabric. Its datagram (chronyd in seed 001) goes at +2.3 s: after the
  // agent enslaved the uplink (+1.9 s) and before the guest kernel's own ARP
  // probe for the gateway (about +3 s), which would also re-teach it.
  auto r = run_lmh({scenario_path("lb-vlan-cold-destination.yaml"), "--set", "peer.neigh.base_reachable_time_ms=30000",
                    "--set", "peer.neigh.delay_first_probe_time_s=5", "--set", "guest.traffic_after_resume_ms=2300"},
                   "itntp");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["recovery_cause"], "guest_traffic");
  const double resume = t_of_kind(s, "guest_resumed", "dst");
  const double ntp = t_of(s, "guest", "traffic NTP");
  const double uplink = t_of(s, "agent.lb.dst", "enslave uplink eth1.100");
  ASSERT_GT(ntp, resume);
  ASSERT_GT(uplink, 0) << "the destination agent never enslaved the uplink";
  ASSERT_LT(uplink, ntp) << "the uplink must exist before the datagram for this test to mean anything";
  EXPECT_NEAR(ntp - resume, 2300.0, 50.0);
  // Connectivity comes back right after that datagram, not before.
  EXPECT_NEAR(s["metrics"]["recovery_ms"].get<double>(), ntp - resume, 50.0);
  EXPECT_GE(s["metrics"]["stale_forwarding_ms"].get<double>(), ntp - resume - 50.0);
}

TEST_F(ScenarioRun, ColdDestinationFixedPrePlugsUplinkAndBehavesLikeWarm) {
  auto r = run_lmh({scenario_path("lb-vlan-cold-destination.yaml") + "[pre_plug_vlan_uplink=true]"}, "itfix");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["name"], "lb-vlan-cold-destination[pre_plug_vlan_uplink=true]");
  EXPECT_EQ(s["behaviour"]["pre_plug_vlan_uplink"], "true");
  EXPECT_EQ(s["verdict"], "pass");
  EXPECT_LE(s["metrics"]["downtime_ms"].get<double>(), 50.0);
  EXPECT_LE(s["metrics"]["stale_forwarding_ms"].get<double>(), 10.0);  // a probe in flight at most
  EXPECT_EQ(s["recovery_cause"], "announce");
  for (const auto& a : s["announces"]) EXPECT_TRUE(seen_at(a, "dst.fabric_port")) << a.dump();
  // The uplink was there before the guest resumed.
  const double plugged = t_of(s, "compute.dst", "os-vif ensure_vlan_bridge");
  ASSERT_GT(plugged, 0);
  EXPECT_LT(plugged, t_of_kind(s, "guest_resumed", "dst"));
}

}  // namespace
}  // namespace lmh::testing
