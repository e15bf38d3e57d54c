// The real guest tier end to end: `lmh run` on the shipped libvirt-tier
// scenarios (QEMU guests under a libvirtd per lab host, a real p2p
// tunnelled live migration), with assertions on the measured numbers
// against QEMU's own downtime figure (seed 001 on real QEMU). Needs root,
// libvirtd and QEMU; the guest image is built next to the binary on demand.
#include <fcntl.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::testing {
namespace {

using nlohmann::json;

// Run ids of this file: labs "lmh-zrt<...>", state "/run/lmh/zrt<...>".
constexpr const char* kRunPrefix = "zrt";

bool seen_at_any_fabric_port(const json& announce) {
  for (const auto& p : announce["seen_at"])
    if (p.get<std::string>().find("fabric_port") != std::string::npos) return true;
  return false;
}

bool seen_at(const json& announce, const std::string& point) {
  for (const auto& p : announce["seen_at"])
    if (p == point) return true;
  return false;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// lmh_leftovers() narrowed to this file's runs: other labs may run on the
// machine at the same time. A process is ours when its command line or
// mounts name one of our state directories (QEMU's paths, libvirtd's).
std::vector<std::string> our_leftovers() {
  std::vector<std::string> out;
  const std::string ns = std::string("lmh-") + kRunPrefix, dir = std::string("/run/lmh/") + kRunPrefix;
  for (const auto& l : lmh_leftovers()) {
    if (l.rfind("process ", 0) == 0) {
      std::string proc = "/proc/" + l.substr(8);
      if (read_text(proc + "/cmdline").find(dir) == std::string::npos &&
          read_text(proc + "/mountinfo").find(std::string("/lmh/") + kRunPrefix) == std::string::npos)
        continue;
    } else if (l.rfind("root-namespace link", 0) != 0 && l.find(ns) == std::string::npos &&
               l.find(dir) == std::string::npos) {
      continue;
    }
    out.push_back(l);
  }
  return out;
}

class RealTier : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    if (harness::find_program("libvirtd").empty() || harness::find_program("qemu-system-x86_64").empty())
      GTEST_SKIP() << "needs libvirtd and qemu-system-x86_64 (make deps)";
  }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(our_leftovers(), std::vector<std::string>{}) << "the run leaked";
    }
  }

  // Runs 'scenario' and returns its one result; checks what every run of
  // the tier reports: tier, accelerator, QEMU's downtime, a completed
  // migration with both phases on the timeline, sound invariants, under a
  // minute of wall time.
  json run(const std::string& scenario, const std::string& run_id, int expected_exit) {
    auto r = run_lmh({scenario}, run_id);
    EXPECT_EQ(r.exit_code, expected_exit) << r.err << r.out;
    if (!r.result.is_object() || r.result["scenarios"].empty()) {
      ADD_FAILURE() << "no result.json: " << r.err;
      return json::object();
    }
    json s = r.result["scenarios"][0];
    std::printf("%s\n", r.out.c_str());
    EXPECT_EQ(s["tier"], "libvirt");
    EXPECT_TRUE(s["accel"] == "tcg" || s["accel"] == "kvm") << s["accel"];
    EXPECT_EQ(s["migration_status"], "completed") << s["verdict_reason"];
    const json& qemu = s["metrics"]["hypervisor_downtime_ms"];
    EXPECT_TRUE(qemu.is_number()) << qemu;
    if (qemu.is_number()) {
      EXPECT_GT(qemu.get<double>(), 0.0);
    }
    EXPECT_GT(t_of_kind(s, "guest_paused", "src"), 0);
    EXPECT_GT(t_of_kind(s, "guest_resumed", "dst"), t_of_kind(s, "guest_paused", "src"));
    EXPECT_GT(t_of_kind(s, "prepare", "dst"), 0);
    for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
    EXPECT_LT(s["wall_ms"].get<double>(), 60000.0);
    // QEMU sends its own 5 RARPs (+0/50/200/450/800 ms), seen leaving the guest.
    EXPECT_EQ(s["announces"].size(), 5u);
    for (const auto& a : s["announces"]) EXPECT_TRUE(seen_at(a, "dst.tap")) << a.dump();
    // The guest's serial console from both hosts is in the results: the
    // source's has its boot, the destination's what it printed after.
    const std::string dir = ::testing::TempDir() + "lmh-results/" + run_id + "/";
    std::vector<std::string> logs = s["serial_logs"].get<std::vector<std::string>>();
    bool src_booted = false, dst_present = false;
    for (const auto& name : logs) {
      std::ifstream f(dir + name);
      std::stringstream text;
      text << f.rdbuf();
      if (name.rfind("1-src-", 0) == 0) src_booted = text.str().find("LMH-GUEST-READY") != std::string::npos;
      if (name.rfind("1-dst-", 0) == 0) dst_present = static_cast<bool>(f);
    }
    EXPECT_TRUE(src_booted) << "no source serial log with the guest's ready line: " << s["serial_logs"].dump();
    EXPECT_TRUE(dst_present) << "no destination serial log: " << s["serial_logs"].dump();
    return s;
  }
};

