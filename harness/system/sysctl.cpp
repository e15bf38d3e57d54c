#include "harness/system/sysctl.h"

#include <fstream>
#include <sstream>

#include "common/netns.h"

namespace lmh::harness {

Status write_sysctl(int netns_fd, const std::string& key, const std::string& value) {
  ScopedNetns in(netns_fd);
  if (!in.ok()) return in.status();
  std::ofstream f("/proc/sys/" + key);
  if (!f) return environment_error("cannot open /proc/sys/" + key);
  f << value;
  f.flush();
  if (!f) return environment_error("cannot write " + value + " to /proc/sys/" + key);
  return ok_status();
}

StatusOr<std::string> read_sysctl(int netns_fd, const std::string& key) {
  ScopedNetns in(netns_fd);
  if (!in.ok()) return in.status();
  std::ifstream f("/proc/sys/" + key);
  if (!f) return environment_error("cannot open /proc/sys/" + key);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

}  // namespace lmh::harness
