// The lab of one run: namespaces as hosts, the fabric switch, the peer
// (gateway) namespaces, and each host's NIC as a veth trunk to the fabric.
// Built in order from a Topology (plain data); torn down in reverse by
// destructors, so a failure or Ctrl-C at any point leaves nothing behind.
//
//   peer ns  eth0 ──── peer      (access port, VLAN of the network)
//   fabric ns  OVS bridge "fabric" (datapath netdev, learning, ageing)
//   host ns  eth1 ──── <host>-eth1  (trunk port)
//            eth1.<vlan>: 802.1Q on eth1, or (no 8021q) a veth
//                         ──── <host>-v<vlan> (access port)
//   ovn ns   (any OVN host) OVN's northbound and southbound databases and
//            ovn-northd; each OVN host's ovn-controller reaches the
//            southbound one over its unix socket.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/host_network.h"
#include "core/os_vif_ovs.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"
#include "harness/lab/topology.h"
#include "harness/ovs/ovs_fabric.h"
#include "harness/ovs/ovn_daemons.h"
#include "harness/ovs/ovs_host.h"
#include "harness/system/capabilities.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/virt/libvirt_host.h"

namespace lmh::harness {

// Directory holding one subdirectory of state per run (pid files, OVS db).
inline constexpr const char* kStateRoot = "/run/lmh";
// Every object of a run carries "lmh-<run_id>".
std::string run_prefix(const std::string& run_id);
// A fresh 6-hex-digit run id.
std::string new_run_id();

class Lab;

// core::HostNetwork over netlink in one host's namespace.
// A lab host's kernel networking as core sees it: Linux bridges and links
// (HostNetwork) and veth pairs for the OVS hybrid plug (LinkOps).
class LabHostNetwork final : public core::HostNetwork, public core::LinkOps {
 public:
  LabHostNetwork(Lab& lab, std::string host, int netns_fd, std::unique_ptr<Netlink> nl)
      : lab_(lab), host_(std::move(host)), netns_fd_(netns_fd), nl_(std::move(nl)) {}
  StatusOr<std::vector<std::string>> list_links(const std::string& prefix) override;
  bool link_exists(const std::string& name) override;
  Status ensure_bridge(const std::string& name) override;
  Status ensure_vlan_interface(const std::string& physical, int vlan) override;
  Status set_master(const std::string& device, const std::string& bridge) override;
  StatusOr<std::string> master_of(const std::string& device) override;
  Status set_up(const std::string& device) override;
  Status ensure_vxlan_interface(const core::VxlanDevice& device) override;
  Status fdb_add(const std::string& device, const core::VxlanFdbEntry& entry, bool append) override;
  Status fdb_delete(const std::string& device, const core::VxlanFdbEntry& entry) override;
  StatusOr<std::vector<core::VxlanFdbEntry>> fdb_entries(const std::string& device) override;
  Status neigh_replace(const std::string& device, const std::string& ip, const std::string& mac) override;
  Status neigh_delete(const std::string& device, const std::string& ip) override;
  Status create_veth_pair(const std::string& a, const std::string& b) override;
  Status delete_link(const std::string& name) override;

  Netlink& netlink() { return *nl_; }
  int netns_fd() const { return netns_fd_; }
  const std::string& host() const { return host_; }

 private:
  Lab& lab_;
  std::string host_;
  int netns_fd_;
  std::unique_ptr<Netlink> nl_;
};

struct LabHost {
  TopologyHost spec;
  NamedNetns ns;
  std::unique_ptr<LabHostNetwork> net;
  // backend openvswitch: the host's own ovsdb-server and ovs-vswitchd with
  // br-int, br-ex (the NIC) and their patch ports. Destroyed first.
  std::unique_ptr<OvsHost> ovs;
  // The device holding the tunnel endpoint's local_ip ("" without one).
  std::string tunnel_device;
  // backend ovn: the chassis' ovn-controller over 'ovs'. Declared after
  // it: stopped before the Open vSwitch it programs.
  std::unique_ptr<OvnController> ovn;
  // tier libvirt: the host's own libvirtd (and the QEMUs it runs), state
  // in <lab state dir>/libvirt-<host>. Declared last: destroyed first.
  std::unique_ptr<LibvirtHost> libvirt;
};

class Lab {
 public:
  // Builds the lab of 'topology' (validated here) under run 'run_id'. On
  // failure everything built so far is removed before returning.
  static StatusOr<std::unique_ptr<Lab>> build(const Topology& topology, const std::string& run_id,
                                              const Capabilities& caps);
  ~Lab();

