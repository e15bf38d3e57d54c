// Fault plans on the emulated tier: what each injected fault does to the
// flow, the guest's connectivity and the invariants.
#include <gtest/gtest.h>

#include "integration_util.h"

namespace lmh::testing {
namespace {

using nlohmann::json;

void expect_invariants_hold(const json& s) {
  ASSERT_EQ(s["invariants"].size(), 6u);
  for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
}

const json* fault_entry(const json& s, const std::string& point) {
  for (const auto& f : s["faults"]) if (f["point"] == point) return &f;
  return nullptr;
}

class FaultRun : public ::testing::Test {
 protected:
  void SetUp() override { LMH_REQUIRE_ROOT(); }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "the run leaked";
    }
  }
};

TEST_F(FaultRun, MigrationJobFailingMidWayRollsBackAndLeavesNothingOnTheDestination) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--fault", "hypervisor.migrate=fail:disk copy aborted"},
                   "ftmig");
  ASSERT_EQ(r.exit_code, 1) << r.err;  // the migration did not complete
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "error");
  EXPECT_NE(s["verdict_reason"].get<std::string>().find("migration ended error"), std::string::npos);
  // The guest never left the source: never paused, no probe lost, no gap
  // as long as the scenario's 30 ms switchover pause (a pause shows as a
  // gap at least that long; a scheduling hiccup of the 2-core machine, up to
  // ~23 ms seen, does not), no resume on dst.
  EXPECT_LT(t_of_kind(s, "guest_paused", "src"), 0);
  EXPECT_GT(t_of_kind(s, "perform", "src"), 0);  // the job did run
  EXPECT_EQ(s["metrics"]["loss"].get<int>(), 0);
  EXPECT_LT(s["metrics"]["max_gap_ms"].get<double>(), 30.0);
  EXPECT_LT(t_of_kind(s, "guest_resumed", "dst"), 0);
  EXPECT_GT(t_of(s, "compute.dst", "rollback_live_migration_at_destination"), 0);
  expect_invariants_hold(s);  // includes: no tap left on the destination
  const json* f = fault_entry(s, "hypervisor.migrate");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["injected"], 1);
}

TEST_F(FaultRun, SlowMemoryCopyLengthensThePreCopyByTheDelay) {
  // hypervisor.migrate delay: a busy guest dirtying memory; the switchover
  // comes 500 ms (pre-copy) + 1500 ms after Perform, and the move is fine.
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--fault", "hypervisor.migrate=delay:1500"},
                   "ftslow");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "completed");
  const double perform = t_of_kind(s, "perform", "src");
  const double paused = t_of_kind(s, "guest_paused", "src");
  ASSERT_GT(perform, 0);
  EXPECT_NEAR(paused - perform, 2000.0, 60.0);
  EXPECT_GT(t_of_kind(s, "guest_resumed", "dst"), paused);
  expect_invariants_hold(s);
}

TEST_F(FaultRun, DelayedUplinkEnslaveExtendsTheOutageByTheDelay) {
  // Cold destination as shipped, peer ARP timers at real values, no guest
  // traffic: the uplink is what ends the outage, and it comes 3 s late.
  auto r = run_lmh({scenario_path("lb-vlan-cold-destination.yaml"), "--set", "peer.neigh.base_reachable_time_ms=30000",
                    "--set", "guest.traffic_after_resume_ms=5500", "--fault", "agent.lb.enslave_uplink=delay:3000"},
                   "ftdel");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  const double resume = t_of_kind(s, "guest_resumed", "dst");
  const double injected = t_of(s, "faults", "agent.lb.enslave_uplink: delay 3000 ms");
  const double enslaved = t_of(s, "agent.lb.dst", "enslave uplink eth1.100");
  ASSERT_GT(resume, 0);
  ASSERT_GT(injected, resume);  // armed at migration: the source's boot-time enslave ran clean
  EXPECT_NEAR(enslaved - injected, 3000.0, 50.0);
  ASSERT_FALSE(s["metrics"]["recovery_ms"].is_null());
  EXPECT_GT(s["metrics"]["recovery_ms"].get<double>(), enslaved - resume);
  const json* f = fault_entry(s, "agent.lb.enslave_uplink");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["injected"], 1);
}

