// Device names as neutron, nova and os-vif derive them. Each fits IFNAMSIZ
// (15 characters): a 3-letter prefix plus the first 11 characters of a UUID.
#pragma once

#include <arpa/inet.h>

#include <cstdio>
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

// "vxlan-<remote IPv4 as 8 hex digits>": the OVS agent's br-tun port to a
// remote tunnel endpoint (get_ip_in_hex): "vxlan-c613000c" for 198.19.0.12.
// "" when 'remote_ip' is not an IPv4 address.
inline std::string ovs_tunnel_port_name(const std::string& remote_ip) {
  in_addr a{};
  if (inet_pton(AF_INET, remote_ip.c_str(), &a) != 1) return "";
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", ntohl(a.s_addr));
  return std::string("vxlan-") + hex;
}

}  // namespace lmh::core