// The fabric saw the guest's announces and the probes' gap is QEMU's own
// pause plus little: what a warm destination and the fix both give.
void expect_downtime_is_qemus(const json& s) {
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "pass") << s["verdict_reason"];
  EXPECT_EQ(s["recovery_cause"], "announce");
  for (const auto& a : s["announces"]) EXPECT_TRUE(seen_at(a, "dst.fabric_port")) << a.dump();
  ASSERT_TRUE(m["hypervisor_downtime_ms"].is_number());
  EXPECT_LE(m["downtime_ms"].get<double>(), m["hypervisor_downtime_ms"].get<double>() + 100.0) << m.dump();
  EXPECT_LE(m["stale_forwarding_ms"].get<double>(), 10.0);  // a probe in flight at most
}

TEST_F(RealTier, ColdDestinationAsShippedLosesQemusAnnounces) {
  json s = run(scenario_path("real-lb-vlan-cold-destination.yaml"), std::string(kRunPrefix) + "cold", 1);
  ASSERT_TRUE(s.contains("metrics"));
  const json& m = s["metrics"];
  EXPECT_EQ(s["verdict"], "fail");
  // Every announce left the guest (dst.tap) and died in the bridge without
  // an uplink: none reached the fabric.
  for (const auto& a : s["announces"]) EXPECT_FALSE(seen_at_any_fabric_port(a)) << a.dump();
  const double resume = t_of_kind(s, "guest_resumed", "dst");
  const double uplink = t_of(s, "agent.lb.dst", "enslave uplink eth1.100");
  ASSERT_GT(uplink, 0) << "the destination agent never enslaved the uplink";
  ASSERT_FALSE(s["announces"].empty());
  EXPECT_GT(uplink, s["announces"].back()["t_ms"].get<double>());
  // The outage lasts until the guest's own traffic (its kernel's ARP probe
  // of the gateway, the ping at +4 s) or the peer's ARP re-taught the
  // fabric, far beyond QEMU's pause. (Usually "peer_arp" or
  // "guest_traffic"; the capture of the freshly created dst.fabric_port can
  // open a few ms after the first frame through it on a loaded machine,
  // and the first frame it saw is then an echo reply: "fabric_ageing".)
  EXPECT_NE(s["recovery_cause"], "announce");
  EXPECT_NE(s["recovery_cause"], "none");
  ASSERT_FALSE(m["recovery_ms"].is_null());
  EXPECT_GT(m["recovery_ms"].get<double>(), uplink - resume);
  EXPECT_GT(m["downtime_ms"].get<double>(), 1000.0);
  EXPECT_GT(m["downtime_ms"].get<double>(), m["hypervisor_downtime_ms"].get<double>() + 1000.0);
  EXPECT_GT(m["stale_forwarding_ms"].get<double>(), 800.0);  // past QEMU's last announce
}

