#include "harness/lab.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/fault_hooks.h"
#include "core/names.h"
#include "harness/libvirt_hypervisor.h"
#include "harness/sysctl.h"

namespace lmh::harness {

namespace fs = std::filesystem;

std::string run_prefix(const std::string& run_id) { return "lmh-" + run_id; }

std::string new_run_id() {
  std::random_device rd;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06x", static_cast<unsigned>(rd()) & 0xffffff);
  return buf;
}

// ---------------------------------------------------------------- LabHostNetwork

StatusOr<std::vector<std::string>> LabHostNetwork::list_links(const std::string& prefix) {
  return nl_->list(prefix);
}

bool LabHostNetwork::link_exists(const std::string& name) { return nl_->exists(name); }

Status LabHostNetwork::ensure_bridge(const std::string& name) {
  Status s = nl_->create_bridge(name);
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
  return nl_->set_up(name);
}

Status LabHostNetwork::ensure_vlan_interface(const std::string& physical, int vlan) {
  std::string name = core::vlan_interface_name(physical, vlan);
  if (!nl_->exists(name)) {
    if (lab_.capabilities().vlan_8021q) {
      LMH_RETURN_IF_ERROR(nl_->create_vlan(name, physical, vlan));
    } else {
      LabHost* h = lab_.host(host_);
      if (!h) return internal_error("unknown lab host " + host_);
      LMH_RETURN_IF_ERROR(lab_.create_vlan_uplink_veth(*h, physical, vlan));
    }
  }
  return nl_->set_up(name);
}

Status LabHostNetwork::set_master(const std::string& device, const std::string& bridge) {
  return nl_->set_master(device, bridge);
}

StatusOr<std::string> LabHostNetwork::master_of(const std::string& device) {
  return nl_->master_of(device);
}

Status LabHostNetwork::set_up(const std::string& device) { return nl_->set_up(device); }

Status LabHostNetwork::create_veth_pair(const std::string& a, const std::string& b) {
  if (nl_->exists(a) || nl_->exists(b)) return {StatusCode::kAlreadyExists, "link " + a + " or " + b + " exists"};
  return nl_->create_veth(a, b);
}

Status LabHostNetwork::delete_link(const std::string& name) { return nl_->delete_link(name); }

// ---------------------------------------------------------------- Lab

void Lab::switchover_faults(const std::string& destination, faults::FaultPlan* faults, core::EventLoop& loop,
                            core::Timeline& timeline) {
  // fabric.port: the destination's switch port goes down as the guest
  // switches over (a flapping port, a cable): for 'delay' ms, or for good.
  faults::Decision d = core::consult_fault(faults, timeline, "fabric.port");
  if (d.fires()) {
    const std::string port = fabric_uplink_port(destination);
    Status down = fabric_nl_->set_up(port, false);
    timeline.record("fabric", "port " + port + (down.ok() ? " down" : " down failed: " + down.message()));
    if (down.ok() && d.kind == faults::ActionKind::kDelay) {
      loop.post_after(d.delay, [this, port, &timeline] {
        Status up = fabric_nl_->set_up(port, true);
        timeline.record("fabric", "port " + port + (up.ok() ? " up" : " up failed: " + up.message()));
      });
    }
  }
  // ovs.vswitchd crash: the destination's switch daemon dies as the guest
  // arrives; its bridges stop forwarding and the database stops applying.
  LabHost* h = host(destination);
  if (!h || !h->ovs) return;
  if (core::consult_fault(faults, timeline, "ovs.vswitchd").kind != faults::ActionKind::kCrash) return;
  const pid_t pid = h->ovs->vswitchd_pid();
  h->ovs->kill_vswitchd();
  timeline.record("ovs." + destination, "ovs-vswitchd (pid " + std::to_string(pid) + ") killed");
}

StatusOr<std::unique_ptr<Lab>> Lab::build(const Scenario& scenario, const std::string& run_id,
                                          const Capabilities& caps) {
  std::unique_ptr<Lab> lab(new Lab(scenario, run_id, caps));
  Status s = lab->build_all();
  if (!s.ok()) return s.with_context("building the lab");  // 'lab' is torn down here
  return lab;
}

Lab::~Lab() {
  // Members go in reverse order (hosts, peer, fabric daemons, fabric ns);
  // do it explicitly so the state directory goes last.
  hosts_.clear();
  peer_ns_.destroy();
  fabric_.reset();
  fabric_nl_.reset();
  fabric_ns_.destroy();
  if (state_dir_made_) {
    std::error_code ec;
    fs::remove_all(state_dir(), ec);
  }
}

LabHost* Lab::host(const std::string& name) {
  auto it = hosts_.find(name);
  return it == hosts_.end() ? nullptr : &it->second;
}

std::string Lab::fabric_uplink_port(const std::string& host) const {
  // An OVS host tags on its NIC itself (br-ex): the trunk carries the VLAN.
  const HostSpec* h = scenario_.host(host);
  if (h && h->backend == core::Backend::kOpenVswitch) return fabric_nic_port(host);
  if (scenario_.network.type == "vlan" && !caps_.vlan_8021q)
    return host + "-v" + std::to_string(scenario_.network.segmentation_id);
  return fabric_nic_port(host);
}

std::string Lab::uplink_name(const std::string& host) {
  const HostSpec* h = scenario_.host(host);
  std::string phys = h ? h->physical_interface : "eth1";
  if (h && h->backend == core::Backend::kOpenVswitch) return phys;  // br-ex's NIC, frames tagged
  if (scenario_.network.type == "vlan") return core::vlan_interface_name(phys, scenario_.network.segmentation_id);
  return phys;
}

StatusOr<NamedNetns> Lab::make_namespace(const std::string& suffix) {
  auto ns = NamedNetns::create(prefix() + "-" + suffix);
  if (!ns.ok()) return ns.status();
  // No IPv6: router solicitations and DAD from lab devices would re-teach
  // the fabric at random times and blur what the scenario measures.
  (void)write_sysctl(ns->fd(), "net/ipv6/conf/all/disable_ipv6", "1");
  (void)write_sysctl(ns->fd(), "net/ipv6/conf/default/disable_ipv6", "1");
  return ns;
}

Status Lab::create_vlan_uplink_veth(LabHost& host, const std::string& physical, int vlan) {
  std::string name = core::vlan_interface_name(physical, vlan);
  std::string fabric_port = host.spec.name + "-v" + std::to_string(vlan);
  LMH_RETURN_IF_ERROR(host.net->netlink().create_veth(name, fabric_port, fabric_ns_.fd()));
  LMH_RETURN_IF_ERROR(fabric_nl_->set_up(fabric_port));
  return fabric_->add_access_port(fabric_port, vlan);
}

Status Lab::build_all() {
  std::error_code ec;
  fs::create_directories(state_dir(), ec);
  if (ec) return environment_error("create " + state_dir() + ": " + ec.message());
  state_dir_made_ = true;
  std::ofstream(state_dir() + "/owner.pid") << ::getpid() << "\n";

  // Fabric.
  auto fns = make_namespace("fabric");
  if (!fns.ok()) return fns.status();
  fabric_ns_ = std::move(fns).value();
  auto fnl = Netlink::open(fabric_ns_.fd());
  if (!fnl.ok()) return fnl.status();
  fabric_nl_ = std::move(fnl).value();
  auto fabric = OvsFabric::start({state_dir(), fabric_ns_.fd(), "fabric", scenario_.fabric.mac_ageing_s});
  if (!fabric.ok()) return fabric.status();
  fabric_ = std::move(fabric).value();

  const bool vlan = scenario_.network.type == "vlan";
  const int vid = scenario_.network.segmentation_id;
  std::string prefix_len = scenario_.network.cidr.substr(scenario_.network.cidr.find('/'));

  // Peer (the gateway that pings the guest).
  auto pns = make_namespace("peer");
  if (!pns.ok()) return pns.status();
  peer_ns_ = std::move(pns).value();
  {
    auto pnl = Netlink::open(peer_ns_.fd());
    if (!pnl.ok()) return pnl.status();
    LMH_RETURN_IF_ERROR((*pnl)->create_veth("eth0", "peer", fabric_ns_.fd()));
    const NeighTimers& n = scenario_.peer.neigh;
    const std::string base = "net/ipv4/neigh/eth0/";
    LMH_RETURN_IF_ERROR(write_sysctl(peer_ns_.fd(), base + "base_reachable_time_ms", std::to_string(n.base_reachable_time_ms)));
    LMH_RETURN_IF_ERROR(write_sysctl(peer_ns_.fd(), base + "delay_first_probe_time", std::to_string(n.delay_first_probe_time_s)));
    LMH_RETURN_IF_ERROR(write_sysctl(peer_ns_.fd(), base + "retrans_time_ms", std::to_string(n.retrans_time_ms)));
    LMH_RETURN_IF_ERROR(write_sysctl(peer_ns_.fd(), base + "ucast_solicit", std::to_string(n.ucast_solicit)));
    LMH_RETURN_IF_ERROR(write_sysctl(peer_ns_.fd(), base + "mcast_solicit", std::to_string(n.mcast_solicit)));
    LMH_RETURN_IF_ERROR((*pnl)->add_address("eth0", scenario_.peer.ip + prefix_len));
    LMH_RETURN_IF_ERROR((*pnl)->set_up("eth0"));
    LMH_RETURN_IF_ERROR(fabric_nl_->set_up("peer"));
    LMH_RETURN_IF_ERROR(vlan ? fabric_->add_access_port("peer", vid) : fabric_->add_trunk_port("peer"));
  }

  // Compute hosts: a namespace each, NIC as a trunk to the fabric.
  for (const auto& spec : scenario_.hosts) {
    auto hns = make_namespace(spec.name);
    if (!hns.ok()) return hns.status();
    LabHost h;
    h.spec = spec;
    h.ns = std::move(hns).value();
    auto hnl = Netlink::open(h.ns.fd());
    if (!hnl.ok()) return hnl.status();
    h.net = std::make_unique<LabHostNetwork>(*this, spec.name, h.ns.fd(), std::move(hnl).value());
    std::string port = fabric_nic_port(spec.name);
    LMH_RETURN_IF_ERROR(h.net->netlink().create_veth(spec.physical_interface, port, fabric_ns_.fd()));
    LMH_RETURN_IF_ERROR(h.net->netlink().set_up(spec.physical_interface));
    LMH_RETURN_IF_ERROR(fabric_nl_->set_up(port));
    LMH_RETURN_IF_ERROR(fabric_->add_trunk_port(port));
    if (spec.backend == core::Backend::kOpenVswitch) {
      // The NIC becomes a port of br-ex: VLANs leave it tagged, as from a
      // real compute host's bond.
      OvsHost::Options o;
      o.state_dir = state_dir() + "/ovs-" + spec.name;
      o.netns_fd = h.ns.fd();
      o.datapath_type = caps_.ovs_kernel ? "system" : "netdev";
      o.bridge_mappings = {{scenario_.network.physnet, ovs_physical_bridge()}};
      o.nic_for_bridge = {{ovs_physical_bridge(), spec.physical_interface}};
      auto ovs = OvsHost::start(o);
      if (!ovs.ok()) return ovs.status().with_context("Open vSwitch on " + spec.name);
      h.ovs = std::move(ovs).value();
    }
    if (scenario_.tier == Tier::kLibvirt) {
      // The real guest tier: a libvirtd of the host's own, in its namespace.
      LibvirtHost::Options lo;
      lo.name = prefix() + "-" + spec.name;
      lo.netns_fd = h.ns.fd();
      lo.state_dir = state_dir() + "/libvirt-" + spec.name;
      lo.cache_dir = real_tier_libvirt_cache_dir();
      if (h.ovs) lo.ovs_run_dir = h.ovs->daemons().run_dir();
      auto libvirt = LibvirtHost::start(lo);
      if (!libvirt.ok()) return libvirt.status().with_context("libvirtd on " + spec.name);
      h.libvirt = std::move(libvirt).value();
    }
    hosts_.emplace(spec.name, std::move(h));
  }
  return ok_status();
}

}  // namespace lmh::harness
