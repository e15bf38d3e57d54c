#include "harness/lab/lab_backend.h"

#include <map>

#include "core/names.h"
#include "harness/lab/lab.h"
#include "harness/system/wait.h"

namespace lmh::harness {

namespace {

// neutron's bridge_mappings on an OVS host: every physnet of the lab on
// br-ex (Topology::validate allows one).
std::map<std::string, std::string> ovs_bridge_mappings(const Topology& topology) {
  std::map<std::string, std::string> out;
  for (const auto& n : topology.networks) out[n.physnet] = Lab::ovs_physical_bridge();
  return out;
}

// The agent's VXLAN settings from the host's tunnel endpoint (the
// linuxbridge agent also needs the device holding local_ip).
core::VxlanConfig vxlan_config(const TopologyTunnel& t) {
  return {.enable_vxlan = true,
          .local_ip = t.local_ip,
          .l2_population = t.l2_population,
          .arp_responder = t.arp_responder,
          .vxlan_group = t.vxlan_group,
          .udp_dstport = t.udp_dstport};
}

// The host's own Open vSwitch for 'controller' (the OVS agent or an OVN
// chassis): br-ex on the NIC and, with a tunnel endpoint, its local_ip on
// br-ex's own port in the underlay's VLAN (the userspace datapath routes
// VXLAN and Geneve out of the bridge holding local_ip).
Status start_host_ovs(Lab& lab, LabHost& host, OvsHost::Controller controller) {
  OvsHost::Options o;
  o.controller = controller;
  o.state_dir = lab.state_dir() + "/ovs-" + host.spec.name;
  o.netns_fd = host.ns.fd();
  o.datapath_type = lab.capabilities().ovs_kernel ? "system" : "netdev";
  o.bridge_mappings = ovs_bridge_mappings(lab.topology());
  o.nic_for_bridge = {{Lab::ovs_physical_bridge(), host.spec.physical_interface}};
  if (host.spec.tunnel)
    o.tunnel = OvsHost::Options::TunnelEndpoint{host.spec.tunnel->local_ip, lab.topology().underlay.prefix_length,
                                                lab.topology().underlay.vlan, Lab::ovs_physical_bridge()};
  auto ovs = OvsHost::start(o);
  if (!ovs.ok()) return ovs.status().with_context("Open vSwitch on " + host.spec.name);
  host.ovs = std::move(ovs).value();
  if (o.tunnel) host.tunnel_device = o.tunnel->bridge;
  return ok_status();
}

// A host's own Open vSwitch (OVS agent or OVN chassis) drops what it sends
// to an unresolved tunnel endpoint while it ARPs (the kernel would queue
// it): a running cloud's underlay neighbours are warm, so the lab's are.
Status learn_ovs_tunnel_neighbours(LabHost& host, const std::map<std::string, std::string>& endpoints) {
  for (const auto& [ip, mac] : endpoints) {
    if (ip == host.spec.tunnel->local_ip) continue;
    LMH_RETURN_IF_ERROR(host.ovs->set_tunnel_neighbour(ip, mac));
  }
  return ok_status();
}

// A peer's tap on br-int with the port's iface-id, as os-vif's plain OVS
// plug (and libvirt) leave a VM's tap.
Status plug_on_br_int(LabHost& host, const TopologyPeer& peer, const std::string& tap) {
  return host.ovs->database().add_port(host.ovs->options().integration_bridge, tap,
                                       {{"iface-id", peer.port_id}, {"iface-status", "active"}, {"attached-mac", peer.mac}},
                                       std::nullopt);
}

// neutron's linuxbridge agent: Linux bridges brq<net>, the VLAN uplink
// "<phys>.<vlan>" (a real 802.1Q device, or a veth to a fabric access port
// of that VLAN where the kernel has no 8021q), made by the agent itself.
class LinuxBridgeLabBackend final : public LabBackend {
 public:
  // A tunnel endpoint on "<phys>.<underlay vlan>", as the agent's
  // local_ip is usually configured on such an interface.
  Status build(Lab& lab, LabHost& host) const override {
    return host.spec.tunnel ? lab.build_vlan_underlay(host) : ok_status();
  }
  // A tunnel network's frames leave encapsulated through the underlay's
  // VLAN interface: its fabric VLAN is the underlay's.
  std::string uplink_name(const TopologyHost& host, const TopologyNetwork& net) const override {
    if (net.fabric_vlan()) return core::vlan_interface_name(host.physical_interface, net.fabric_vlan());
    return host.physical_interface;
  }
  std::string fabric_port(const Capabilities& caps, const TopologyHost& host,
                          const TopologyNetwork& net) const override {
    if (net.fabric_vlan() && !caps.vlan_8021q) return Lab::fabric_vlan_port(host.name, net.fabric_vlan());
    return Lab::fabric_nic_port(host.name);
  }
  // The kernel queues a packet while it resolves the next hop.
  Status learn_tunnel_neighbours(LabHost&, const std::map<std::string, std::string>&) const override {
    return ok_status();
  }
  // The agent finds the tap by its name.
  Status plug_peer(LabHost&, const TopologyPeer&, const std::string&) const override { return ok_status(); }
  // The agent's [vxlan] section from the host's tunnel endpoint.
  void configure(core::HostConfig& config, LabHost& host, const Topology& topology) const override {
    if (!host.spec.tunnel) return;
    config.vxlan = vxlan_config(*host.spec.tunnel);
    config.vxlan.underlay = core::vlan_interface_name(host.spec.physical_interface, topology.underlay.vlan);
  }
};

// neutron's openvswitch agent: the host's own Open vSwitch (userspace
// datapath where the kernel module is missing), br-ex on the NIC, which
// tags the frames itself: the NIC is the uplink of every network.
class OvsLabBackend final : public LabBackend {
 public:
  Status build(Lab& lab, LabHost& host) const override {
    return start_host_ovs(lab, host, OvsHost::Controller::kOvsAgent);
  }
  std::string uplink_name(const TopologyHost& host, const TopologyNetwork&) const override {
    return host.physical_interface;
  }
  std::string fabric_port(const Capabilities&, const TopologyHost& host, const TopologyNetwork&) const override {
    return Lab::fabric_nic_port(host.name);
  }
  Status learn_tunnel_neighbours(LabHost& host, const std::map<std::string, std::string>& endpoints) const override {
    return learn_ovs_tunnel_neighbours(host, endpoints);
  }
  // The agent wires what carries an iface-id.
  Status plug_peer(LabHost& host, const TopologyPeer& peer, const std::string& tap) const override {
    return plug_on_br_int(host, peer, tap);
  }
  void configure(core::HostConfig& config, LabHost& host, const Topology& topology) const override {
    config.firewall_driver = host.spec.firewall_driver;
    config.datapath_type = host.ovs->options().datapath_type;
    config.bridge_mappings = ovs_bridge_mappings(topology);
    config.ovs = &host.ovs->database();
    config.links = host.net.get();
    if (!host.spec.tunnel) return;
    config.vxlan = vxlan_config(*host.spec.tunnel);
  }
};

// ML2/OVN: no neutron L2 agent; ovn-controller programs br-int of the
// host's own Open vSwitch from the southbound database, and tunnels in
// Geneve from the tunnel endpoint on br-ex (as the OVS backend's VXLAN).
// Ports are found by their iface-id, as with the OVS agent.
class OvnLabBackend final : public LabBackend {
 public:
  // The host's Open vSwitch as before ovn-controller, then ovn-controller;
  // returns once the chassis is in the southbound database (neutron's OVN
  // driver refuses to bind a port to a host without a chassis).
  Status build(Lab& lab, LabHost& host) const override {
    OvnCentral* central = lab.ovn_central();
    if (!central) return failed_precondition("OVN host " + host.spec.name + " in a lab without OVN central daemons");
    if (!host.spec.tunnel) return invalid_argument("OVN host " + host.spec.name + " has no tunnel endpoint");
    LMH_RETURN_IF_ERROR(start_host_ovs(lab, host, OvsHost::Controller::kOvn));

    OvnController::Options c;
    c.state_dir = lab.state_dir() + "/ovn-" + host.spec.name;
    c.netns_fd = host.ns.fd();
    c.ovs = &host.ovs->database();
    c.ovs_db_socket = host.ovs->daemons().db_socket();
    c.ovs_run_dir = host.ovs->daemons().run_dir();
    c.sb_remote = "unix:" + central->sb_socket();
    c.chassis = host.spec.name;  // neutron's host name: requested-chassis names it
    c.encap_ip = host.spec.tunnel->local_ip;
    c.bridge_mappings = ovn_bridge_mappings(lab.topology());
    c.datapath_type = host.ovs->options().datapath_type;
    auto controller = OvnController::start(c);
    if (!controller.ok()) return controller.status().with_context("ovn-controller on " + host.spec.name);
    host.ovn = std::move(controller).value();
    return wait_for_chassis(*central, host, c.state_dir);
  }
  std::string uplink_name(const TopologyHost& host, const TopologyNetwork&) const override {
    return host.physical_interface;
  }
  std::string fabric_port(const Capabilities&, const TopologyHost& host, const TopologyNetwork&) const override {
    return Lab::fabric_nic_port(host.name);
  }
  // Geneve, as VXLAN on the OVS backend, leaves ovs-vswitchd's userspace
  // datapath.
  Status learn_tunnel_neighbours(LabHost& host, const std::map<std::string, std::string>& endpoints) const override {
    return learn_ovs_tunnel_neighbours(host, endpoints);
  }
  // iface-id = the logical switch port's name (neutron's port id):
  // ovn-controller claims it if the port may bind here.
  Status plug_peer(LabHost& host, const TopologyPeer& peer, const std::string& tap) const override {
    return plug_on_br_int(host, peer, tap);
  }
  // No firewall driver: security groups are OVN ACLs.
  void configure(core::HostConfig& config, LabHost& host, const Topology& topology) const override {
    config.firewall_driver = "ovn";
    config.datapath_type = host.ovs->options().datapath_type;
    config.bridge_mappings = ovs_bridge_mappings(topology);
    config.ovs = &host.ovs->database();
    config.links = host.net.get();
    config.ovn.encap_type = "geneve";
    config.ovn.encap_ip = host.spec.tunnel->local_ip;
  }