TEST_F(RealTier, ColdDestinationFixedDowntimeIsQemus) {
  json s = run(scenario_path("real-lb-vlan-cold-destination.yaml") + "[pre_plug_vlan_uplink=true]",
               std::string(kRunPrefix) + "fix", 0);
  ASSERT_TRUE(s.contains("metrics"));
  EXPECT_EQ(s["behaviour"]["pre_plug_vlan_uplink"], "true");
  expect_downtime_is_qemus(s);
  const double plugged = t_of(s, "compute.dst", "os-vif ensure_vlan_bridge");
  ASSERT_GT(plugged, 0);
  EXPECT_LT(plugged, t_of_kind(s, "guest_resumed", "dst"));
}

TEST_F(RealTier, WarmDestinationDowntimeIsQemus) {
  json s = run(scenario_path("real-lb-vlan-warm-destination.yaml"), std::string(kRunPrefix) + "warm", 0);
  ASSERT_TRUE(s.contains("metrics"));
  expect_downtime_is_qemus(s);
}

// A migration job that fails (aborted through libvirt as soon as it runs):
// the guest keeps running on the source, nothing stays on the destination
// (domain, QEMU, tap), nova rolls back, and the guest never stopped.
TEST_F(RealTier, FailedMigrationLeavesNothingOnTheDestination) {
  auto r = run_lmh({scenario_path("real-lb-vlan-warm-destination.yaml"), "--fault",
                    "hypervisor.migrate=fail:disk copy aborted"},
                   std::string(kRunPrefix) + "fail");
  ASSERT_EQ(r.exit_code, 1) << r.err;  // the migration ended in error
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["migration_status"], "error");
  EXPECT_NE(s["verdict_reason"].get<std::string>().find("migration ended error"), std::string::npos);
  // one_host asks both libvirtds; no_leftover_vif looks for the tap.
  for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
  EXPECT_GT(t_of(s, "libvirt", "migration to dst failed: migration job failed: disk copy aborted"), 0);
  EXPECT_GT(t_of(s, "compute.dst", "rollback_live_migration_at_destination"), 0);
  EXPECT_LT(t_of_kind(s, "guest_resumed", "dst"), 0);
  EXPECT_TRUE(s["metrics"]["hypervisor_downtime_ms"].is_null());
  EXPECT_LT(s["metrics"]["downtime_ms"].get<double>(), 100.0);
}

// A guest hung on its new host (guest.freeze: migrated paused, vCPUs
// stopped past the observation). Its QEMU holds every frame while the
// vCPUs are stopped, the announces too (QEMU sends nothing for a stopped
// VM), so the peer loses it; lmh says it is the guest, as an error, not an
// outage of the network.
TEST_F(RealTier, FrozenGuestIsReportedUnresponsiveNotAsAnOutage) {
  auto r = run_lmh({scenario_path("real-lb-vlan-warm-destination.yaml"), "--fault", "guest.freeze=delay:120000"},
                   std::string(kRunPrefix) + "frz");
  ASSERT_EQ(r.exit_code, 3) << r.err << r.out;  // verdict error
  ASSERT_FALSE(r.result["scenarios"].empty()) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["verdict"], "error");
  EXPECT_EQ(s["migration_status"], "completed") << s["verdict_reason"];
  const std::string why = s["verdict_reason"].get<std::string>();
  EXPECT_EQ(why.rfind("guest unresponsive after migration: its domain on dst is paused", 0), 0u) << why;
  EXPECT_NE(why.find("serial logs in the results"), std::string::npos) << why;
  EXPECT_GT(t_of(s, "libvirt", "guest.freeze: "), 0);
  EXPECT_TRUE(s["announces"].empty()) << s["announces"].dump();
  EXPECT_TRUE(s["metrics"]["recovery_ms"].is_null()) << s["metrics"].dump();
  EXPECT_FALSE(s["serial_logs"].empty());
}

