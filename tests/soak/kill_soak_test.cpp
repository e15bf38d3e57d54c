// The kill-soak: `lmh run` killed with SIGKILL (its whole process group) at a
// random moment of a random phase, on both tiers, each time followed by
// `lmh cleanup`; afterwards nothing of lmh may remain and the root
// namespace must be byte for byte what it was before the first run.
//
// Environment: SOAK_RUNS (default 50), SOAK_SEED (replays a soak; printed
// at start), SOAK_TIERS ("emulated,libvirt" by default), SOAK_LOCK (a lock
// file taken around each run and released between runs, for a machine
// whose other users serialise their lab runs on it).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>

#include "../integration/integration_util.h"
#include "harness/lab/libvirt_hypervisor.h"
#include "root_snapshot.h"

namespace lmh::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A run's phases in order, as lmh --verbose names their starts on stderr
// (harness/run/runner.cpp). 'observe' (the probing after the move) and
// 'exit' (results written after teardown) are not aimed at, but a kill can
// land in them.
enum Phase { kSetup, kBoot, kPrecopy, kSwitchover, kObserve, kAnalysis, kTeardown, kExit, kPhases };
constexpr std::array<const char*, kPhases> kPhaseNames = {"set-up",  "boot",     "pre-copy", "switchover",
                                                          "observe", "analysis", "teardown", "exit"};
constexpr std::array<Phase, 6> kAimed = {kSetup, kBoot, kPrecopy, kSwitchover, kAnalysis, kTeardown};

// The stderr line that starts 'p' for lab 'lab' ("run <lab>: ..."). Set-up
// starts with the process.
std::string marker(Phase p, const std::string& lab) {
  const std::string r = "run " + lab + ": ";
  switch (p) {
    case kBoot: return r + "phase boot";            // the lab is built
    case kPrecopy: return r + "event begin on";     // migration requested, Begin on the source
    case kSwitchover: return r + "event guest_paused on";
    case kObserve: return r + "event confirm on";   // the source domain is gone
    case kAnalysis: return r + "phase analyse";
    case kTeardown: return r + "phase teardown";
    case kExit: return r + "phase done";
    default: return "";
  }
}

struct SoakScenario {
  std::string file;
  bool real = false;  // the libvirt tier
};

// When each phase started, ms after the process did (-1: not reached).
using PhaseTimes = std::array<double, kPhases>;