 private:
  // ovn-bridge-mappings: "physnet1:br-ex[,physnet2:br-ex]".
  static std::string ovn_bridge_mappings(const Topology& topology) {
    std::string out;
    for (const auto& [physnet, bridge] : ovs_bridge_mappings(topology))
      out += (out.empty() ? "" : ",") + physnet + ":" + bridge;
    return out;
  }
  // Until the southbound database has chassis 'host' (bounded; the error
  // names ovn-controller's log).
  static Status wait_for_chassis(OvnCentral& central, LabHost& host, const std::string& log_dir) {
    const std::string& name = host.spec.name;
    std::string last;
    bool registered = wait_until(
        [&] {
          auto out = central.sbctl({"--bare", "--columns=name", "find", "Chassis", "name=" + name});
          last = out.ok() ? *out : out.status().to_string();
          return (out.ok() && out->find(name) != std::string::npos) || !host.ovn->healthy();
        },
        std::chrono::seconds(10), std::chrono::milliseconds(10));
    if (registered && host.ovn->healthy()) return ok_status();
    return environment_error("chassis " + name + " did not register in the southbound database (" +
                             (host.ovn->healthy() ? "last answer: '" + last + "'" : "ovn-controller died") +
                             "; see " + log_dir + "/ovn-controller.log)");
  }
};

}  // namespace

const LabBackend& lab_backend(core::Backend backend) {
  static const LinuxBridgeLabBackend linuxbridge;
  static const OvsLabBackend openvswitch;
  static const OvnLabBackend ovn;
  switch (backend) {
    case core::Backend::kLinuxBridge: return linuxbridge;
    case core::Backend::kOpenVswitch: return openvswitch;
    case core::Backend::kOvn: return ovn;
  }
  return linuxbridge;
}

}  // namespace lmh::harness
