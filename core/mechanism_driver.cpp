#include "core/mechanism_driver.h"

#include "core/l2_backend.h"
#include "core/names.h"

namespace lmh::core {

namespace {

Status binding_failed(const AgentConfig& agent, const Network& net, const std::string& why) {
  return failed_precondition("binding_failed: network " + net.id + " on host " + agent.host +
                             " (" + agent.agent_type + " agent): " + why);
}

// check_segment_for_agent: the segment's type must be one the agent serves
// (its tunnel types, plus local, flat, vlan), and a flat or vlan segment's
// physnet must be in the agent's 'mappings'.
Status check_segment_for_agent(const AgentConfig& agent, const Network& net,
                               const std::map<std::string, std::string>& mappings,
                               const char* mappings_name) {
  const std::string& type = net.network_type;
  bool allowed = type == "local" || type == "flat" || type == "vlan" || agent.tunnel_types.count(type);
  if (!allowed) return binding_failed(agent, net, "network type " + type + " not supported by the agent");
  if ((type == "flat" || type == "vlan") && !mappings.count(net.physnet)) {
    return binding_failed(agent, net, "physical network " + net.physnet + " not in the agent's " +
                                          mappings_name);
  }
  return ok_status();
}

}  // namespace

StatusOr<PortBinding> bind_port_linuxbridge(const AgentConfig& agent, const Network& net) {
  PortBinding b;
  b.host = agent.host;
  b.status = BindingStatus::kInactive;
  // The linuxbridge driver's mappings are interface_mappings plus
  // bridge_mappings (an existing bridge per physnet).
  std::map<std::string, std::string> mappings = agent.physical_interface_mappings;
  mappings.insert(agent.bridge_mappings.begin(), agent.bridge_mappings.end());
  LMH_RETURN_IF_ERROR(check_segment_for_agent(agent, net, mappings, "physical_interface_mappings"));
  b.vif_type = "bridge";
  b.vif_details = {{"bridge_name", lb_bridge_name(net.id)}, {"port_filter", "true"}};
  if (!net.physnet.empty()) b.vif_details["physical_network"] = net.physnet;
  return b;
}

StatusOr<PortBinding> bind_port_openvswitch(const AgentConfig& agent, const Network& net) {
  PortBinding b;
  b.host = agent.host;
  b.status = BindingStatus::kInactive;
  LMH_RETURN_IF_ERROR(check_segment_for_agent(agent, net, agent.bridge_mappings, "bridge_mappings"));
  b.vif_type = "ovs";
  // The agent reports ovs_hybrid_plug from its firewall driver's
  // OVS_HYBRID_PLUG_REQUIRED: only the iptables hybrid driver needs the
  // qbr Linux bridge to apply iptables rules.
  b.vif_details = {{"bridge_name", agent.integration_bridge},
                   {"ovs_hybrid_plug", agent.firewall_driver == "iptables_hybrid" ? "true" : "false"},
                   {"port_filter", "true"},
                   {"datapath_type", agent.datapath_type.empty() ? "system" : agent.datapath_type}};
  return b;
}

StatusOr<PortBinding> bind_port(const AgentConfig& agent, const Network& net) {
  // ML2 picks the driver by the agent's type: the driver its backend registered.
  auto backend = find_l2_backend(agent.agent_type);
  if (!backend.ok())
    return binding_failed(agent, net, "no mechanism driver for agent type '" + agent.agent_type + "'");
  return (*backend)->bind_port(agent, net);
}

}  // namespace lmh::core