TEST_F(FaultRun, DestinationFabricPortDownAtSwitchoverLosesTheAnnounces) {
  // Warm destination: normally the RARP moves the MAC at once. With the
  // destination's switch port down for 1.5 s from the switchover, every
  // announce (the last at +800 ms) is lost, the fabric keeps the guest's
  // MAC on the source port, and the outage lasts past the port's return
  // until the guest's own traffic (at +2.5 s) moves it.
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "guest.traffic_after_resume_ms=2500",
                    "--set", "peer.neigh.base_reachable_time_ms=30000", "--fault", "fabric.port=delay:1500"},
                   "ftfab");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "completed");
  const double down = t_of(s, "fabric", "port dst-v100 down");
  const double up = t_of(s, "fabric", "port dst-v100 up");
  const double resume = t_of_kind(s, "guest_resumed", "dst");
  ASSERT_GT(down, 0);
  ASSERT_GT(resume, 0);
  EXPECT_NEAR(up - down, 1500.0, 60.0);
  const auto& m = s["metrics"];
  ASSERT_EQ(s["announces"].size(), 5u);
  for (const auto& a : s["announces"])
    for (const auto& p : a["seen_at"]) EXPECT_NE(p, "dst.fabric_port") << a.dump();
  ASSERT_FALSE(m["recovery_ms"].is_null());
  EXPECT_GT(m["recovery_ms"].get<double>(), up - resume);
  EXPECT_GT(m["stale_forwarding_ms"].get<double>(), 1000.0);
  EXPECT_EQ(s["recovery_cause"], "guest_traffic");
  expect_invariants_hold(s);
}

TEST_F(FaultRun, DestinationComputeCrashTimesOutAndRollsBackWithTheGuestUntouched) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "nova.rpc_response_timeout_s=2",
                    "--fault", "compute.pre_live_migration=crash"},
                   "ftcrash");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "error");
  const double armed = t_of(s, "runner", "fault plan armed");
  const double timeout = t_of(s, "rpc", "call pre_live_migration: MessagingTimeout");
  const double rollback_timeout = last_t_of(s, "rpc", "call rollback_live_migration_at_destination: MessagingTimeout");
  ASSERT_GT(timeout, 0);
  EXPECT_NEAR(timeout - armed, 2000.0, 100.0);
  EXPECT_NEAR(rollback_timeout - timeout, 2000.0, 100.0);  // the dead host cannot undo its prepare
  EXPECT_EQ(s["metrics"]["loss"].get<int>(), 0);
  EXPECT_LT(t_of_kind(s, "guest_resumed", "dst"), 0);
  expect_invariants_hold(s);
}

TEST_F(FaultRun, RefusedMigrationIsJudgedWithTheGuestUntouched) {
  // The API's cast cannot be sent: nova refuses the request, the conductor
  // removes its destination binding; a fail with the invariants, not an
  // error of the harness.
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--fault", "rpc.cast.live_migration=fail:broker down"},
                   "ftrefuse");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["verdict"], "fail");
  EXPECT_EQ(s["migration_status"], "error");
  EXPECT_GT(t_of(s, "runner", "migration refused: cast live_migration failed: broker down"), 0);
  EXPECT_EQ(s["metrics"]["loss"].get<int>(), 0);
  expect_invariants_hold(s);
}

TEST_F(FaultRun, MissingVifPluggedWithFatalTimeoutRollsBack) {
  // The neutron fix sends the event only from the agent, which cannot plug a
  // tap that appears with the transfer: nova's wait runs out (3 s here).
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "behaviour.vif_plugged_from_agent_only=true",
                    "--set", "nova.vif_plugging_timeout_s=3"},
                   "ftvif");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "error");
  const double waiting = t_of(s, "compute.src", "waiting for 1 network-vif-plugged");
  const double timed_out = t_of(s, "compute.src", "timed out waiting for events");
  ASSERT_GT(waiting, 0);
  EXPECT_NEAR(timed_out - waiting, 3000.0, 50.0);
  EXPECT_LT(t_of(s, "compute.src", "driver live_migration"), 0);  // never started
  EXPECT_EQ(s["metrics"]["loss"].get<int>(), 0);
  expect_invariants_hold(s);
}

TEST_F(FaultRun, MissingVifPluggedNonFatalContinuesAfterTheTimeout) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "behaviour.vif_plugged_from_agent_only=true",
                    "--set", "nova.vif_plugging_timeout_s=2", "--set", "nova.vif_plugging_is_fatal=false"},
                   "ftnf");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "completed");
  const double waiting = t_of(s, "compute.src", "waiting for 1 network-vif-plugged");
  const double job = t_of(s, "compute.src", "driver live_migration");
  EXPECT_NEAR(job - waiting, 2000.0, 50.0);
  EXPECT_LE(s["metrics"]["downtime_ms"].get<double>(), 50.0);
  expect_invariants_hold(s);
}

