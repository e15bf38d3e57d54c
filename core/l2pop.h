// neutron's l2population mechanism driver: which host learns where a port
// lives on a tunnel network, and when. Modelled on neutron's
// plugins/ml2/drivers/l2pop (mech_driver.py, rpc.py, db.py, stable 2023.1):
//
//  - A port reported up on its bound host (update_device_up) goes ACTIVE and
//    update_port_up runs: when it is the host's first (or second, bug
//    1789846) active port on the network, that host alone gets the
//    network's full forwarding table (every active port elsewhere, with a
//    flooding entry per remote endpoint), and every agent gets a fanout
//    add of {this host's tunnel IP: [flooding entry if first] + the port}.
//  - A port reported down on its bound host goes DOWN: a fanout remove of
//    {host IP: [flooding entry if no active port is left] + the port}.
//  - A port reported down by a host it is no longer bound to (the source
//    of a live migration after the binding moved) sends the same remove
//    only when an L3 plugin is loaded (update_port_down's guard).
//  - Activating a binding sends nothing: the destination's add comes only
//    when its agent reports the port up, the source's remove when its agent
//    reports it down, two independent casts in no set order.
//  - The active-port count joins port bindings without their status, so an
//    INACTIVE binding counts for its host (a stale flooding entry can stay).
// Each message is a cast, delayed or lost at the fault points l2pop.fdb_add
// and l2pop.fdb_remove.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "faults/fault_points.h"

namespace lmh::core {

// One entry: a port's MAC and IP, or the flooding entry.
struct FdbPortInfo {
  std::string mac;
  std::string ip;
  bool is_flooding() const { return mac == "00:00:00:00:00:00"; }
  bool operator==(const FdbPortInfo&) const = default;
};
inline const FdbPortInfo kFloodingEntry{"00:00:00:00:00:00", "0.0.0.0"};

// The entries of one network, by the tunnel endpoint (agent tunneling_ip)
// they live behind.
struct NetworkFdb {
  std::string network_id;
  std::string network_type;  // "vxlan"
  int segment_id = 0;        // the VNI
  std::map<std::string, std::vector<FdbPortInfo>> ports;
};

enum class FdbOperation { kAdd, kRemove };

// The casts to one agent: delay (the update arrives late) or drop (lost).
extern const faults::FaultPointDescriptor kL2popFdbAdd;
extern const faults::FaultPointDescriptor kL2popFdbRemove;

// "add_fdb_entries"/"remove_fdb_entries" as the timeline shows them.
const char* fdb_operation_name(FdbOperation op);
// "<ip>: flood, fa:16:3e:..:01 198.18.0.10; <ip>: ..." for the timeline.
std::string describe_fdb(const NetworkFdb& fdb);

}  // namespace lmh::core