  const std::string& run_id() const { return run_id_; }
  std::string prefix() const { return run_prefix(run_id_); }
  std::string state_dir() const { return std::string(kStateRoot) + "/" + run_id_; }
  const Capabilities& capabilities() const { return caps_; }
  const Topology& topology() const { return topology_; }

  LabHost* host(const std::string& name);
  NamedNetns& fabric_ns() { return fabric_ns_; }
  // The namespace of peer 'name' (the topology's first peer by default).
  NamedNetns& peer_ns(const std::string& name = "peer") { return peer_ns_.at(name); }
  OvsFabric& fabric() { return *fabric_; }
  // OVN's central daemons (namespace "<prefix>-ovn", state in
  // <state dir>/ovn-central) when a host runs OVN, else null.
  OvnCentral* ovn_central() { return ovn_central_.get(); }
  Netlink& fabric_netlink() { return *fabric_nl_; }

  // Fabric-side port name of 'host''s physical NIC, and of its uplink for
  // network 'network_id' (which differs when VLANs fall back to veths).
  static std::string fabric_nic_port(const std::string& host) { return host + "-nic"; }
  // Fabric-side port of 'host''s VLAN uplink veth (no 8021q: "<host>-v<vlan>").
  static std::string fabric_vlan_port(const std::string& host, int vlan) { return host + "-v" + std::to_string(vlan); }
  std::string fabric_uplink_port(const std::string& host, const std::string& network_id) const;
  // The host's uplink for network 'network_id' ("eth1.100" or "eth1"; an
  // OVS host's NIC, which br-ex tags).
  std::string uplink_name(const std::string& host, const std::string& network_id) const;
  // Creates the VLAN fallback: veth "<phys>.<vlan>" in the host with its peer
  // as a fabric access port of 'vlan'.
  Status create_vlan_uplink_veth(LabHost& host, const std::string& physical, int vlan);
  // The OVS bridge a host maps a physnet to (neutron's bridge_mappings).
  static std::string ovs_physical_bridge() { return "br-ex"; }
  // The lab's fault points reached when a guest switches over to
  // 'destination', whatever the hypervisor: fabric.port (its switch ports
  // for the lab's networks down for 'delay' ms or for good) and
  // ovs.vswitchd (crash).
  void switchover_faults(const std::string& destination, faults::FaultPlan* faults, core::EventLoop& loop,
                         core::Timeline& timeline);
  // A Linux host's tunnel endpoint: "<phys>.<underlay vlan>" (a real VLAN
  // device or the veth fallback) with its local_ip.
  Status build_vlan_underlay(LabHost& host);
  // Creates a namespace of this run ("<prefix>-<suffix>") with IPv6 off.
  StatusOr<NamedNetns> make_namespace(const std::string& suffix);

 private:
  Lab(Topology topology, std::string run_id, Capabilities caps)
      : topology_(std::move(topology)), run_id_(std::move(run_id)), caps_(std::move(caps)) {}
  Status build_all();
  Status build_peer(const TopologyPeer& peer);
  Status build_host(const TopologyHost& spec);
  Status build_ovn_central();
  // Every host's backend learns where the other tunnel endpoints are.
  Status learn_tunnel_neighbours();

  Topology topology_;
  std::string run_id_;
  Capabilities caps_;
  bool state_dir_made_ = false;
  // Declaration order = build order; destruction reverses it.
  NamedNetns fabric_ns_;
  std::unique_ptr<Netlink> fabric_nl_;
  std::unique_ptr<OvsFabric> fabric_;
  std::map<std::string, NamedNetns> peer_ns_;  // by peer name
  // Before the hosts: their ovn-controllers stop before the southbound
  // database they are connected to.
  NamedNetns ovn_ns_;
  std::unique_ptr<OvnCentral> ovn_central_;
  std::map<std::string, LabHost> hosts_;
};

}  // namespace lmh::harness
