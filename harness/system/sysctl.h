// /proc/sys/net is per namespace: writes happen with the thread inside it.
#pragma once

#include <string>

#include "common/status.h"

namespace lmh::harness {

// Writes 'value' to /proc/sys/'key' (key with '/' separators, e.g.
// "net/ipv4/neigh/eth0/retrans_time_ms") inside namespace 'netns_fd'.
Status write_sysctl(int netns_fd, const std::string& key, const std::string& value);
StatusOr<std::string> read_sysctl(int netns_fd, const std::string& key);

}  // namespace lmh::harness
