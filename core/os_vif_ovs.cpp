#include "core/os_vif_ovs.h"

#include <algorithm>
#include <cctype>

#include "core/names.h"

namespace lmh::core {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string detail(const Vif& vif, const std::string& key, const std::string& fallback) {
  auto it = vif.details.find(key);
  return it == vif.details.end() || it->second.empty() ? fallback : it->second;
}

Status check_ovs_vif(const Vif& vif) {
  if (vif.vif_type != "ovs") {
    return invalid_argument("vif " + vif.port_id + " has type '" + vif.vif_type + "', not ovs");
  }
  if (vif.network_bridge.empty()) return invalid_argument("vif " + vif.port_id + " has no network bridge");
  return ok_status();
}

}  // namespace

std::string hybrid_bridge_name(const std::string& port_id) { return "qbr" + port_id.substr(0, kDeviceIdLen); }
std::string hybrid_bridge_veth(const std::string& port_id) { return "qvb" + port_id.substr(0, kDeviceIdLen); }
std::string hybrid_ovs_veth(const std::string& port_id) { return "qvo" + port_id.substr(0, kDeviceIdLen); }

bool is_hybrid_plug(const Vif& vif) {
  auto it = vif.details.find("ovs_hybrid_plug");
  return it != vif.details.end() && lower(it->second) == "true";
}

std::map<std::string, std::string> ovs_interface_external_ids(const Vif& vif,
                                                              const std::string& instance_uuid) {
  return {{"iface-id", vif.ovs_interfaceid.empty() ? vif.port_id : vif.ovs_interfaceid},
          {"iface-status", "active"},
          {"attached-mac", vif.mac},
          {"vm-uuid", instance_uuid}};
}

Status plug_ovs(const Vif& vif, const std::string& instance_uuid, HostNetwork& net, LinkOps& links,
                OvsDatabase& ovs, Timeline& tl, const std::string& source) {
  LMH_RETURN_IF_ERROR(check_ovs_vif(vif));
  const std::string& bridge = vif.network_bridge;
  const std::string datapath = detail(vif, "datapath_type", "system");
  if (!is_hybrid_plug(vif)) {
    // _plug_vif_generic: only the bridge; libvirt creates the tap and adds
    // it with the external_ids of <virtualport type='openvswitch'>.
    tl.record(source, "os-vif ensure_ovs_bridge " + bridge + " datapath " + datapath);
    return ovs.ensure_bridge(bridge, datapath).with_context("ensure_ovs_bridge " + bridge);
  }
  // _plug_bridge: the per-VIF Linux bridge the tap goes to (for iptables),
  // linked to the OVS bridge by a veth pair.
  const std::string qbr = hybrid_bridge_name(vif.port_id);
  const std::string qvb = hybrid_bridge_veth(vif.port_id);
  const std::string qvo = hybrid_ovs_veth(vif.port_id);
  tl.record(source, "os-vif ensure_bridge " + qbr);
  LMH_RETURN_IF_ERROR(net.ensure_bridge(qbr).with_context("ensure_bridge " + qbr));
  if (!net.link_exists(qvo)) {
    tl.record(source, "os-vif create_veth_pair " + qvb + " " + qvo);
    LMH_RETURN_IF_ERROR(links.create_veth_pair(qvb, qvo).with_context("create_veth_pair " + qvb + " " + qvo));
  }
  auto master = net.master_of(qvb);
  if (!master.ok()) return master.status().with_context("master of " + qvb);
  if (*master != qbr) {
    tl.record(source, "os-vif add_bridge_port " + qbr + " " + qvb);
    LMH_RETURN_IF_ERROR(net.set_master(qvb, qbr).with_context("enslave " + qvb + " to " + qbr));
  }
  LMH_RETURN_IF_ERROR(net.set_up(qvb).with_context("set up " + qvb));
  LMH_RETURN_IF_ERROR(net.set_up(qvo).with_context("set up " + qvo));
  tl.record(source, "os-vif ensure_ovs_bridge " + bridge + " datapath " + datapath);
  LMH_RETURN_IF_ERROR(ovs.ensure_bridge(bridge, datapath).with_context("ensure_ovs_bridge " + bridge));
  tl.record(source, "os-vif create_ovs_vif_port " + bridge + " " + qvo);
  return ovs.add_port(bridge, qvo, ovs_interface_external_ids(vif, instance_uuid), std::nullopt)
      .with_context("add port " + qvo + " to " + bridge);
}

Status unplug_ovs(const Vif& vif, const std::string& instance_uuid, HostNetwork& net, LinkOps& links,
                  OvsDatabase& ovs, Timeline& tl, const std::string& source) {
  LMH_RETURN_IF_ERROR(check_ovs_vif(vif));
  const std::string qbr = hybrid_bridge_name(vif.port_id);
  if (is_hybrid_plug(vif) || net.link_exists(qbr)) {
    // _unplug_bridge: delete qbr (releasing qvb), then the OVS port qvo and
    // its device, which takes qvb with it.
    const std::string qvb = hybrid_bridge_veth(vif.port_id);
    const std::string qvo = hybrid_ovs_veth(vif.port_id);
    tl.record(source, "os-vif delete_bridge " + qbr);
    LMH_RETURN_IF_ERROR(links.delete_link(qbr).with_context("delete " + qbr));
    tl.record(source, "os-vif delete_ovs_vif_port " + qvo);
    LMH_RETURN_IF_ERROR(ovs.delete_port(qvo).with_context("delete port " + qvo));
    LMH_RETURN_IF_ERROR(links.delete_link(qvo).with_context("delete " + qvo));
    return links.delete_link(qvb).with_context("delete " + qvb);
  }
  // _unplug_vif_generic: the tap's OVS port and device.
  const std::string tap = vif.devname.empty() ? tap_name(vif.port_id) : vif.devname;
  tl.record(source, "os-vif delete_ovs_vif_port " + tap);
  LMH_RETURN_IF_ERROR(ovs.delete_port(tap).with_context("delete port " + tap));
  return links.delete_link(tap).with_context("delete " + tap);
}

}  // namespace lmh::core
