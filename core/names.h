// Device names as neutron, nova and os-vif derive them. Each fits IFNAMSIZ
// (15 characters): a 3-letter prefix plus the first 11 characters of a UUID.
#pragma once

#include <string>

namespace lmh::core {

inline constexpr size_t kDeviceIdLen = 11;  // neutron's DEVICE_NAME_MAX_LEN - 3

// "tap" + port_id[:11]: the guest's host-side device (nova get_vif_devname).
inline std::string tap_name(const std::string& port_id) {
  return "tap" + port_id.substr(0, kDeviceIdLen);
}
// "brq" + network_id[:11]: the linuxbridge agent's bridge for a network.
inline std::string lb_bridge_name(const std::string& network_id) {
  return "brq" + network_id.substr(0, kDeviceIdLen);
}
// "<phys>.<vlan>": the VLAN subinterface the linuxbridge agent expects (seed
// 001: os-vif's "vlan<N>" made a duplicate; the agent's name is the right one).
inline std::string vlan_interface_name(const std::string& physical_interface, int vlan) {
  return physical_interface + "." + std::to_string(vlan);
}

// "vxlan-<vni>": the linuxbridge agent's VXLAN device of a network.
inline std::string vxlan_device_name(int vni) { return "vxlan-" + std::to_string(vni); }

}  // namespace lmh::core