// Seed 000 with real QEMU and libvirt: the destination XML names brq…
// with an openvswitch <virtualport>, and libvirt itself puts the tap on
// that OVS bridge (os-vif made it); nova says completed, the guest is gone.
TEST_F(RealTier, LinuxbridgeToOvsAsShippedLibvirtPutsTheTapOnTheBrqOvsBridge) {
  auto r = run_lmh({scenario_path("lb-to-ovs-live.yaml"), "--set", "tier=libvirt", "--set", "guest.memory_mb=128"},
                   std::string(kRunPrefix) + "seeda");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["tier"], "libvirt");
  EXPECT_EQ(s["migration_status"], "completed");
  EXPECT_TRUE(s["metrics"]["recovery_ms"].is_null()) << s["metrics"].dump();
  bool wired_checked = false;
  for (const auto& inv : s["invariants"]) {
    if (inv["name"] != "vif_wired") continue;
    wired_checked = true;
    EXPECT_FALSE(inv["ok"].get<bool>());
    EXPECT_EQ(inv["detail"], "tapcfcfd97b-b5 on dst is on OVS bridge brq0fe9c836-58, binding says br-int");
  }
  EXPECT_TRUE(wired_checked);
  for (const auto& a : s["announces"]) EXPECT_FALSE(seen_at(a, "dst.fabric_port")) << a.dump();
}

TEST_F(RealTier, LinuxbridgeToOvsFixedDowntimeIsQemus) {
  // A real pre-copy here takes about 1 s: the OVS agent polls every 0.5 s
  // so it sees the incoming tap before the switchover (neutron's
  // polling_interval; at 2 s it is luck whether it does).
  // The scenario's 80 ms is the emulated 30 ms pause + 50; QEMU's own
  // pause under TCG is 40-160 ms, so the threshold is the real scenarios'
  // 500 and the test holds the downtime to QEMU's + 100 ms.
  auto r = run_lmh({scenario_path("lb-to-ovs-live.yaml"), "--set", "tier=libvirt", "--set", "guest.memory_mb=128",
                    "--set", "behaviour.dest_xml_bridge=destination", "--set", "agent.polling_interval_ms=500",
                    "--set", "expect.max_downtime_ms=500"},
                   std::string(kRunPrefix) + "safix");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["tier"], "libvirt");
  expect_downtime_is_qemus(s);
  for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
}

// Seed 000 on VXLAN with real QEMU: the tap on br-int and one UDP port bring
// the guest back through the OVS destination's br-tun and the linuxbridge
// bystander's vxlan device; what is left is l2population's timing (the
// destination's poll after libvirt returns, ~1.9 s after resume under TCG).
TEST_F(RealTier, LinuxbridgeToOvsVxlanFixedRecoversThroughTheTunnels) {
  auto r = run_lmh({scenario_path("lb-to-ovs-vxlan-live.yaml"), "--set", "tier=libvirt", "--set",
                    "behaviour.dest_xml_bridge=destination", "--set", "agent.udp_dstport=4789"},
                   std::string(kRunPrefix) + "vxfix");
  ASSERT_EQ(r.exit_code, 1) << r.err << r.out;  // the l2population outage fails the threshold
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["tier"], "libvirt");
  EXPECT_EQ(s["migration_status"], "completed");
  ASSERT_FALSE(s["metrics"]["recovery_ms"].is_null()) << s["metrics"].dump();
  EXPECT_EQ(s["recovery_cause"], "tunnel_fdb");
  EXPECT_GT(s["metrics"]["stale_forwarding_by_host_ms"]["by"].get<double>(), 500.0);
  for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
}

