#include "core/l2pop.h"

namespace lmh::core {

const faults::FaultPointDescriptor kL2popFdbAdd = faults::define_fault_point({
    .name = "l2pop.fdb_add",
    .description = "neutron l2population casts add_fdb_entries to one agent (a port's new location)",
    .actions = {faults::ActionKind::kDelay, faults::ActionKind::kDrop},
    .phase = faults::MigrationPhase::kAgent,
    .needs_network_type = "vxlan",
});
const faults::FaultPointDescriptor kL2popFdbRemove = faults::define_fault_point({
    .name = "l2pop.fdb_remove",
    .description = "neutron l2population casts remove_fdb_entries to one agent (a port left a host)",
    .actions = {faults::ActionKind::kDelay, faults::ActionKind::kDrop},
    .phase = faults::MigrationPhase::kAgent,
    .needs_network_type = "vxlan",
});

const char* fdb_operation_name(FdbOperation op) {
  return op == FdbOperation::kAdd ? "add_fdb_entries" : "remove_fdb_entries";
}

std::string describe_fdb(const NetworkFdb& fdb) {
  std::string out;
  for (const auto& [ip, entries] : fdb.ports) {
    if (!out.empty()) out += "; ";
    out += ip + ":";
    std::string list;
    for (const auto& e : entries) list += (list.empty() ? " " : ", ") + (e.is_flooding() ? "flood" : e.mac + " " + e.ip);
    out += list;
  }
  return out;
}

}  // namespace lmh::core
