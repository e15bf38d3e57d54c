// The invariants of DESIGN.md, checked after a move, each by name:
// one_host (one host runs the instance and the database agrees),
// binding_host (the ACTIVE binding is on that host), no_leftover_vif (no
// tap of the instance elsewhere), migration_terminal, no_pending_wait,
// vif_wired (on its host the port is plugged where its binding says), and
// on a vxlan network tunnel_udp_port (the hosts with its active ports send
// VXLAN to the same UDP port: seed 000's linuxbridge 8472 and OVS 4789
// endpoints drop each other's frames).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/nova_services.h"

namespace lmh::core {

// Every name report() can give, in its order.
inline const std::vector<std::string>& invariant_names() {
  static const std::vector<std::string> names = {"one_host",           "binding_host",    "no_leftover_vif",
                                                 "migration_terminal", "no_pending_wait", "vif_wired",
                                                 "tunnel_udp_port"};
  return names;
}

struct InvariantResult {
  std::string name;
  bool ok = true;
  std::string detail;
};

class InvariantChecker {
 public:
  explicit InvariantChecker(NovaServices services) : s_(services) {}

  // 'expected_statuses' (when given): the final statuses the faults that
  // fired imply (implied_migration_statuses); migration_terminal also fails
  // when the record ended in another one.
  std::vector<InvariantResult> report(const std::string& instance_uuid, int migration_id,
                                      const std::set<MigrationStatus>& expected_statuses = {});
  // Why port 'port_id' is not wired on 'host' as its binding says (the
  // host's agent judges: L2Agent::wiring_problem), or "" when it is.
  std::string vif_wiring_problem(const std::string& port_id, const std::string& host);
  // "" when every host with an active port of vxlan network 'network_id'
  // (and 'host') uses one UDP port, else which host uses which.
  std::string tunnel_port_problem(const std::string& network_id, const std::string& host);

 private:
  NovaServices s_;
};

}  // namespace lmh::core
