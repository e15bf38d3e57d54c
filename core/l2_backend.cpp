#include "core/l2_backend.h"

#include <deque>
#include <mutex>

#include "core/lb_agent.h"
#include "core/ovn_driver.h"
#include "core/ovs_agent.h"

namespace lmh::core {

namespace {

struct Registry {
  std::mutex mu;
  // Few, in registration order; a deque keeps the pointers handed out valid.
  std::deque<L2BackendClass> classes;
};

Status add_locked(Registry& r, const L2BackendClass& cls) {
  for (const auto& c : r.classes)
    if (c.backend == cls.backend)
      return {StatusCode::kAlreadyExists, std::string("L2 backend '") + to_string(cls.backend) + "' is registered already"};
  r.classes.push_back(cls);
  return ok_status();
}

// The registry with the built-in backends in it (netdev_initialize's job).
// They are registered here, not from their own files' static initialisers,
// which the linker drops from a static library when nothing else refers
// to those files.
Registry& registry() {
  static Registry r;
  static std::once_flag builtins;
  std::call_once(builtins, [] {
    std::lock_guard lock(r.mu);
    (void)add_locked(r, linuxbridge_backend());
    (void)add_locked(r, openvswitch_backend());
    (void)add_locked(r, ovn_backend());
  });
  return r;
}

std::string names_locked(const Registry& r) {
  std::string names;
  for (const auto& c : r.classes) names += (names.empty() ? "" : ", ") + std::string(to_string(c.backend));
  return names;
}

}  // namespace

Status register_l2_backend(const L2BackendClass& cls) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return add_locked(r, cls);
}

StatusOr<const L2BackendClass*> find_l2_backend(Backend backend) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (const auto& c : r.classes)
    if (c.backend == backend) return &c;
  return not_found(std::string("no L2 backend '") + to_string(backend) + "' is registered (registered: " +
                   names_locked(r) + ")");
}

StatusOr<const L2BackendClass*> find_l2_backend(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (const auto& c : r.classes)
    if (name == to_string(c.backend)) return &c;
  return not_found("unknown L2 backend '" + std::string(name) + "' (registered: " + names_locked(r) + ")");
}

std::vector<std::string> registered_l2_backends() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& c : r.classes) names.emplace_back(to_string(c.backend));
  return names;
}

void report_vxlan(AgentConfig& agent, const VxlanConfig& vxlan, int default_port) {
  if (!vxlan.enable_vxlan) return;
  agent.tunnel_types = {"vxlan"};
  agent.tunneling_ip = vxlan.local_ip;
  agent.l2_population = vxlan.l2_population;
  agent.vxlan_udp_port = vxlan.udp_dstport ? vxlan.udp_dstport : default_port;
}

}  // namespace lmh::core