// ML2/OVN with real QEMU: libvirt plugs the destination's tap into br-int
// with the port's iface-id at the start of the transfer, the destination's
// ovn-controller claims it as an additional chassis, and QEMU's RARP lifts
// activation-strategy rarp's blocks: the guest answers again within QEMU's
// own switchover downtime plus little. (Under TCG the peer sometimes loses
// the guest about 1.2 s before the switchover already: 2 of 4 runs, cause
// not found yet; so the total downtime is not asserted here.)
TEST_F(RealTier, OvnMultichassisRecoversWithinQemusDowntime) {
  auto r = run_lmh({scenario_path("ovn-live.yaml"), "--set", "tier=libvirt", "--set", "expect.max_downtime_ms=1000"},
                   std::string(kRunPrefix) + "ovn");
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err << r.out;
  const json& s = r.result["scenarios"][0];
  EXPECT_EQ(s["tier"], "libvirt");
  EXPECT_EQ(s["migration_status"], "completed");
  const json& m = s["metrics"];
  ASSERT_TRUE(m["hypervisor_downtime_ms"].is_number()) << m.dump();
  ASSERT_TRUE(m["recovery_ms"].is_number()) << m.dump();
  EXPECT_LE(m["recovery_ms"].get<double>(), m["hypervisor_downtime_ms"].get<double>() + 100.0) << m.dump();
  // QEMU's RARP, or the guest's own gratuitous ARP (virtio guest-announce),
  // whichever reached the fabric first.
  EXPECT_TRUE(s["recovery_cause"] == "announce" || s["recovery_cause"] == "guest_traffic") << s["recovery_cause"];
  EXPECT_LT(t_of(s, "ovn", "port cfcfd97b-b5 up chassis src additional [dst]"), t_of_kind(s, "guest_paused", "src"));
  ASSERT_FALSE(s["announces"].empty());
  EXPECT_TRUE(seen_at(s["announces"][0], "dst.fabric_port")) << s["announces"][0].dump();
  ASSERT_TRUE(m["flows_installed_ms"].is_number()) << m.dump();
  for (const auto& inv : s["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv.dump();
}

// `lmh cleanup` after a SIGKILL of lmh with libvirtds and QEMUs running:
// QEMU outlives lmh (libvirt daemonises it), cleanup must find it.
TEST_F(RealTier, CleanupAfterSigkillRemovesLibvirtdAndQemu) {
  const std::string run_id = std::string(kRunPrefix) + "kill";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::string sc = scenario_path("real-lb-vlan-warm-destination.yaml");
    std::string results = ::testing::TempDir() + "lmh-results";
    ::execl(LMH_BINARY, LMH_BINARY, "run", sc.c_str(), "--results", results.c_str(), "--run-id", run_id.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Up when a QEMU of this run wrote its pid file.
  auto qemu_running = [&] {
    std::error_code ec;
    for (const auto& d : std::filesystem::recursive_directory_iterator("/run/lmh", ec)) {
      const std::string p = d.path().string();
      // <state>/libvirt-<host>/run/qemu/<domain>.pid (driver.pid is libvirt's own)
      if (p.find("/run/lmh/" + run_id) == 0 && p.find("/run/qemu/") != std::string::npos &&
          d.path().extension() == ".pid" && d.path().filename() != "driver.pid")
        return true;
    }
    return false;
  };
  auto qemus = [&] {
    int n = 0;
    for (const auto& l : our_leftovers())
      if (l.rfind("process ", 0) == 0 && read_text("/proc/" + l.substr(8) + "/comm").find("qemu") != std::string::npos) ++n;
    return n;
  };
  bool up = harness::wait_until([&] { return qemu_running() && qemus() > 0; }, std::chrono::seconds(90),
                                std::chrono::milliseconds(50));
  // kill -9 of lmh alone, as an operator or a CI timeout does it.
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(up) << "no QEMU came up";
  EXPECT_FALSE(our_leftovers().empty());
  auto c = harness::run_command({LMH_BINARY, "cleanup"}, std::chrono::seconds(90));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->exit_code, 0) << c->err;
  EXPECT_EQ(our_leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::testing