TEST_F(FaultRun, PrematureVifPluggedFromTheProfileUpdateReleasesTheWaitAtOnce) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml")}, "ftpre");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  const double notified = t_of(s, "neutron", "notifier network-vif-plugged port cfcfd97b-b5 on the migrating_to");
  const double released = t_of(s, "nova.compute", "event network-vif-plugged port cfcfd97b-b5 received by waiter");
  const double job = t_of(s, "compute.src", "driver live_migration");
  const double agent_up = t_of(s, "agent.lb.dst", "device up tapcfcfd97b-b5");
  ASSERT_GT(notified, 0);
  ASSERT_GT(released, 0);
  EXPECT_LE(released, job);
  EXPECT_LT(job - notified, 50.0);  // nothing was plugged on the destination yet
  EXPECT_TRUE(agent_up < 0 || agent_up > job);  // the agent had not reported anything
}

TEST_F(FaultRun, BadFaultSpecsExit2AndCreateNothing) {
  auto unknown = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--fault", "agent.lb.scna=drop"}, "ftbad");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("did you mean 'agent.lb.scan'"), std::string::npos) << unknown.err;
  auto action = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--fault", "guest.announce=dorp"}, "ftbad");
  EXPECT_EQ(action.exit_code, 2);
  EXPECT_NE(action.err.find("unknown action 'dorp'"), std::string::npos) << action.err;
  auto malformed = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--fault", "guest.announce"}, "ftbad");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::testing

namespace lmh::testing {
namespace {

class ColdRun : public ::testing::Test {
 protected:
  void SetUp() override { LMH_REQUIRE_ROOT(); }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "the run leaked";
    }
  }
};

TEST_F(ColdRun, ColdMigrationConfirmedOutageIsTheGuestsBoot) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "migration.kind=cold", "--set",
                    "guest.boot_ms=800", "--set", "expect.max_downtime_ms=1000"},
                   "ctcold");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "confirmed");
  const double off = t_of_kind(s, "guest_powered_off", "src");
  const double booted = t_of_kind(s, "guest_booted", "dst");
  ASSERT_GT(off, 0);
  EXPECT_NEAR(booted - off, 800.0, 30.0);
  // The outage is the power-off to boot interval, give or take a probe.
  EXPECT_GE(s["metrics"]["max_gap_ms"].get<double>(), 800.0);
  EXPECT_LE(s["metrics"]["max_gap_ms"].get<double>(), 800.0 + 60.0);
  EXPECT_LT(s["metrics"]["recovery_ms"].get<double>(), 30.0);
  EXPECT_EQ(s["recovery_cause"], "guest_traffic");  // its gratuitous ARP on boot
  EXPECT_LE(s["metrics"]["stale_forwarding_ms"].get<double>(), 10.0);  // a probe in flight at most
  expect_invariants_hold(s);
}

TEST_F(ColdRun, ResizeRevertReturnsTheGuestAndConnectivity) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "migration.kind=resize", "--set",
                    "migration.resize_outcome=revert", "--set", "migration.verify_ms=2000", "--set",
                    "guest.boot_ms=500", "--set", "expect.max_downtime_ms=700"},
                   "ctrev");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "reverted");
  const double on_dst = t_of_kind(s, "guest_booted", "dst");
  const double back = last_t_of_kind(s, "guest_booted", "src");
  ASSERT_GT(on_dst, 0);
  ASSERT_GT(back, on_dst);  // it ran on dst, then came back
  EXPECT_GT(t_of(s, "neutron", "binding activated port cfcfd97b-b5 host src"), on_dst);
  // Each move costs one boot; between them the guest answered from dst.
  EXPECT_GE(s["metrics"]["max_gap_ms"].get<double>(), 500.0);
  EXPECT_LE(s["metrics"]["max_gap_ms"].get<double>(), 500.0 + 60.0);
  EXPECT_LT(s["metrics"]["recovery_ms"].get<double>(), 30.0);  // after the return
  expect_invariants_hold(s);  // on src, binding on src, no tap left on dst
}

}  // namespace
}  // namespace lmh::testing

