// What a scenario's lab is: the scenario file's hosts, network, peer and
// guests as a Topology (plain data). The lab is built from the topology
// only; this is the one place that reads a Scenario to make one.
#pragma once

#include "harness/lab/topology.h"
#include "harness/run/scenario.h"

namespace lmh::harness {

// The topology of 'scenario': its hosts, its one network and peer, the
// guest under test on the migration source and, for a warm destination, a
// bystander VM on the destination (ids derived from the guest's, so its
// device names differ).
Topology topology_of(const Scenario& scenario);

}  // namespace lmh::harness
