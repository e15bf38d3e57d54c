// Runs side by side on one machine: each keeps to its own objects, and
// `lmh cleanup` (or a run's own reaping at start) removes a dead run's
// objects only, keeping those of a run whose owner is alive: namespaces,
// Open vSwitch and OVN daemons, libvirtd and its QEMU guests.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "harness/lab/libvirt_hypervisor.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::testing {
namespace {

using namespace std::chrono_literals;

// An `lmh -v run` in the background, in its own process group, its stderr
// (phase lines) in a file.
struct BackgroundRun {
  pid_t pid = -1;
  std::string id;       // --run-id
  std::string lab;      // its lab: "<id>1"
  std::string stderr_path;
  std::string results;  // results/<id>
};

class Concurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    ASSERT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "a previous test leaked";
  }
  void TearDown() override {
    for (const auto& r : runs_)
      if (::kill(r.pid, 0) == 0) {
        ::kill(-r.pid, SIGKILL);
        ::waitpid(r.pid, nullptr, 0);
      }
    if (::geteuid() == 0 && !lmh_leftovers().empty())
      (void)harness::run_command({LMH_BINARY, "cleanup"}, std::chrono::seconds(60));
  }

  BackgroundRun start(const std::string& id, const std::string& scenario, const std::string& observe_ms) {
    BackgroundRun r;
    r.id = id;
    r.lab = id + "1";
    const std::string root = ::testing::TempDir() + "lmh-results";
    r.results = root + "/" + id;
    r.stderr_path = ::testing::TempDir() + id + ".stderr";
    std::filesystem::remove_all(r.results);
    // Before the fork: the child truncates it only when it gets to run, and
    // an earlier run's phase lines must not answer wait_phase meanwhile.
    std::filesystem::remove(r.stderr_path);
    r.pid = ::fork();
    if (r.pid == 0) {
      ::setpgid(0, 0);
      int devnull = ::open("/dev/null", O_RDWR);
      int err = ::open(r.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(err, 2);
      std::string s = scenario_path(scenario);
      ::execl(LMH_BINARY, LMH_BINARY, "-v", "run", s.c_str(), "--results", root.c_str(), "--run-id", id.c_str(),
              "--set", ("probe.observe_ms=" + observe_ms).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(r.pid, r.pid);
    runs_.push_back(r);
    return r;
  }
  static std::string stderr_of(const BackgroundRun& r) {
    std::ifstream f(r.stderr_path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // Waits until the run has logged 'phase' ("measure", "teardown", ...).
  static bool wait_phase(const BackgroundRun& r, const std::string& phase, std::chrono::seconds timeout) {
    const std::string line = "run " + r.lab + ": phase " + phase;
    return harness::wait_until([&] { return stderr_of(r).find(line) != std::string::npos; }, timeout, 20ms);
  }
  static int wait_exit(const BackgroundRun& r) {
    int status = 0;
    ::waitpid(r.pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  static std::set<std::string> namespaces_of(const BackgroundRun& r) {
    std::set<std::string> out;
    for (const auto& ns : harness::list_named_netns("lmh-" + r.lab + "-")) out.insert(ns);
    return out;
  }
  // The run's processes: daemons naming its state directory, and QEMU
  // guests whose mounts come from it.
  static std::set<std::string> processes_of(const BackgroundRun& r) {
    std::set<std::string> out;
    const std::string dir = "/run/lmh/" + r.lab + "/", mount = "/lmh/" + r.lab + "/";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream c(e.path() / "cmdline"), m(e.path() / "mountinfo"), n(e.path() / "comm");
      std::stringstream cs, ms;
      cs << c.rdbuf();
      ms << m.rdbuf();
      std::string comm;
      std::getline(n, comm);
      if (cs.str().find(dir) != std::string::npos || ms.str().find(mount) != std::string::npos)
        out.insert(pid + " " + comm);
    }
    return out;
  }
  static nlohmann::json result_of(const BackgroundRun& r) {
    std::ifstream f(r.results + "/result.json");
    return f ? nlohmann::json::parse(f, nullptr, false) : nlohmann::json();
  }
  static bool any_with(const std::set<std::string>& s, const std::string& text) {
    for (const auto& x : s)
      if (x.find(text) != std::string::npos) return true;
    return false;
  }
  // Checks a finished run: exit 0, verdict pass, its result files all there.
  static void expect_passed(const BackgroundRun& r, int exit_code) {
    EXPECT_EQ(exit_code, 0) << r.id << ":\n" << stderr_of(r).substr(0, 4000);
    auto result = result_of(r);
    ASSERT_TRUE(result.is_object()) << r.id << ": no result.json";
    ASSERT_EQ(result["scenarios"].size(), 1u);
    EXPECT_EQ(result["scenarios"][0]["verdict"], "pass") << result["scenarios"][0]["verdict_reason"];
    EXPECT_TRUE(std::filesystem::exists(r.results + "/junit.xml"));
    for (const auto& p : result["scenarios"][0]["pcaps"])
      EXPECT_TRUE(std::filesystem::exists(r.results + "/" + p.get<std::string>())) << p;
  }
  // Watches 'rs' until each has begun its teardown or exited; returns
  // every namespace of one that went before that run's own teardown.
  std::vector<std::string> watch_until_exit(const std::vector<BackgroundRun>& rs) {
    std::vector<std::string> broken;
    std::vector<std::set<std::string>> seen(rs.size());
    std::vector<bool> done(rs.size(), false);
    while (std::find(done.begin(), done.end(), false) != done.end()) {
      for (size_t i = 0; i < rs.size(); ++i) {
        if (done[i]) continue;
        // Read the phase before the namespaces: a namespace missing while
        // the run had not begun its teardown was removed by someone else.
        const bool tearing_down = stderr_of(rs[i]).find("run " + rs[i].lab + ": phase teardown") != std::string::npos;
        const auto now = namespaces_of(rs[i]);
        if (!tearing_down)
          for (const auto& ns : seen[i])
            if (!now.count(ns)) broken.push_back(ns + " vanished while " + rs[i].id + " ran");
        seen[i].insert(now.begin(), now.end());
        if (tearing_down) done[i] = true;
        int status;
        if (::waitpid(rs[i].pid, &status, WNOHANG) == rs[i].pid) {
          done[i] = true;
          exit_codes_[rs[i].id] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
      }
      std::this_thread::sleep_for(10ms);
    }
    return broken;
  }
  int exit_code(const BackgroundRun& r) {
    if (auto it = exit_codes_.find(r.id); it != exit_codes_.end()) return it->second;
    return exit_codes_[r.id] = wait_exit(r);
  }

  std::vector<BackgroundRun> runs_;
  std::map<std::string, int> exit_codes_;
};

// Two runs at once (linuxbridge, and ML2/OVN with its daemons): the second
// starts, reaping stale runs, while the first is up; both finish with
// their verdicts, and no namespace of either goes before its own teardown.
TEST_F(Concurrency, TwoRunsAtOnceBothPassAndNeitherTouchesTheOther) {
  auto a = start("itcca", "lb-vlan-warm-destination.yaml", "8000");
  ASSERT_TRUE(wait_phase(a, "boot", 60s)) << stderr_of(a);
  auto b = start("itccb", "ovn-live.yaml", "3000");
  auto broken = watch_until_exit({a, b});
  EXPECT_EQ(broken, std::vector<std::string>{});
  expect_passed(a, exit_code(a));
  expect_passed(b, exit_code(b));
  // b's reaping at its start saw a alive and left it.
  EXPECT_EQ(stderr_of(b).find("reaped stale"), std::string::npos) << stderr_of(b).substr(0, 4000);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

// `lmh cleanup` while a run is up keeps it whole: its namespaces and every
// process (OVS and OVN daemons; libvirtd and QEMU on the real tier), and
// the run then finishes with its verdict.
class CleanupKeepsALiveRun : public Concurrency, public ::testing::WithParamInterface<const char*> {};

TEST_P(CleanupKeepsALiveRun, ItsNamespacesAndDaemonsSurviveAndItPasses) {
  const bool real = std::string(GetParam()).rfind("real-", 0) == 0;
  if (real) {
    auto image = harness::real_tier_guest_image();
    if (!image.ok()) GTEST_SKIP() << image.status().message();
  }
  auto r = start(real ? "itckr" : "itcko", GetParam(), "3000");
  // Everything is up once probing starts (guests booted, captures open).
  ASSERT_TRUE(wait_phase(r, "measure", 120s)) << stderr_of(r);
  const auto ns_before = namespaces_of(r);
  const auto procs_before = processes_of(r);
  ASSERT_FALSE(ns_before.empty());
  if (real) {
    EXPECT_TRUE(any_with(procs_before, "libvirtd")) << ::testing::PrintToString(procs_before);
    EXPECT_TRUE(any_with(procs_before, "qemu")) << ::testing::PrintToString(procs_before);
  } else {
    EXPECT_TRUE(any_with(procs_before, "ovn-controller")) << ::testing::PrintToString(procs_before);
    EXPECT_TRUE(any_with(procs_before, "ovn-northd")) << ::testing::PrintToString(procs_before);
    EXPECT_TRUE(any_with(procs_before, "ovs-vswitchd")) << ::testing::PrintToString(procs_before);
  }
  auto c = run_lmh_command({"cleanup"}, 60s);
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("kept run " + r.lab + " (owner pid " + std::to_string(r.pid) + " alive)"), std::string::npos)
      << c.out;
  EXPECT_EQ(c.out.find("removed"), std::string::npos) << c.out;
  EXPECT_EQ(namespaces_of(r), ns_before);
  // Every process it had is still there (the run may have started more).
  const auto procs_after = processes_of(r);
  for (const auto& p : procs_before) EXPECT_TRUE(procs_after.count(p)) << p << " is gone";
  expect_passed(r, exit_code(r));
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Backends, CleanupKeepsALiveRun,
                         ::testing::Values("ovn-live.yaml", "real-lb-vlan-warm-destination.yaml"),
                         [](const auto& info) {
                           return std::string(info.param).rfind("real-", 0) == 0 ? std::string("LibvirtTier")
                                                                                 : std::string("Ovn");
                         });

// A run SIGKILLed while another is up: `lmh cleanup` removes the dead one's
// namespaces, daemons and state, and nothing of the live one, which then
// finishes with its verdict.
TEST_F(Concurrency, CleanupAfterAKilledRunRemovesOnlyTheDeadOne) {
  auto live = start("itcdl", "ovs-vlan-live.yaml", "15000");
  ASSERT_TRUE(wait_phase(live, "measure", 60s)) << stderr_of(live);
  auto dead = start("itcdd", "ovn-live.yaml", "20000");
  ASSERT_TRUE(wait_phase(dead, "measure", 60s)) << stderr_of(dead);
  ASSERT_FALSE(processes_of(dead).empty());
  ::kill(-dead.pid, SIGKILL);
  EXPECT_EQ(exit_code(dead), 128 + SIGKILL);
  ASSERT_FALSE(namespaces_of(dead).empty()) << "a SIGKILLed run leaves its namespaces";
  const auto live_ns = namespaces_of(live);
  const auto live_procs = processes_of(live);
  ASSERT_FALSE(live_ns.empty());
  auto c = run_lmh_command({"cleanup"}, 60s);
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("removed namespace lmh-" + dead.lab + "-"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("removed dir /run/lmh/" + dead.lab + "\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("kept run " + live.lab + " "), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("lmh-" + live.lab + "-"), std::string::npos) << c.out;
  EXPECT_EQ(namespaces_of(dead), std::set<std::string>{});
  EXPECT_EQ(processes_of(dead), std::set<std::string>{});
  EXPECT_FALSE(std::filesystem::exists("/run/lmh/" + dead.lab));
  EXPECT_EQ(namespaces_of(live), live_ns);
  const auto procs_after = processes_of(live);
  for (const auto& p : live_procs) EXPECT_TRUE(procs_after.count(p)) << p << " is gone";
  expect_passed(live, exit_code(live));
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

// A lab's name is its run id and scenario number: "--run-id itcq1"'s first
// lab and "--run-id itcq"'s eleventh are both "itcq11". A run whose lab name
// is held by a live lmh (here a stand-in process owning the directory) ends
// in error naming the clash and touches nothing of the other's.
TEST_F(Concurrency, ARunWhoseLabNameALiveRunHoldsErrsAndLeavesItAlone) {
  const std::string dir = "/run/lmh/itcq11";
  pid_t holder = ::fork();
  if (holder == 0) {
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/owner.pid") << holder << "\n";
  auto r = run_lmh({scenario_path("lb-vlan-warm-destination.yaml")}, "itcq1");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  ASSERT_FALSE(r.result["scenarios"].empty()) << r.err;
  const std::string why = r.result["scenarios"][0]["verdict_reason"].get<std::string>();
  EXPECT_NE(why.find("lab itcq11 belongs to a running lmh (pid " + std::to_string(holder) + ")"), std::string::npos)
      << why;
  // The holder's directory stays as it was; the run made no namespace.
  std::ifstream f(dir + "/owner.pid");
  pid_t still = 0;
  f >> still;
  EXPECT_EQ(still, holder);
  EXPECT_TRUE(harness::list_named_netns("lmh-itcq11-").empty());
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  std::filesystem::remove_all(dir);
}

// --jobs: a matrix file's entries in labs side by side, each in its own lmh
// process, named and numbered as a sequential run names them; the figures
// are the sequential ones (the warm and the fixed cold destinations stay
// within QEMU-free switchover downtime, the as-shipped cold one fails), and
// --shard keeps its slice with the same numbers.
TEST_F(Concurrency, JobsRunsAMatrixSideBySideAndShardKeepsItsSlice) {
  const std::string dir = std::string(LMH_SOURCE_DIR) + "/scenarios/";
  const std::string matrix = ::testing::TempDir() + "jobs.matrix";
  std::ofstream(matrix) << "pass " << dir << "lb-vlan-warm-destination.yaml\n"
                        << "fail " << dir << "lb-vlan-cold-destination.yaml\n"
                        << "pass " << dir << "lb-vlan-cold-destination.yaml[pre_plug_vlan_uplink=true]\n";
  auto r = run_lmh({matrix, "--jobs", "3"}, "itjobs");
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("3 runs, 3 at a time"), std::string::npos) << r.err;
  const nlohmann::json& sc = r.result["scenarios"];
  ASSERT_EQ(sc.size(), 3u) << r.err;
  const std::vector<std::string> names = {"lb-vlan-warm-destination", "lb-vlan-cold-destination",
                                          "lb-vlan-cold-destination[pre_plug_vlan_uplink=true]"};
  const std::string results = ::testing::TempDir() + "lmh-results/itjobs/";
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(sc[k]["name"], names[k]);
    ASSERT_FALSE(sc[k]["pcaps"].empty());
    for (const auto& p : sc[k]["pcaps"]) {
      EXPECT_EQ(p.get<std::string>().rfind(std::to_string(k + 1) + "-", 0), 0u) << p;
      EXPECT_TRUE(std::filesystem::exists(results + p.get<std::string>())) << p;
    }
    EXPECT_EQ(sc[k]["verdict_reason"].get<std::string>().find("overloaded"), std::string::npos)
        << sc[k]["verdict_reason"];
  }
  EXPECT_EQ(sc[0]["verdict"], "pass");
  EXPECT_EQ(sc[1]["verdict"], "fail");
  EXPECT_EQ(sc[2]["verdict"], "pass");
  EXPECT_LT(sc[0]["metrics"]["downtime_ms"].get<double>(), 100.0);
  EXPECT_GT(sc[1]["metrics"]["downtime_ms"].get<double>(), 1000.0);
  EXPECT_LT(sc[2]["metrics"]["downtime_ms"].get<double>(), 100.0);
  EXPECT_FALSE(std::filesystem::exists(results + "part-1.json"));
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});

  auto shard = run_lmh({matrix, "--shard", "2/3", "--jobs", "2"}, "itshard");
  EXPECT_EQ(shard.exit_code, 0) << shard.err << shard.out;
  ASSERT_EQ(shard.result["scenarios"].size(), 1u);
  EXPECT_EQ(shard.result["scenarios"][0]["name"], names[1]);
  EXPECT_EQ(shard.result["scenarios"][0]["pcaps"][0].get<std::string>().rfind("2-", 0), 0u);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::testing