namespace lmh::testing {
namespace {

TEST_F(ColdRun, AnnounceSelfWorkaroundRecoversOnceTheUplinkExists) {
  // Cold destination as shipped, real peer ARP timers, no guest traffic:
  // only nova's repeated announce_self (3 x, 1 s apart) can end the outage,
  // and the first one after the agent's uplink does.
  auto r = run_lmh({scenario_path("lb-vlan-cold-destination.yaml"), "--set",
                    "behaviour.announce_self_after_migration=true", "--set", "peer.neigh.base_reachable_time_ms=30000",
                    "--set", "peer.neigh.delay_first_probe_time_s=5", "--set", "guest.traffic_after_resume_ms=7000"},
                   "ctann");
  ASSERT_EQ(r.exit_code, 1) << r.err;  // still far above the live threshold
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["recovery_cause"], "announce");
  const double resume = t_of_kind(s, "guest_resumed", "dst");
  const double uplink = t_of(s, "agent.lb.dst", "enslave uplink eth1.100");
  ASSERT_GT(uplink, resume);
  // The first announce_self call after the uplink exists.
  double rescue = -1;
  for (const auto& e : s["timeline"])
    if (e["event"].get<std::string>().rfind("qemu monitor announce_self", 0) == 0 && e["t_ms"].get<double>() > uplink) {
      rescue = e["t_ms"];
      break;
    }
  ASSERT_GT(rescue, 0) << "no announce_self after the uplink was enslaved";
  EXPECT_NEAR(s["metrics"]["recovery_ms"].get<double>(), rescue - resume, 60.0);
  EXPECT_EQ(s["announces"].size(), 20u);  // QEMU's own 5 + 3 x 5
}

}  // namespace
}  // namespace lmh::testing

namespace lmh::testing {
namespace {

TEST_F(ColdRun, JobMonitorAbortsAMigrationPastItsCompletionTimeout) {
  // 128 MiB counts as nova's minimum 2 GiB: 1 s/GiB gives a 2 s timeout,
  // well inside the 60 s pre-copy.
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "migration.precopy_ms=60000", "--set",
                    "nova.live_migration_completion_timeout_s=1"},
                   "ctabort");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "cancelled");
  // The reason, then any note (an overloaded machine) after "; ".
  const std::string reason = s["verdict_reason"];
  EXPECT_EQ(reason.substr(0, reason.find(';')), "migration ended cancelled") << reason;
  const double running = t_of(s, "conductor", "migration 1 status running");
  const double abort = t_of(s, "libvirt", "job abort");
  EXPECT_NEAR(abort - running, 2000.0, 600.0);  // polled every 500 ms
  EXPECT_GT(t_of(s, "libvirt", "migrate-setmaxdowntime 50 ms"), 0);  // nova's first downtime step
  EXPECT_LT(t_of_kind(s, "guest_resumed", "dst"), 0);
  EXPECT_EQ(s["metrics"]["loss"].get<int>(), 0);
  expect_invariants_hold(s);
}

TEST_F(ColdRun, JobMonitorForceCompletesWhenTheTimeoutActionSaysSo) {
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "migration.precopy_ms=60000", "--set",
                    "nova.live_migration_completion_timeout_s=1", "--set",
                    "nova.live_migration_timeout_action=force_complete"},
                   "ctforce");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "completed");
  const double running = t_of(s, "conductor", "migration 1 status running");
  const double resumed = t_of_kind(s, "guest_resumed", "dst");
  EXPECT_NEAR(resumed - running, 2000.0 + 30.0, 600.0);  // switchover at the timeout, not after 60 s
  EXPECT_LE(s["metrics"]["downtime_ms"].get<double>(), 50.0);
  expect_invariants_hold(s);
}

}  // namespace
}  // namespace lmh::testing

