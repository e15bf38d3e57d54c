// The L2 backends a compute host can run, named once: the scenario files'
// `backend:` values, the agent type a host's L2 agent reports to neutron's
// server, and the key of the backend registry (core/l2_backend.h) are these
// names. Adding a backend adds a value here and a row in backend.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lmh::core {

enum class Backend {
  kLinuxBridge,  // "linuxbridge": neutron's linuxbridge agent, Linux bridges brq...
  kOpenVswitch,  // "openvswitch": neutron's openvswitch agent, br-int
  kOvn,          // "ovn": ML2/OVN, ovn-controller on br-int (no neutron L2 agent)
};

// The name of 'backend' ("linuxbridge", "openvswitch", "ovn").
const char* to_string(Backend backend);
// Every backend, in declaration order.
const std::vector<Backend>& all_backends();
// The backend named 'name'; kInvalidArgument "must be one of: linuxbridge,
// openvswitch, ovn, got '<name>'" for any other name.
StatusOr<Backend> parse_backend(std::string_view name);

}  // namespace lmh::core
