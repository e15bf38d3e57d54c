#include "faults/fault_points.h"

#include <algorithm>
#include <utility>

namespace lmh::faults {

namespace {

// Compute RPC methods that can carry a fault, how lmh sends each (as nova's
// compute/rpcapi.py does, except rollback_live_migration_at_destination,
// which nova casts and lmh calls so the rollback is done when the status is
// set), and who calls whom. Only the point the flow reaches is listed.
struct RpcMethod {
  const char* name;
  const char* kind;  // "call" | "cast"
  const char* what;
};

const std::vector<RpcMethod>& rpc_methods() {
  static const std::vector<RpcMethod> methods = {
      {"pre_live_migration", "call", "source -> destination compute: prepare (plug VIFs, migrating_to)"},
      {"post_live_migration_at_destination", "call",
       "source -> destination compute: activate binding, update port host, finish"},
      {"rollback_live_migration_at_destination", "call",
       "source -> destination compute: undo what pre_live_migration made"},
      {"live_migration", "cast", "conductor -> source compute: start the live migration"},
      {"prep_resize", "cast", "conductor -> destination compute: claim resources for cold migrate/resize"},
      {"resize_instance", "cast", "destination -> source compute: power off, move the disk"},
      {"finish_resize", "cast", "source -> destination compute: bind ports, plug, spawn, power on"},
      {"confirm_resize", "cast", "api -> source compute: clean up the source after a resize"},
      {"revert_resize", "cast", "api -> destination compute: tear down the destination copy"},
      {"finish_revert_resize", "cast", "destination -> source compute: rebind, replug, power on at source"},
  };
  return methods;
}

std::vector<FaultPoint> build_registry() {
  std::vector<FaultPoint> points;
  // A call can be late, lost (the caller's MessagingTimeout after
  // rpc_response_timeout), refused, or reach a compute that dies (crash: the
  // service stops answering anything). A cast can also be doubled, except
  // the ones that start a move (a second copy would start a second move).
  for (const auto& m : rpc_methods()) {
    bool call = std::string(m.kind) == "call";
    std::vector<std::string> actions = {"delay", "drop", "fail", "crash"};
    if (!call && std::string(m.name) != "live_migration" && std::string(m.name) != "prep_resize")
      actions.push_back("duplicate");
    points.push_back({std::string("rpc.") + m.kind + "." + m.name,
                      std::string(call ? "rpc call (waits for the reply) " : "rpc cast (no reply) ") + m.name +
                          ": " + m.what,
                      actions});
  }
  const std::vector<FaultPoint> rest = {
      {"compute.pre_live_migration",
       "destination compute pre_live_migration: plugs VIFs, sets binding:profile migrating_to",
       {"delay", "fail", "crash"}},
      {"compute.post_live_migration",
       "source compute post_live_migration: unplugs source VIFs, hands over to the destination",
       {"delay", "fail"}},
      {"neutron.port_update.profile", "neutron port update of binding:profile (migrating_to)",
       {"delay", "drop", "fail"}},
      {"neutron.binding.activate", "neutron activates the destination port binding", {"fail"}},
      {"neutron.notify.vif_plugged",
       "neutron's nova notifier sends network-vif-plugged (fire-early: on the migrating_to update, "
       "before any agent wired the port, bug 1880389)",
       {"delay", "drop", "duplicate", "fail", "fire-early"}},
      {"agent.lb.scan", "linuxbridge agent polling loop scans taps (every polling_interval)",
       {"delay", "drop", "fail", "crash"}},
      {"agent.lb.enslave_uplink", "linuxbridge agent enslaves <phys>.<vlan> to the network bridge",
       {"delay", "drop", "fail"}},
      {"agent.ovs.port_up",
       "OVS agent sees a br-int port with external_ids:iface-id, tags it, reports it up",
       {"delay", "drop", "fail"}},
      {"hypervisor.migrate", "hypervisor live-migration job (memory copy to the destination)", {"delay", "fail"}},
      {"hypervisor.switchover", "guest paused on the source and resumed on the destination", {"delay", "fail"}},
      {"guest.announce", "the guest's self-announce after resume (RARP x5)", {"delay", "drop", "duplicate"}},
      {"fabric.port",
       "the destination host's fabric switch port at switchover (delay: down for MS; drop: down for good)",
       {"delay", "drop"}},
      {"ovs.vswitchd", "a host's ovs-vswitchd daemon (crash: killed at switchover)", {"crash"}},
  };
  points.insert(points.end(), rest.begin(), rest.end());
  return points;
}

// Optimal string alignment distance: Levenshtein plus adjacent swaps, so
// "scna" is one edit from "scan".
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

const std::vector<FaultPoint>& known_fault_points() {
  static const std::vector<FaultPoint> points = build_registry();
  return points;
}

const FaultPoint* find_fault_point(const std::string& name) {
  for (const auto& p : known_fault_points())
    if (p.name == name) return &p;
  return nullptr;
}

bool is_known_fault_point(const std::string& name) { return find_fault_point(name) != nullptr; }

std::optional<std::string> closest_fault_point(const std::string& name) {
  const FaultPoint* best = nullptr;
  size_t best_distance = 0;
  for (const auto& p : known_fault_points()) {
    size_t d = edit_distance(name, p.name);
    if (best == nullptr || d < best_distance) {
      best = &p;
      best_distance = d;
    }
  }
  if (best == nullptr || best_distance > std::max<size_t>(2, name.size() / 3)) return std::nullopt;
  return best->name;
}

void FaultCounters::reached(const std::string& point) {
  std::lock_guard lock(mu_);
  ++reached_[point];
}

void FaultCounters::injected(const std::string& point) {
  std::lock_guard lock(mu_);
  ++injected_[point];
}

int FaultCounters::reached_count(const std::string& point) const {
  std::lock_guard lock(mu_);
  auto it = reached_.find(point);
  return it == reached_.end() ? 0 : it->second;
}

int FaultCounters::injected_count(const std::string& point) const {
  std::lock_guard lock(mu_);
  auto it = injected_.find(point);
  return it == injected_.end() ? 0 : it->second;
}

}  // namespace lmh::faults
