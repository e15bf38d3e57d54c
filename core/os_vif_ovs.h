// os-vif's ovs plugin (vif_plug_ovs), as nova's pre_live_migration,
// spawn and finish_resize call it for vif_type "ovs".
//
// Which OVS bridge: os-vif takes it from the VIF's *network* bridge
// (vif.network.bridge, nova's network["bridge"]), for the plain and the
// hybrid strategy alike, never from vif_details. In a live migration nova's
// network model still comes from the source binding, so a VIF migrating from
// a linuxbridge host carries network_bridge "brq<net[:11]>" and os-vif
// creates an OVS bridge of that name on the destination (seed 000). Callers
// that model the fix pass a Vif whose network_bridge comes from the
// destination binding.
#pragma once

#include <string>

#include "common/status.h"
#include "core/host_network.h"
#include "core/neutron.h"
#include "core/ovs_database.h"
#include "core/timeline.h"

namespace lmh::core {

// Kernel link operations os-vif's hybrid plug needs beyond HostNetwork
// (linux_net.create_veth_pair, delete_net_dev, delete_bridge).
class LinkOps {
 public:
  virtual ~LinkOps() = default;
  // Creates the veth pair 'a' <-> 'b' in the host (both down, no master).
  // kAlreadyExists when either name is taken.
  virtual Status create_veth_pair(const std::string& a, const std::string& b) = 0;
  // Deletes link 'name' (a veth end takes its peer with it; a bridge
  // releases its ports first). Ok when there is no such link.
  virtual Status delete_link(const std::string& name) = 0;
};

// Hybrid plug device names, os-vif's gen_port_name(prefix, vif.id) and
// nova's _get_hybrid_bridge_name: a 3-letter prefix + port_id[:11].
std::string hybrid_bridge_name(const std::string& port_id);    // "qbr..." (Linux bridge)
std::string hybrid_bridge_veth(const std::string& port_id);    // "qvb..." (in qbr)
std::string hybrid_ovs_veth(const std::string& port_id);       // "qvo..." (on the OVS bridge)

// True when 'vif' asks for the hybrid strategy (details ovs_hybrid_plug).
bool is_hybrid_plug(const Vif& vif);

// The external_ids os-vif sets on the interface it adds to OVS (and libvirt
// sets on the tap from <virtualport type='openvswitch'>): iface-id (the
// port's ovs_interfaceid, else its id), iface-status "active",
// attached-mac, vm-uuid 'instance_uuid'.
std::map<std::string, std::string> ovs_interface_external_ids(const Vif& vif,
                                                              const std::string& instance_uuid);

// Plugs 'vif' of instance 'instance_uuid' the os-vif ovs way:
//   plain:  ensures the OVS bridge vif.network_bridge with the details'
//           datapath_type (default "system"); libvirt adds the tap to it.
//   hybrid: ensures Linux bridge qbr<id>, creates veth qvb<id>/qvo<id>
//           unless qvo exists, enslaves qvb to qbr, sets both up, ensures
//           the OVS bridge and adds qvo to it with ovs_interface_external_ids.
// Every step is idempotent, so a replug repairs a half-done plug. Records
// each action on 'tl' under 'source'. kInvalidArgument when 'vif' is not of
// type "ovs" or has no network bridge; otherwise the first failing step's
// status with what it was doing.
Status plug_ovs(const Vif& vif, const std::string& instance_uuid, HostNetwork& net, LinkOps& links,
                OvsDatabase& ovs, Timeline& tl, const std::string& source);

// Unplugs 'vif' as os-vif does:
//   hybrid (details ovs_hybrid_plug, or a qbr<id> exists on the host, which
//           os-vif checks to clean up after a hybrid -> plain move):
//           deletes qbr<id>, the OVS port qvo<id> and the veth pair.
//   plain:  deletes the OVS port vif.devname and the tap device
//           (_unplug_vif_generic); usually both are already gone with the guest.
// Deletes are idempotent. Records each action on 'tl' under 'source'.
Status unplug_ovs(const Vif& vif, const std::string& instance_uuid, HostNetwork& net, LinkOps& links,
                  OvsDatabase& ovs, Timeline& tl, const std::string& source);

}  // namespace lmh::core
