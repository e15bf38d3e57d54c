// The scenario as a YAML tree, section by section in the loader's key
// order, then emitted in block style under a comment header.
#include "harness/run/scenario_yaml.h"

#include "core/libvirt_xml.h"

#include <optional>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace lmh::harness {
namespace {

// Returns 'v' as a value node, or an empty (null) one when unset: the
// loader's "not given" for an optional key.
YAML::Node optional_value(const std::optional<int>& v) {
  return v ? YAML::Node(*v) : YAML::Node(YAML::NodeType::Null);
}

// Returns the agent keys a host may set for itself, with the values of 'a'.
YAML::Node agent_keys(const AgentSpec& a) {
  YAML::Node n;
  n["polling_interval_ms"] = a.polling_interval_ms;
  n["l2_population"] = a.l2_population;
  n["arp_responder"] = a.arp_responder;
  n["udp_dstport"] = a.udp_dstport;
  return n;
}

// Returns the nova.conf keys a host may set for itself, with the values of 'n'.
YAML::Node nova_keys(const NovaSpec& n) {
  YAML::Node out;
  out["live_migration_wait_for_vif_plug"] = n.live_migration_wait_for_vif_plug;
  out["vif_plugging_timeout_s"] = n.vif_plugging_timeout_s;
  out["vif_plugging_is_fatal"] = n.vif_plugging_is_fatal;
  out["live_migration_downtime_ms"] = n.libvirt.downtime_ms;
  out["live_migration_downtime_steps"] = n.libvirt.downtime_steps;
  out["live_migration_downtime_delay_s"] = n.libvirt.downtime_delay_s;
  out["live_migration_completion_timeout_s"] = n.libvirt.completion_timeout_s_per_gib;
  out["live_migration_timeout_action"] = n.libvirt.timeout_action;
  return out;
}

// Returns the entries of map 'host' whose values differ from the same keys
// in map 'top' (both scalars only), in 'host''s order.
YAML::Node differing(const YAML::Node& host, const YAML::Node& top) {
  YAML::Node out(YAML::NodeType::Map);
  for (auto it = host.begin(); it != host.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (it->second.Scalar() != top[key].Scalar()) out[key] = it->second;
  }
  return out;
}

YAML::Node host_node(const HostSpec& h, const Scenario& sc) {
  YAML::Node n;
  n["name"] = h.name;
  n["backend"] = core::to_string(h.backend);
  n["firewall_driver"] = h.firewall_driver;
  n["physical_interface"] = h.physical_interface;
  n["service_enabled"] = h.service_enabled;
  n["memory_mb"] = h.memory_mb;
  n["hypervisor_version"] = h.hypervisor_version;
  if (YAML::Node own = differing(agent_keys(h.agent), agent_keys(sc.agent)); own.size() > 0) n["agent"] = own;
  if (YAML::Node own = differing(nova_keys(h.nova), nova_keys(sc.nova)); own.size() > 0) n["nova"] = own;
  return n;
}

YAML::Node network_node(const NetworkSpec& net) {
  YAML::Node n;
  n["id"] = net.id;
  n["type"] = net.type;
  n["physnet"] = net.physnet;
  n["segmentation_id"] = net.segmentation_id;
  n["cidr"] = net.cidr;
  return n;
}

YAML::Node guest_node(const GuestSpec& g) {
  YAML::Node n;
  n["name"] = g.name;
  n["instance_uuid"] = g.instance_uuid;
  n["port_id"] = g.port_id;
  n["mac"] = g.mac;
  n["ip"] = g.ip;
  n["traffic_after_resume_ms"] = optional_value(g.traffic_after_resume_ms);
  n["boot_ms"] = g.boot_ms;
  n["memory_mb"] = g.memory_mb;
  return n;
}

YAML::Node peer_node(const PeerSpec& p) {
  YAML::Node n;
  n["ip"] = p.ip;
  YAML::Node neigh;
  neigh["base_reachable_time_ms"] = p.neigh.base_reachable_time_ms;
  neigh["delay_first_probe_time_s"] = p.neigh.delay_first_probe_time_s;
  neigh["retrans_time_ms"] = p.neigh.retrans_time_ms;
  neigh["ucast_solicit"] = p.neigh.ucast_solicit;
  neigh["mcast_solicit"] = p.neigh.mcast_solicit;
  n["neigh"] = neigh;
  n["host"] = p.host;
  return n;
}

YAML::Node migration_node(const MigrationSpec& m) {
  YAML::Node n;
  n["source"] = m.source;
  n["destination"] = m.destination;
  n["precopy_ms"] = m.precopy_ms;
  n["pause_ms"] = m.pause_ms;
  n["resume_after_dest_poll_ms"] = optional_value(m.resume_after_dest_poll_ms);
  n["kind"] = core::to_string(m.kind);
  n["resize_outcome"] = m.resize_outcome;
  n["verify_ms"] = m.verify_ms;
  n["force"] = m.force;
  return n;
}

YAML::Node probe_node(const ProbeSpec& p) {
  YAML::Node n;
  n["interval_ms"] = p.interval_ms;
  n["reply_timeout_ms"] = p.reply_timeout_ms;
  n["settle_ms"] = p.settle_ms;
  n["observe_ms"] = p.observe_ms;
  return n;
}

YAML::Node behaviour_node(const Behaviour& b) {
  YAML::Node n;
  n["pre_plug_vlan_uplink"] = b.pre_plug_vlan_uplink;
  n["vif_plugged_from_agent_only"] = b.vif_plugged_from_agent_only;
  n["lb_agent_honours_migrating_to"] = b.lb_agent_honours_migrating_to;
  n["ovn_multichassis_binding"] = b.ovn_multichassis_binding;
  // The file's "none" is neutron's empty string.
  n["ovn_activation_strategy"] = b.ovn_activation_strategy.empty() ? "none" : b.ovn_activation_strategy;
  n["l2pop_on_binding_activate"] = b.l2pop_on_binding_activate;
  n["ovs_agent_wires_migrating_to"] = b.ovs_agent_wires_migrating_to;
  n["wait_only_for_plug_time_events"] = b.wait_only_for_plug_time_events;
  n["dest_xml_bridge"] = core::dest_xml_bridge_name(b.dest_xml_bridge);
  n["announce_self_after_migration"] = b.announce_self_after_migration;
  n["announce_self_count"] = b.announce_self_count;
  n["announce_self_interval_ms"] = b.announce_self_interval_ms;
  return n;
}

YAML::Node scenario_node(const Scenario& sc) {
  YAML::Node root;
  root["name"] = sc.name;
  root["description"] = sc.description;
  root["tier"] = to_string(sc.tier);
  root["warm_destination"] = sc.warm_destination;
  YAML::Node hosts(YAML::NodeType::Sequence);
  for (const auto& h : sc.hosts) hosts.push_back(host_node(h, sc));
  root["hosts"] = hosts;
  root["fabric"]["mac_ageing_s"] = sc.fabric.mac_ageing_s;
  root["network"] = network_node(sc.network);
  root["guest"] = guest_node(sc.guest);
  root["peer"] = peer_node(sc.peer);
  root["underlay"]["vlan"] = sc.underlay.vlan;
  root["underlay"]["cidr"] = sc.underlay.cidr;
  root["migration"] = migration_node(sc.migration);
  root["probe"] = probe_node(sc.probe);
  YAML::Node agent = agent_keys(sc.agent);
  agent["vxlan_group"] = sc.agent.vxlan_group;
  root["agent"] = agent;
  YAML::Node nova = nova_keys(sc.nova);
  nova["rpc_response_timeout_s"] = sc.nova.rpc_response_timeout_s;
  root["nova"] = nova;
  root["behaviour"] = behaviour_node(sc.behaviour);
  YAML::Node faults(YAML::NodeType::Sequence);
  for (const auto& f : sc.faults) faults.push_back(f.text);
  if (sc.faults.empty()) faults.SetStyle(YAML::EmitterStyle::Flow);  // "faults: []"
  root["faults"] = faults;
  root["fault_seed"] = sc.fault_seed;
  // The shortest text that reads back as the same double.
  root["expect"]["max_downtime_ms"] = fmt::format("{}", sc.expect.max_downtime_ms);
  root["expect"]["recover_within_ms"] = sc.expect.recover_within_ms;
  return root;
}

}  // namespace

std::string scenario_to_yaml(const Scenario& sc) {
  YAML::Emitter out;
  out << YAML::Comment("Scenario " + sc.name + " as lmh read it, every key written out\n"
                       "(~: an optional key left unset). A host's agent: and nova: hold only\n"
                       "the keys that differ from the top-level agent: and nova: sections.");
  out << YAML::Newline << scenario_node(sc);
  return std::string(out.c_str()) + "\n";
}

}  // namespace lmh::harness
