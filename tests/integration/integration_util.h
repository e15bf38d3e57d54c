// Helpers for the integration tier: root check, running the lmh binary,
// reading its result.json, and looking for leftovers of any lmh run.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "capture/prober.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"

namespace lmh::testing {

#define LMH_REQUIRE_ROOT()                                                   \
  do {                                                                       \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)"; \
  } while (0)

inline std::string scenario_path(const std::string& name) {
  return std::string(LMH_SOURCE_DIR) + "/scenarios/" + name;
}

struct LmhRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  nlohmann::json result;  // result.json of the run, when written
};

// Runs the lmh binary with 'args' (a subcommand and its arguments).
inline LmhRun run_lmh_command(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv = {LMH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  LmhRun r;
  auto c = harness::run_command(argv, timeout);
  if (!c.ok()) {
    r.err = c.status().to_string();
    return r;
  }
  r.exit_code = c->exit_code;
  r.out = c->out;
  r.err = c->err;
  return r;
}

// Runs `lmh run ARGS --results DIR --run-id ID` and loads its result.json.
inline LmhRun run_lmh(std::vector<std::string> args, const std::string& run_id) {
  std::string dir = ::testing::TempDir() + "lmh-results";
  args.insert(args.begin(), "run");
  args.insert(args.end(), {"--results", dir, "--run-id", run_id});
  LmhRun r = run_lmh_command(args, std::chrono::seconds(240));
  std::ifstream f(dir + "/" + run_id + "/result.json");
  if (f) r.result = nlohmann::json::parse(f, nullptr, false);
  return r;
}

// The root namespace's links when the test program started: lmh must never
// add (or leave) one there.
inline const std::vector<std::string>& root_links_at_start() {
  static const std::vector<std::string> links = [] {
    auto nl = harness::Netlink::open(-1);
    return nl.ok() ? (*nl)->list().value() : std::vector<std::string>{};
  }();
  return links;
}
// Taken before main() so no test can have run yet.
[[maybe_unused]] static const bool kRootLinksTaken = (root_links_at_start(), true);

// Shared by the Open vSwitch tests.
// Processes whose command line names 'dir' (our daemons do: --log-file=…).
inline std::vector<std::string> processes_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string cmd = ss.str();
    // A zombie's cmdline is empty; only live processes count.
    if (cmd.find(dir) != std::string::npos) out.push_back(pid + " " + cmd.substr(0, cmd.find('\0')));
  }
  return out;
}

// ovs-vsctl against 'db_socket', read-only: an independent view of the
// database the IDL wrote.
inline std::string vsctl(const std::string& db_socket, std::vector<std::string> args) {
  std::vector<std::string> argv = {"ovs-vsctl", "--db=unix:" + db_socket, "--timeout=5", "--no-wait"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out = harness::run_checked(argv, std::chrono::seconds(10));
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  std::string s = out.ok() ? *out : "";
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Replies to ICMP echo from namespace 'netns_fd' to 'ip' within 'window'.
inline int echo_replies(int netns_fd, const std::string& ip, std::chrono::milliseconds window) {
  capture::ProbeConfig config{netns_fd, ip, Micros(20000), Millis(300), 0};
  auto prober = capture::Prober::start(config);
  EXPECT_TRUE(prober.ok()) << prober.status().to_string();
  if (!prober.ok()) return 0;
  std::this_thread::sleep_for(window);
  (*prober)->stop();
  int replies = 0;
  for (const auto& r : (*prober)->records()) replies += r.replied.has_value();
  return replies;
}

// Time (ms) of the first timeline event of a result.json scenario from
// 'source' starting with 'prefix'; -1 when there is none.
inline double t_of(const nlohmann::json& scenario, const std::string& source, const std::string& prefix) {
  for (const auto& e : scenario["timeline"])
    if (e["source"] == source && e["event"].get<std::string>().rfind(prefix, 0) == 0) return e["t_ms"];
  return -1;
}
// The same for the last such event.
inline double last_t_of(const nlohmann::json& scenario, const std::string& source, const std::string& prefix) {
  double t = -1;
  for (const auto& e : scenario["timeline"])
    if (e["source"] == source && e["event"].get<std::string>().rfind(prefix, 0) == 0) t = e["t_ms"];
  return t;
}

// The time of the first typed event of 'kind' on 'host' ("guest_resumed",
// "dst"), or -1: tests find guest and hypervisor events by kind, not text.
inline double t_of_kind(const nlohmann::json& scenario, const std::string& kind, const std::string& host) {
  for (const auto& e : scenario["timeline"])
    if (e.value("kind", "") == kind && e.value("host", "") == host) return e["t_ms"];
  return -1;
}
// The same for the last such event.
inline double last_t_of_kind(const nlohmann::json& scenario, const std::string& kind, const std::string& host) {
  double t = -1;
  for (const auto& e : scenario["timeline"])
    if (e.value("kind", "") == kind && e.value("host", "") == host) t = e["t_ms"];
  return t;
}

// Does 'ip' answer an ICMP echo sent from namespace 'netns_fd' within
// 'timeout'? Asked by lmh's own prober (every 20 ms) as the runs ask it;
// the first probes may be spent on ARP and MAC learning.
inline bool reachable(int netns_fd, const std::string& ip,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  capture::ProbeConfig config{netns_fd, ip, Micros(20000), Millis(300), 0};
  auto prober = capture::Prober::start(config);
  EXPECT_TRUE(prober.ok()) << prober.status().to_string();
  if (!prober.ok()) return false;
  bool replied = harness::wait_until(
      [&] {
        for (const auto& r : (*prober)->records())
          if (r.replied) return true;
        return false;
      },
      timeout, std::chrono::milliseconds(20));
  (*prober)->stop();
  return replied;
}

// Every trace an lmh run leaves on the machine: namespaces, state dirs,
// Open vSwitch daemons started for a lab, links added to the root namespace.
inline std::vector<std::string> lmh_leftovers() {
  std::vector<std::string> out;
  if (auto nl = harness::Netlink::open(-1); nl.ok()) {
    const auto& before = root_links_at_start();
    auto now = (*nl)->list();
    for (const auto& l : now.ok() ? *now : std::vector<std::string>{})
      if (std::find(before.begin(), before.end(), l) == before.end()) out.push_back("root-namespace link " + l);
  }
  for (const auto& ns : harness::list_named_netns("lmh-")) out.push_back("namespace " + ns);
  std::error_code ec;
  if (std::filesystem::exists("/run/lmh", ec))
    for (const auto& d : std::filesystem::directory_iterator("/run/lmh", ec)) out.push_back("dir " + d.path().string());
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    std::stringstream ss;
    ss << f.rdbuf();
    // QEMU's command line never names the run (libvirt passes it file
    // descriptors), but it lives in its libvirtd's mount namespace, whose
    // bind mounts come from the run's state dir on /run ("/lmh/<run>/...").
    std::ifstream m(e.path() / "mountinfo");
    std::stringstream ms;
    ms << m.rdbuf();
    const std::string mounts = ms.str();
    if (ss.str().find("/run/lmh/") != std::string::npos || mounts.find(" /run/lmh/") != std::string::npos ||
        mounts.find(" /lmh/") != std::string::npos)
      out.push_back("process " + pid);
  }
  return out;
}

}  // namespace lmh::testing