struct RunOutcome {
  Phase phase = kSetup;   // where the kill landed
  bool killed = false;    // false: lmh exited first
  int exit_code = -1;     // when it exited by itself
  PhaseTimes times{};
  std::string cleanup_out;
  int cleanup_rc = -1;
  std::vector<std::string> leaks;
  double ms = 0;          // the run, cleanup and the comparison
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

class KillSoak : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    dir_ = ::testing::TempDir() + "lmh-soak";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    lock_path_ = env_or("SOAK_LOCK", "");
  }

  // SOAK_LOCK: held for one run (and the snapshots around it).
  void lock() {
    if (lock_path_.empty()) return;
    lock_fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ >= 0) ::flock(lock_fd_, LOCK_EX);
  }
  void unlock() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
  }

  std::vector<std::string> skip_paths() const { return {"/run/lmh", dir_}; }

  // Starts `lmh -v run` on 's' as run 'id' in its own process group, its
  // stderr into a pipe; returns the pid and the pipe's read end.
  std::pair<pid_t, int> start(const SoakScenario& s, const std::string& id) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {-1, -1};
    const std::string file = scenario_path(s.file), results = dir_ + "/results";
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(fds[1], 2);
      ::execl(LMH_BINARY, LMH_BINARY, "-v", "run", file.c_str(), "--results", results.c_str(), "--run-id",
              id.c_str(), "--set", "probe.observe_ms=1000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);  // no race with the kill below
    ::close(fds[1]);
    return {pid, fds[0]};
  }

  // One run of 's' as 'id'. With 'aim', the run is killed 'fraction' of the
  // expected length of that phase after it starts ('expected': ms per
  // phase); without, it runs to its end. Then `lmh cleanup` and the
  // comparison with the baseline.
  RunOutcome run(const SoakScenario& s, const std::string& id, std::optional<Phase> aim, double fraction,
                 const PhaseTimes& expected) {
    RunOutcome o;
    o.times.fill(-1);
    lock();
    const auto t0 = Clock::now();
    const std::string lab = id + "1";
    auto [pid, fd] = start(s, id);
    if (pid < 0) {
      o.leaks.push_back("could not start lmh");
      unlock();
      return o;
    }
    std::ofstream log(dir_ + "/" + id + ".stderr");
    std::string pending;
    int phase = kSetup;
    o.times[kSetup] = 0;
    std::optional<Clock::time_point> deadline;
    auto aim_reached = [&] {
      if (aim && !deadline && phase >= *aim)
        deadline = Clock::now() + std::chrono::microseconds(static_cast<long>(fraction * expected[*aim] * 1000));
    };
    // Reads what is in the pipe; false at end of file.
    auto read_some = [&](int timeout_ms) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return true;
      char buf[8192];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      log.write(buf, n);
      pending.append(buf, n);
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
        const std::string line = pending.substr(0, nl);
        for (int p = kBoot; p < kPhases; ++p)
          if (p > phase && line.find(marker(static_cast<Phase>(p), lab)) != std::string::npos) {
            phase = p;
            o.times[p] = ms_between(t0, Clock::now());
          }
      }
      return true;
    };
    int status = 0;
    bool exited = false, eof = false;
    aim_reached();
    const auto bound = t0 + 300s;  // a hung run is a failure of its own
    while (!exited && Clock::now() < bound) {
      if (deadline && Clock::now() >= *deadline) break;
      int wait_ms = 20;
      if (deadline)
        wait_ms = std::clamp<int>(std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count(), 0, 20);
      if (!eof) eof = !read_some(wait_ms);
      else std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      aim_reached();
      if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    }
    if (!exited) {
      ::kill(-pid, SIGKILL);
      o.killed = aim.has_value();
      ::waitpid(pid, &status, 0);
      if (!aim) o.leaks.push_back("run did not end within 300 s");
    }
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // What lmh wrote before it died is still in the pipe: its markers
    // tell where the kill landed. Daemons may hold the pipe open a moment.
    for (auto end = Clock::now() + 2s; !eof && Clock::now() < end;) eof = !read_some(100);
    ::close(fd);
    o.phase = static_cast<Phase>(phase);
    auto c = run_lmh_command({"cleanup"}, 120s);
    o.cleanup_rc = c.exit_code;
    o.cleanup_out = c.out + c.err;
    for (auto& l : lmh_leftovers()) o.leaks.push_back(l);
    for (auto& d : snapshot_diff(baseline_, take_root_snapshot(skip_paths()))) o.leaks.push_back(d);
    if (o.cleanup_rc != 0) o.leaks.push_back("lmh cleanup exited " + std::to_string(o.cleanup_rc) + ": " + o.cleanup_out);
    o.ms = ms_between(t0, Clock::now());
    unlock();
    return o;
  }

  std::string dir_;
  std::string lock_path_;
  int lock_fd_ = -1;
  RootSnapshot baseline_;
};

