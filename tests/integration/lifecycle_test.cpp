// Bad input changes nothing; Ctrl-C and failures tear everything down;
// `lmh cleanup` removes what a SIGKILLed run left.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <thread>

#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::testing {
namespace {

using namespace std::chrono_literals;

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    ASSERT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "a previous test leaked";
  }
  std::string write_file(const std::string& name, const std::string& text) {
    std::string p = ::testing::TempDir() + name;
    std::ofstream(p) << text;
    return p;
  }
  // Starts `lmh run` on the warm scenario in the background.
  pid_t start_run(const std::string& run_id, const std::string& observe_ms = "20000",
                  const std::string& scenario = "lb-vlan-warm-destination.yaml") {
    // Files of an earlier run with this id would fool the waits below.
    std::filesystem::remove_all(::testing::TempDir() + "lmh-results/" + run_id);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);  // its own process group, like a job started from a shell
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      std::string s = scenario_path(scenario);
      std::string results = ::testing::TempDir() + "lmh-results";
      ::execl(LMH_BINARY, LMH_BINARY, "run", s.c_str(), "--results", results.c_str(), "--run-id",
              run_id.c_str(), "--set", ("probe.observe_ms=" + observe_ms).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    children_.push_back(pid);
    return pid;
  }
  // A test that stops early (failed ASSERT) must not leave lmh running.
  void TearDown() override {
    for (pid_t pid : children_) {
      if (::kill(pid, 0) == 0) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    if (::geteuid() == 0 && !lmh_leftovers().empty()) {
      (void)harness::run_command({LMH_BINARY, "cleanup"}, std::chrono::seconds(60));
    }
  }
  std::vector<pid_t> children_;
  // Waits until the run's guest exists (the lab is fully up).
  bool wait_lab_up() {
    return harness::wait_until([] {
      for (const auto& ns : harness::list_named_netns("lmh-"))
        if (ns.find("-g-vm1") != std::string::npos) return true;
      return false;
    }, 30s, 20ms);
  }
  int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

TEST_F(Lifecycle, MalformedYamlExits2NamingFileAndLineAndCreatesNothing) {
  std::string p = write_file("bad.yaml", "name: x\nprobe:\n  interval_ms: [1\n");
  auto r = run_lmh({p}, "itbad");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(p + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("syntax error"), std::string::npos) << r.err;
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

TEST_F(Lifecycle, UnknownKeyAndWrongTypeExit2WithLineAndKey) {
  std::string p = write_file("unknown.yaml", "name: x\nprobe:\n  intervall_ms: 5\n");
  auto r = run_lmh({p}, "itunk");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(p + ":3: probe.intervall_ms"), std::string::npos) << r.err;
  std::string q = write_file("type.yaml", "name: x\nmigration:\n  pause_ms: soon\n");
  auto t = run_lmh({q}, "ittype");
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.err.find(q + ":3: migration.pause_ms"), std::string::npos) << t.err;
  auto o = run_lmh({scenario_path("lb-vlan-warm-destination.yaml"), "--set", "migration.destination=src"}, "itimp");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--set migration.destination"), std::string::npos) << o.err;
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

// A matrix file gates on the verdict each entry expects; a malformed one
// (or one naming a malformed scenario) creates nothing.
TEST_F(Lifecycle, MatrixFileGatesOnExpectedVerdictsAndBadLinesExit2) {
  const std::string dir = std::string(LMH_SOURCE_DIR) + "/scenarios/";
  std::string bad = write_file("bad.matrix", "pass " + dir + "lb-vlan-warm-destination.yaml\nmaybe x.yaml\n");
  auto b = run_lmh({bad}, "itmbad");
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find(bad + ":2: expected verdict 'maybe'"), std::string::npos) << b.err;
  std::string missing = write_file("missing.matrix", "fail " + dir + "no-such.yaml\n");
  auto m = run_lmh({missing}, "itmmis");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find(missing + ":1: "), std::string::npos) << m.err;
  EXPECT_FALSE(std::filesystem::exists(::testing::TempDir() + "lmh-results/itmbad"));
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
  // The warm scenario passes; a matrix that expects it to fail is told so.
  std::string wrong = write_file("wrong.matrix", "fail " + dir + "lb-vlan-warm-destination.yaml\n");
  auto w = run_lmh({wrong}, "itmwr");
  EXPECT_EQ(w.exit_code, 1) << w.err;
  EXPECT_NE(w.out.find("not as expected: lb-vlan-warm-destination pass, the matrix file expects fail"),
            std::string::npos) << w.out;
  std::string right = write_file("right.matrix", "pass " + dir + "lb-vlan-warm-destination.yaml\n");
  EXPECT_EQ(run_lmh({right}, "itmok").exit_code, 0);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

