#include "core/os_vif.h"

#include "core/names.h"

namespace lmh::core {

Status plug_linux_bridge(const Vif& vif, const LinuxBridgePlugOptions& options, HostNetwork& net,
                         Timeline& timeline, const std::string& source) {
  const std::string& bridge = vif.network_bridge;
  if (bridge.empty()) return invalid_argument("vif " + vif.port_id + " has no bridge");
  bool vlan = options.should_provide_vlan && vif.network.network_type == "vlan";
  if (!vlan) {
    timeline.record(source, "os-vif ensure_bridge " + bridge);
    return net.ensure_bridge(bridge).with_context("ensure_bridge " + bridge);
  }
  const std::string iface = vlan_interface_name(options.bridge_interface, vif.network.segmentation_id);
  timeline.record(source, "os-vif ensure_vlan_bridge " + bridge + " " + iface);
  LMH_RETURN_IF_ERROR(net.ensure_vlan_interface(options.bridge_interface,
                                                vif.network.segmentation_id)
                          .with_context("ensure_vlan " + iface));
  LMH_RETURN_IF_ERROR(net.ensure_bridge(bridge).with_context("ensure_bridge " + bridge));
  return net.set_master(iface, bridge).with_context("enslave " + iface + " to " + bridge);
}

}  // namespace lmh::core
