#include "faults/fault_points.h"

#include <algorithm>

namespace lmh::faults {

const std::vector<FaultPoint>& known_fault_points() {
  static const std::vector<FaultPoint> points = {
      {"compute.pre_live_migration", "destination compute prepares: plugs VIFs, sets migrating_to"},
      {"agent.lb.enslave_uplink", "linuxbridge agent enslaves <phys>.<vlan> to the network bridge"},
      {"neutron.notify.vif_plugged", "nova notifier sends network-vif-plugged"},
      {"neutron.port_update.profile", "port update of binding:profile (migrating_to)"},
      {"libvirt.migrate", "hypervisor live migration job"},
      {"guest.announce", "the guest's self-announce after resume (RARP x5)"},
      {"fabric.port", "a fabric switch port"},
  };
  return points;
}

bool is_known_fault_point(const std::string& name) {
  const auto& p = known_fault_points();
  return std::any_of(p.begin(), p.end(), [&](const FaultPoint& f) { return f.name == name; });
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