TEST_F(Lifecycle, SigintDuringBootTearsEverythingDown) {
  pid_t pid = start_run("itint");
  ASSERT_TRUE(wait_lab_up()) << "lab never came up";
  EXPECT_FALSE(lmh_leftovers().empty());
  ::kill(-pid, SIGINT);  // the whole process group, as a terminal's Ctrl-C
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

TEST_F(Lifecycle, SigintDuringTheMigrationTearsEverythingDown) {
  pid_t pid = start_run("itmig");
  // Probing starts (pcaps appear), then 1 s of settling, then the migration
  // (500 ms pre-copy): interrupt 1.2 s after the pcaps appear.
  std::string pcap = ::testing::TempDir() + "lmh-results/itmig/1-peer.pcap";
  ASSERT_TRUE(harness::wait_until([&] { return std::filesystem::exists(pcap); }, 30s, 5ms));
  std::this_thread::sleep_for(1200ms);
  ::kill(-pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

TEST_F(Lifecycle, FabricDaemonDyingMidRunIsAnErrorAndTearsDown) {
  pid_t pid = start_run("itfab", "3000");
  // Mid-run: once capture and probing have started (the pcap files appear).
  std::string pcap = ::testing::TempDir() + "lmh-results/itfab/1-peer.pcap";
  ASSERT_TRUE(harness::wait_until([&] { return std::filesystem::exists(pcap); }, 30s, 20ms));
  // Past the baseline: the guest has answered probes for a while.
  std::this_thread::sleep_for(400ms);
  // Kill the run's ovs-vswitchd (the fabric) from outside.
  pid_t vswitchd = 0;
  for (const auto& d : std::filesystem::directory_iterator("/run/lmh")) {
    std::ifstream f(d.path() / "ovs-vswitchd.pid");
    if (f >> vswitchd) break;
  }
  ASSERT_GT(vswitchd, 0);
  ASSERT_EQ(::kill(vswitchd, SIGKILL), 0);
  EXPECT_EQ(wait_exit(pid), 3);  // the scenario errored: an environment failure
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
  std::ifstream f(::testing::TempDir() + "lmh-results/itfab/result.json");
  auto result = nlohmann::json::parse(f, nullptr, false);
  ASSERT_FALSE(result.is_discarded());
  EXPECT_EQ(result["scenarios"][0]["verdict"], "error");
  const std::string reason = result["scenarios"][0]["verdict_reason"];
  EXPECT_NE(reason.find("Open vSwitch daemons died"), std::string::npos) << reason;
  EXPECT_NE(reason.find("measurements are void"), std::string::npos) << reason;
}

TEST_F(Lifecycle, CleanupRemovesWhatAKilledRunLeft) {
  pid_t pid = start_run("itkill");
  ASSERT_TRUE(wait_lab_up()) << "lab never came up";
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  // The daemons die with lmh (PDEATHSIG); namespaces and state stay.
  EXPECT_FALSE(lmh_leftovers().empty());
  auto c = harness::run_command({LMH_BINARY, "cleanup"}, 60s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->exit_code, 0) << c->err;
  EXPECT_NE(c->out.find("removed namespace lmh-"), std::string::npos) << c->out;
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
  auto again = harness::run_command({LMH_BINARY, "cleanup"}, 60s);
  EXPECT_NE(again->out.find("nothing to clean"), std::string::npos) << again->out;
}

// The same with OVN's daemons: central databases and northd in their own
// namespace, an ovn-controller per chassis.
TEST_F(Lifecycle, CleanupRemovesWhatAKilledOvnRunLeft) {
  pid_t pid = start_run("itkovn", "20000", "ovn-live.yaml");
  ASSERT_TRUE(wait_lab_up()) << "lab never came up";
  ASSERT_FALSE(processes_under("/run/lmh/itkovn").empty());
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  EXPECT_FALSE(lmh_leftovers().empty());
  auto c = harness::run_command({LMH_BINARY, "cleanup"}, 60s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->exit_code, 0) << c->err;
  EXPECT_NE(c->out.find("removed namespace lmh-itkovn1-ovn"), std::string::npos) << c->out;
  EXPECT_EQ(processes_under("/run/lmh/itkovn"), std::vector<std::string>{});
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

TEST_F(Lifecycle, DoctorNamesEachCapabilityAndWhichAcceleratorBootsTheGuest) {
  auto d = harness::run_command({LMH_BINARY, "doctor"}, 120s);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->exit_code, 0) << d->err;
  for (const char* cap : {"netns", "veth", "linux-bridge", "8021q", "vxlan", "libpcap", "ovs-userspace", "kvm"})
    EXPECT_NE(d->out.find(std::string("\n") + cap + " "), std::string::npos) << cap << "\n" << d->out;
  EXPECT_NE(d->out.find("emulated tier: ready"), std::string::npos) << d->out;
  // The accelerator is probed by booting the guest, not guessed from /dev/kvm.
  const bool kvm = d->out.find("libvirt tier: ready, accel kvm (") != std::string::npos;
  const bool tcg = d->out.find("libvirt tier: ready, accel tcg (") != std::string::npos;
  EXPECT_TRUE(kvm != tcg) << d->out;
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});  // its scratch namespace is gone
}

// lmh bench: Google Benchmark JSON with every run's downtime and the
// aggregates; --baseline exits 1 when a median rose beyond --tolerance, and
// a file that is not benchmark JSON is refused before anything runs.
TEST_F(Lifecycle, BenchWritesGoogleBenchmarkJsonAndGatesOnABaselineMedian) {
  const std::string results = ::testing::TempDir() + "lmh-results";
  const std::string warm = scenario_path("lb-vlan-warm-destination.yaml");
  auto bench = [&](std::vector<std::string> extra, const std::string& id) {
    std::vector<std::string> args = {LMH_BINARY, "bench", warm, "--results", results, "--run-id", id};
    args.insert(args.end(), extra.begin(), extra.end());
    std::filesystem::remove_all(results + "/" + id);
    auto c = harness::run_command(args, std::chrono::seconds(180));
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : harness::CommandResult{};
  };
  const std::string bad = write_file("bad-baseline.json", "{\"context\": {}}");
  auto refused = bench({"--runs", "1", "--baseline", bad}, "itbbad");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--baseline " + bad + ": no \"benchmarks\" list"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(results + "/itbbad"));

  auto two = bench({"--runs", "2"}, "itbench");
  ASSERT_EQ(two.exit_code, 0) << two.err << two.out;
  EXPECT_NE(two.out.find("lb-vlan-warm-destination"), std::string::npos) << two.out;
  std::ifstream f(results + "/itbench/bench.json");
  auto doc = nlohmann::json::parse(f, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  std::vector<double> runs;
  double median = -1;
  for (const auto& b : doc["benchmarks"]) {
    if (b["run_name"] != "lb-vlan-warm-destination/downtime_ms") continue;
    if (b["run_type"] == "iteration") runs.push_back(b["real_time"].get<double>());
    else if (b["aggregate_name"] == "median") median = b["real_time"].get<double>();
  }
  ASSERT_EQ(runs.size(), 2u) << doc.dump(1);
  for (double d : runs) {
    EXPECT_GT(d, 0.0);
    EXPECT_LT(d, 100.0);  // the warm destination: the switchover only
  }
  EXPECT_DOUBLE_EQ(median, (runs[0] + runs[1]) / 2);

  // A baseline whose median is far below today's: a regression, exit 1.
  const std::string fast = write_file("fast-baseline.json", R"({"benchmarks": [
      {"name": "lb-vlan-warm-destination/downtime_ms", "run_type": "iteration", "real_time": 1.0, "time_unit": "ms"}]})");
  auto regressed = bench({"--runs", "1", "--baseline", fast, "--tolerance", "50"}, "itbreg");
  EXPECT_EQ(regressed.exit_code, 1) << regressed.err << regressed.out;
  EXPECT_NE(regressed.out.find("REGRESSION"), std::string::npos) << regressed.out;
  EXPECT_NE(regressed.out.find("--baseline: 1 median(s) compared, 1 beyond +50.0 %"), std::string::npos)
      << regressed.out;
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::testing
