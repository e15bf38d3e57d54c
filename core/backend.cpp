#include "core/backend.h"

namespace lmh::core {

const char* to_string(Backend backend) {
  switch (backend) {
    case Backend::kLinuxBridge: return "linuxbridge";
    case Backend::kOpenVswitch: return "openvswitch";
    case Backend::kOvn: return "ovn";
  }
  return "?";
}

const std::vector<Backend>& all_backends() {
  static const std::vector<Backend> all = {Backend::kLinuxBridge, Backend::kOpenVswitch, Backend::kOvn};
  return all;
}

StatusOr<Backend> parse_backend(std::string_view name) {
  std::string names;
  for (Backend b : all_backends()) {
    if (name == to_string(b)) return b;
    names += (names.empty() ? "" : ", ") + std::string(to_string(b));
  }
  return invalid_argument("must be one of: " + names + ", got '" + std::string(name) + "'");
}

}  // namespace lmh::core
