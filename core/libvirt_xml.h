// The libvirt driver's XML work for a migration, as nova's libvirt driver
// does it: the guest <interface> element built for a VIF
// (nova.virt.libvirt.vif LibvirtGenericVIFDriver.get_config, through
// nova.network.os_vif_util for vif types bridge and ovs), and the destination
// domain XML of a live migration (nova.virt.libvirt.migration
// get_updated_guest_xml -> _update_vif_xml), which rewrites each guest
// interface for the destination port binding.
//
// Seed 000 (DIGEST "A") lives here: when the VIF handed to get_config is
// nova's get_dest_vif() -- the SOURCE network model with only type, vnic_type,
// profile and details swapped for the destination binding's -- the plain-OVS
// and bridge conversions take the bridge from 'network.bridge', i.e. the
// source backend's bridge. An LB -> OVS migration then names the LB bridge
// "brq<net[:11]>" in an openvswitch interface, and the destination libvirt
// adds the tap to a new OVS bridge of that name instead of br-int.
// DestXmlBridge selects that shipped behaviour or the fix.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "core/behaviour.h"
#include "core/neutron.h"

namespace lmh::core {

// Behaviour switch `behaviour.dest_xml_bridge`: where the guest interface of
// the destination domain XML takes its bridge from.

// 'value' escaped for XML text and quoted attributes (& < > ' "), as
// libvirt writes them.
std::string xml_escape(const std::string& value);

// Parses the value of `behaviour.dest_xml_bridge`: "source" or
// "destination". Returns kInvalidArgument naming 'text' and the valid values
// otherwise.
StatusOr<DestXmlBridge> parse_dest_xml_bridge(const std::string& text);

// The network bridge os-vif is given for 'vif' (nova's os_vif_util): as
// shipped (kSource) the network model's bridge; fixed (kDestination) the
// binding's vif_details bridge_name, else br-int for ovs and the network
// model's bridge for bridge.
std::string os_vif_network_bridge(const Vif& vif, DestXmlBridge mode);

// Returns the text form of 'mode' ("source" or "destination"), the inverse
// of parse_dest_xml_bridge, for reports and logs.
const char* dest_xml_bridge_name(DestXmlBridge mode);

// Returns the bridge the guest interface config of 'vif' names in
// <source bridge='…'/>, under 'mode'. For ovs with vif_details
// ovs_hybrid_plug=true it is the per-port Linux bridge "qbr" + port_id[:11]
// in both modes (os_vif_util _get_hybrid_bridge_name). Otherwise, kSource
// gives 'vif.network_bridge' for vif types bridge and ovs (os_vif_util
// _nova_to_osvif_vif_bridge/_ovs); kDestination gives vif_details
// 'bridge_name' when present, else 'vif.network_bridge' for type bridge and
// "br-int" (nova's [neutron] ovs_bridge default) for type ovs. Returns ""
// when there is no bridge to name (other vif types, or no bridge known); no
// side effects.
std::string interface_bridge(const Vif& vif, DestXmlBridge mode);

// Returns the guest <interface> element nova's libvirt driver builds for
// 'vif' (KVM, virtio model, no bandwidth quota, libvirt plugs the tap), in
// LibvirtConfigGuestInterface's child order: <mac>, <model>, <source
// bridge>, <mtu> (when 'vif.mtu' is set), <target dev> ('vif.devname'), and
// for plain ovs <virtualport type='openvswitch'> with the interfaceid
// ('vif.ovs_interfaceid', else the port id). Hybrid ovs has no virtualport:
// the tap goes on the qbr Linux bridge. The bridge is interface_bridge(vif,
// 'mode'). The text is indented by two spaces per level, has single-quoted
// attributes (as `virsh dumpxml`) and no trailing newline.
// Returns kInvalidArgument naming the port when its vif type is not bridge
// or ovs, its vnic_type is not normal, or it has no MAC or no bridge.
StatusOr<std::string> guest_interface_xml(const Vif& vif, DestXmlBridge mode);

// Returns 'domain_xml' (a libvirt <domain>, e.g. `virsh dumpxml
// --migratable`) rewritten for the destination host as nova's
// _update_vif_xml does it: each <devices>/<interface> is matched to the VIF
// of 'dest_vifs' with the same MAC (case-insensitive; if two VIFs share a
// MAC the last one wins, as nova's dict does) and replaced by that VIF's
// guest interface config under 'mode' (guest_interface_xml's content:
// attributes and children), except that
//  - the source's guest PCI <address> is kept, as the last child, copied
//    byte for byte;
//  - the destination's <mtu> is written only if the source interface had an
//    <mtu> element (its value is the destination's, as in nova); without
//    one, a defined MTU would make the migration fail.
// Everything outside the interface elements is returned byte for byte
// (other devices, attributes, quoting, comments, whitespace); the new
// children follow the source interface's indentation. VIFs matching no
// interface are ignored.
// Returns kInvalidArgument when 'domain_xml' is not well-formed (pugixml's
// description with line, column and byte offset), its root is not <domain>,
// an interface has no <mac address> or a MAC that no VIF has (both named by
// line), or a matched VIF cannot be configured (guest_interface_xml's
// errors). No side effects.
StatusOr<std::string> update_vif_xml(const std::string& domain_xml,
                                     const std::vector<Vif>& dest_vifs, DestXmlBridge mode);

}  // namespace lmh::core