TEST_F(KillSoak, SigkillAtRandomMomentsThenCleanupLeavesNothing) {
  const int runs = std::stoi(env_or("SOAK_RUNS", "50"));
  const uint64_t seed = std::stoull(env_or("SOAK_SEED", std::to_string(std::random_device{}())));
  const std::string tiers = env_or("SOAK_TIERS", "emulated,libvirt");
  std::printf("kill-soak: %d runs, seed %llu (SOAK_SEED=%llu replays it), tiers %s\n", runs,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), tiers.c_str());
  std::mt19937_64 rng(seed);

  std::vector<SoakScenario> emulated, real;
  if (tiers.find("emulated") != std::string::npos)
    for (const char* f : {"lb-vlan-warm-destination.yaml", "lb-vlan-cold-destination.yaml", "ovs-vlan-live.yaml",
                          "ovs-hybrid-vlan-live.yaml", "ovn-live.yaml", "lb-vxlan-live.yaml"})
      emulated.push_back({f, false});
  if (tiers.find("libvirt") != std::string::npos) {
    if (auto image = harness::real_tier_guest_image(); image.ok()) {
      for (const char* f : {"real-lb-vlan-warm-destination.yaml", "real-lb-vlan-cold-destination.yaml"})
        real.push_back({f, true});
    } else {
      std::printf("kill-soak: no libvirt tier (%s)\n", image.status().message().c_str());
    }
  }
  ASSERT_FALSE(emulated.empty() && real.empty()) << "SOAK_TIERS names no tier that can run here";

  lock();
  ASSERT_EQ(lmh_leftovers(), std::vector<std::string>{}) << "the machine holds an earlier run's objects";
  // Twice: the first snapshot may itself load a module (nft, iptables)
  // whose sysctls the second then shows.
  (void)take_root_snapshot(skip_paths());
  baseline_ = take_root_snapshot(skip_paths());
  unlock();
  std::printf("kill-soak: baseline: %zu sysctls, %zu mounts, %zu files\n",
              static_cast<size_t>(std::count(baseline_.sections["sysctl"].begin(), baseline_.sections["sysctl"].end(), '\n')),
              static_cast<size_t>(std::count(baseline_.sections["mountinfo"].begin(), baseline_.sections["mountinfo"].end(), '\n')),
              static_cast<size_t>(std::count(baseline_.sections["files"].begin(), baseline_.sections["files"].end(), '\n')));
  for (const auto& v : kVolatileSysctls) std::printf("kill-soak: not compared: %s (%s)\n", v.path, v.why);

  // Each scenario once to its end: how long its phases last here, and a
  // finished run must leave nothing either.
  const auto soak_start = Clock::now();
  std::map<std::string, PhaseTimes> expected;
  int calibration = 0, total_leaks = 0;
  for (const auto* list : {&emulated, &real})
    for (const auto& s : *list) {
      PhaseTimes none{};
      auto o = run(s, "skc" + std::to_string(calibration++), std::nullopt, 0, none);
      PhaseTimes d{};
      for (int p = 0; p < kPhases; ++p) {
        int next = p + 1;
        while (next < kPhases && o.times[next] < 0) ++next;
        d[p] = (o.times[p] >= 0 && next < kPhases) ? o.times[next] - o.times[p] : 500;
      }
      expected[s.file] = d;
      std::printf("kill-soak: %-36s full run exit %d in %.1f s; phases (ms):", s.file.c_str(), o.exit_code, o.ms / 1000);
      for (int p = 0; p < kTeardown + 1; ++p) std::printf(" %s %.0f", kPhaseNames[p], d[p]);
      std::printf("\n");
      EXPECT_TRUE(o.exit_code == 0 || o.exit_code == 1) << s.file << " exited " << o.exit_code;
      EXPECT_EQ(o.leaks, std::vector<std::string>{}) << s.file << " (full run)";
      total_leaks += static_cast<int>(o.leaks.size());
    }
  const double calibration_s = ms_between(soak_start, Clock::now()) / 1000;

  // The kills: the (tier, aimed phase) cells in a seeded order, a seeded
  // scenario of that tier and moment within the phase.
  std::vector<std::pair<bool, Phase>> cells;
  for (bool r : {false, true})
    if (!(r ? real : emulated).empty())
      for (Phase p : kAimed) cells.push_back({r, p});
  std::vector<std::pair<bool, Phase>> order;
  struct Cell {
    int runs = 0, leaks = 0, exited = 0;
    double ms = 0;
  };
  std::map<std::pair<bool, int>, Cell> table;  // (real, landed phase)
  std::map<std::pair<bool, int>, int> aimed;
  const auto kills_start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    if (order.empty()) {
      order = cells;
      std::shuffle(order.begin(), order.end(), rng);
    }
    auto [is_real, aim] = order.back();
    order.pop_back();
    const auto& list = is_real ? real : emulated;
    const SoakScenario& s = list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng)];
    const double fraction = std::uniform_real_distribution<double>(0, 1)(rng);
    const std::string id = "sk" + std::to_string(i);
    auto o = run(s, id, aim, fraction, expected[s.file]);
    ++aimed[{is_real, aim}];
    Cell& c = table[{is_real, o.killed ? o.phase : kPhases}];
    ++c.runs;
    c.ms += o.ms;
    c.leaks += static_cast<int>(o.leaks.size());
    total_leaks += static_cast<int>(o.leaks.size());
    std::printf("kill-soak: run %2d %-36s aimed %-10s at %.2f: %s %-10s %5.1f s, %zu leaks\n", i, s.file.c_str(),
                kPhaseNames[aim], fraction, o.killed ? "killed in" : "exited in", kPhaseNames[o.phase], o.ms / 1000,
                o.leaks.size());
    std::fflush(stdout);
    EXPECT_EQ(o.leaks, std::vector<std::string>{}) << "run " << i << " (" << id << ", " << s.file << ", killed in "
                                                    << kPhaseNames[o.phase] << "); cleanup said:\n" << o.cleanup_out;
    if (!o.leaks.empty()) {
      // Whatever leaked must not count against the next runs.
      (void)run_lmh_command({"cleanup", "--all"}, 120s);
      baseline_ = take_root_snapshot(skip_paths());
    }
  }
  const double kills_s = ms_between(kills_start, Clock::now()) / 1000;

  std::printf("\nkill-soak: seed %llu, %d kill runs (+%d full runs, %.0f s)\n", static_cast<unsigned long long>(seed),
              runs, calibration, calibration_s);
  std::printf("%-22s %-20s %-20s\n", "KILLED IN", "EMULATED runs/leaks", "LIBVIRT runs/leaks");
  for (int p = 0; p <= kPhases; ++p) {
    const Cell e = table[{false, p}], r = table[{true, p}];
    if (e.runs + r.runs == 0) continue;
    const std::string name = p == kPhases ? "(exited before kill)" : kPhaseNames[p];
    std::printf("%-22s %-20s %-20s\n", name.c_str(), (std::to_string(e.runs) + "/" + std::to_string(e.leaks)).c_str(),
                (std::to_string(r.runs) + "/" + std::to_string(r.leaks)).c_str());
  }
  double e_ms = 0, r_ms = 0;
  int e_n = 0, r_n = 0;
  for (const auto& [k, c] : table) (k.first ? r_ms : e_ms) += c.ms, (k.first ? r_n : e_n) += c.runs;
  std::printf("%-22s %-20s %-20s\n", "mean s per run (incl. cleanup, check)",
              e_n ? std::to_string(e_ms / e_n / 1000).substr(0, 5).c_str() : "-",
              r_n ? std::to_string(r_ms / r_n / 1000).substr(0, 5).c_str() : "-");
  std::printf("aimed:");
  for (const auto& [k, n] : aimed) std::printf(" %s/%s %d", k.first ? "libvirt" : "emulated", kPhaseNames[k.second], n);
  std::printf("\nleaks: %d; kill runs %.0f s (%.1f s per run), total %.0f s\n", total_leaks, kills_s,
              runs ? kills_s / runs : 0.0, ms_between(soak_start, Clock::now()) / 1000);
  EXPECT_EQ(total_leaks, 0);
}

}  // namespace
}  // namespace lmh::testing
