// Behaviour switches of the flow: each seed behaviour is a named switch, so
// one scenario runs "as shipped" and "with the fix" and the report shows both.
#pragma once

#include <string>

namespace lmh::core {

// Where the destination domain XML takes a VIF's bridge from (seed 000).
enum class DestXmlBridge {
  // "source", as every release ships (queens .. 2026.1; nova 2b52cde565 in
  // rocky takes only the vif type and details from the destination
  // binding): from the VIF's network model
  // ('network.bridge'), which during a live migration was built from the
  // source host's binding (seed 000's brq bridge on an OVS host).
  kSource,
  // "destination", the fix: from the destination binding (vif_details
  // 'bridge_name', else what that vif type's host uses).
  kDestination,
};

// Behaviour switches: each seed behaviour, "as shipped" or "with the fix".
struct Behaviour {
  // false: os-vif ensure_bridge only (as shipped); true: ensure_vlan_bridge
  // in pre_live_migration, so the destination uplink exists before resume.
  bool pre_plug_vlan_uplink = false;
  // Neutron: network-vif-plugged only from the agent while migrating (the
  // fix of bug 1901707) instead of on the migrating_to port update.
  bool vif_plugged_from_agent_only = false;
  // Linuxbridge agent: plug a port migrating to this host before its
  // binding is activated (downstream fix).
  bool lb_agent_honours_migrating_to = false;
  // OVS agent: wire (tag) a port migrating to this host as soon as it
  // appears on br-int, before its binding is activated (neutron's fix of
  // bug 1815989, where the RARPs of an untagged port were dropped).
  bool ovs_agent_wires_migrating_to = false;
  // Neutron l2population: send the destination's location (fdb_add) when
  // its binding is activated, not when its agent next reports the port up
  // (a proposed fix: l2pop otherwise waits for the destination agent's
  // poll). With a linuxbridge destination it needs that agent to have
  // plugged the port already (lb_agent_honours_migrating_to).
  bool l2pop_on_binding_activate = false;
  // ML2/OVN: requested-chassis "SRC,DST" while a port migrates (neutron
  // 35fade3b5f, Zed; with OVN >= 22.09): the destination claims the port as
  // an additional chassis before the switchover. false: the source alone
  // until the destination binding is activated (RH BZ 2012179).
  bool ovn_multichassis_binding = true;
  // ML2/OVN [ovn] live_migration_activation_strategy: "rarp" (the default:
  // the destination drops the port's traffic until its first RARP) or ""
  // (it forwards as soon as it has claimed the port).
  std::string ovn_activation_strategy = "rarp";
  // nova's source waits in pre-live-migration only for VIFs that send
  // network-vif-plugged at plug time, i.e. hybrid-plug OVS ports (nova
  // 8b33ac0644, wallaby 23.0.0, LP#1901707; removed again by 691d47e936
  // in 2025.2 32.0.0). false: it waits for every VIF.
  bool wait_only_for_plug_time_events = false;
  // The bridge of the destination XML's interfaces.
  DestXmlBridge dest_xml_bridge = DestXmlBridge::kSource;
  // nova [workarounds] enable_qemu_monitor_announce_self: after the
  // migration nova asks QEMU to announce again, 'count' times 'interval_ms'
  // apart (qemu_monitor_announce_self_count / _interval).
  bool announce_self_after_migration = false;
  int announce_self_count = 3;
  int announce_self_interval_ms = 1000;

  bool operator==(const Behaviour&) const = default;
};

}  // namespace lmh::core
