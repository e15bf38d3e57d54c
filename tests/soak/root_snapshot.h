// What the root namespace and the machine look like to anyone but lmh: the
// kill-soak takes one before its first run and compares after each run's
// `lmh cleanup` (tests/soak/kill_soak_test.cpp).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace lmh::testing {

// Section name -> its text. Sections: "ip -d link", "ip addr", "ip route"
// (table all), "ip -6 route", "ip rule", "ip -6 rule", "nft", "iptables",
// "ip6tables", "sysctl" (every readable /proc/sys/net file but the
// kVolatileSysctls), "mountinfo" (pid 1's), "files" (every path under
// kWatchedRoots but the excluded ones, with its type).
struct RootSnapshot {
  std::map<std::string, std::string> sections;
};

// /proc/sys/net files that change by themselves, with why.
struct VolatileSysctl {
  const char* path;
  const char* why;
};
extern const std::vector<VolatileSysctl> kVolatileSysctls;

// Takes the snapshot. 'skip_paths' are left out of "files" with all they
// hold (lmh's state directory, the soak's own results).
RootSnapshot take_root_snapshot(const std::vector<std::string>& skip_paths);

// How 'after' differs from 'before', one line per difference ("sysctl: +
// /proc/sys/net/...=1"); empty when equal byte for byte.
std::vector<std::string> snapshot_diff(const RootSnapshot& before, const RootSnapshot& after);

}  // namespace lmh::testing