namespace lmh::testing {
namespace {

TEST_F(ColdRun, MatrixReportsInvariantsPerFaultAndGatesOnThem) {
  std::string dir = ::testing::TempDir() + "lmh-results";
  auto c = harness::run_command({LMH_BINARY, "matrix", scenario_path("lb-vlan-warm-destination.yaml"), "--faults",
                                 "agent.lb.scan,compute.post_live_migration", "--actions", "fail", "--results", dir,
                                 "--run-id", "ctmx"},
                                std::chrono::seconds(120));
  ASSERT_TRUE(c.ok());
  // post_live_migration failing leaves the guest on dst while nova's record
  // says src: an invariant breaks, so the matrix fails.
  EXPECT_EQ(c->exit_code, 1) << c->err;
  EXPECT_NE(c->out.find("agent.lb.scan=fail"), std::string::npos) << c->out;
  EXPECT_NE(c->out.find("2 fault runs: 1 broke an invariant"), std::string::npos) << c->out;
  std::ifstream f(dir + "/ctmx/result.json");
  auto result = nlohmann::json::parse(f, nullptr, false);
  ASSERT_FALSE(result.is_discarded());
  ASSERT_EQ(result["scenarios"].size(), 2u);
  for (const auto& s : result["scenarios"]) {
    ASSERT_EQ(s["faults"].size(), 1u);
    EXPECT_GE(s["faults"][0]["injected"].get<int>(), 1) << s["name"];
    bool post = s["faults"][0]["point"] == "compute.post_live_migration";
    bool one_host_ok = true;
    for (const auto& inv : s["invariants"]) if (inv["name"] == "one_host") one_host_ok = inv["ok"];
    EXPECT_EQ(one_host_ok, !post) << s["name"];
    if (post) {
      // The binding stays ACTIVE on the source: nothing deletes the only one.
      for (const auto& inv : s["invariants"])
        if (inv["name"] == "binding_host") {
          EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
        }
    }
  }
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

// --expect lists the break nova is known for: the same matrix (two labs at
// once) then passes; a listed break that does not happen fails it; a
// malformed list is refused before anything runs.
TEST_F(ColdRun, MatrixExpectGatesOnlyOnBreaksThatDifferFromTheList) {
  const std::string dir = ::testing::TempDir() + "lmh-results";
  const std::string known = ::testing::TempDir() + "known.expect";
  std::ofstream(known) << "# nova: post_live_migration failing leaves the record on the source\n"
                       << "compute.post_live_migration=fail one_host\n";
  auto matrix = [&](const std::string& expect, const std::string& faults, const std::string& id) {
    auto c = harness::run_command({LMH_BINARY, "matrix", scenario_path("lb-vlan-warm-destination.yaml"), "--faults",
                                   faults, "--actions", "fail", "--expect", expect, "--jobs", "2", "--results", dir,
                                   "--run-id", id},
                                  std::chrono::seconds(180));
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : harness::CommandResult{};
  };
  // The list names one of the three invariants that failure breaks: the
  // other two are new.
  auto partial = matrix(known, "agent.lb.scan,compute.post_live_migration", "ctexp");
  EXPECT_EQ(partial.exit_code, 1) << partial.out << partial.err;
  EXPECT_NE(partial.out.find("--expect: 1 known broken invariant(s) broke as listed, 2 new, 0 listed no longer break"),
            std::string::npos)
      << partial.out;
  EXPECT_NE(partial.out.find("new broken invariant: compute.post_live_migration=fail: no_leftover_vif"),
            std::string::npos);
  EXPECT_NE(partial.out.find("new broken invariant: compute.post_live_migration=fail: vif_wired"), std::string::npos);
  std::ofstream(known, std::ios::app) << "compute.post_live_migration=* no_leftover_vif\n"
                                      << "compute.post_live_migration=fail vif_wired\n";
  auto listed = matrix(known, "agent.lb.scan,compute.post_live_migration", "ctex");
  EXPECT_EQ(listed.exit_code, 0) << listed.out << listed.err;
  EXPECT_NE(listed.out.find("2 fault runs: 1 broke an invariant"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("--expect: 3 known broken invariant(s) broke as listed, 0 new, 0 listed no longer break"),
            std::string::npos)
      << listed.out;

  const std::string wrong = ::testing::TempDir() + "wrong.expect";
  std::ofstream(wrong) << "agent.lb.scan=fail vif_wired\n";
  auto stale = matrix(wrong, "agent.lb.scan", "ctexs");
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
  EXPECT_NE(stale.out.find("stale: " + wrong + ":1: agent.lb.scan=fail vif_wired is listed as broken and no longer "
                           "breaks"),
            std::string::npos)
      << stale.out;

  const std::string bad = ::testing::TempDir() + "bad.expect";
  std::ofstream(bad) << "compute.post_live_migration=fail one_hots\n";
  auto refused = matrix(bad, "agent.lb.scan", "ctexb");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(bad + ":1: unknown invariant 'one_hots'"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/ctexb"));
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::testing
