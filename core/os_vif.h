// os-vif's linux_bridge plugin, as nova's pre_live_migration and
// finish_resize call it. plug() only ensures the bridge (os-vif
// ensure_bridge) unless the VIF asks for the VLAN to be provided, in which
// case it is ensure_vlan_bridge: "<phys>.<vlan>" created and enslaved too
// (the fix of seed 001, carried by 'should_provide_vlan').
#pragma once

#include <string>

#include "common/status.h"
#include "core/host_network.h"
#include "core/neutron.h"
#include "core/timeline.h"

namespace lmh::core {

struct LinuxBridgePlugOptions {
  bool should_provide_vlan = false;  // pass vlan + bridge_interface (seed 001's fix)
  std::string bridge_interface;      // nova [neutron] bridge_interface, e.g. "eth1"
};

// Plugs 'vif' on a host through 'net'; records each action on 'timeline'
// under 'source'.
Status plug_linux_bridge(const Vif& vif, const LinuxBridgePlugOptions& options, HostNetwork& net,
                         Timeline& timeline, const std::string& source);

// os-vif's linux_bridge unplug is a no-op: the bridge stays for other ports
// and the tap disappears with the guest. Kept as a function so the call site
// reads like nova's.
inline Status unplug_linux_bridge(const Vif&, HostNetwork&) { return ok_status(); }

}  // namespace lmh::core
