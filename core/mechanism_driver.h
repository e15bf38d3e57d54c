// ML2 mechanism drivers, as neutron's server decides a port binding for a
// host: the agent on that host (its type and the configuration it reports)
// and the network's segment give vif_type and vif_details, or the binding
// fails (binding:vif_type=binding_failed) when the agent cannot reach the
// segment. Modelled on neutron's SimpleAgentMechanismDriverBase
// (check_segment_for_agent) with the linuxbridge and openvswitch drivers.
#pragma once

#include "common/status.h"
#include "core/agent_config.h"
#include "core/neutron.h"

namespace lmh::core {

// Binds a port of 'net' for the agent 'agent' (host = agent.host, status
// INACTIVE: the caller decides which binding is active) with the driver of
// the L2 backend named by its agent type (core/l2_backend.h):
//   linuxbridge: vif_type "bridge", vif_details {bridge_name brq<net[:11]>,
//                physical_network (flat/vlan), port_filter "true"}
//   openvswitch: vif_type "ovs", vif_details {bridge_name = integration
//                bridge, ovs_hybrid_plug "true" iff the firewall driver is
//                iptables_hybrid, port_filter "true", datapath_type}
// Returns kFailedPrecondition "binding_failed: <reason>" when the network
// type is not allowed for the agent, a flat/vlan physnet has no mapping on
// it, or no driver handles its agent type.
StatusOr<PortBinding> bind_port(const AgentConfig& agent, const Network& net);

// The drivers, as their backends register them.
StatusOr<PortBinding> bind_port_linuxbridge(const AgentConfig& agent, const Network& net);
StatusOr<PortBinding> bind_port_openvswitch(const AgentConfig& agent, const Network& net);
// ovn: vif_type "ovs" on br-int (port_filter, connectivity l2, no hybrid
// plug); geneve needs the chassis' encap, flat/vlan its bridge mapping.
StatusOr<PortBinding> bind_port_ovn(const AgentConfig& agent, const Network& net);

}  // namespace lmh::core
