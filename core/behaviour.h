// Behaviour switches of the flow: each seed behaviour is a named switch, so
// one scenario runs "as shipped" and "with the fix" and the report shows both.
#pragma once

namespace lmh::core {

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
};

}  // namespace lmh::core
