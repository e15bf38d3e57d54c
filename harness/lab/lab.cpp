#include "harness/lab/lab.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/fault_hooks.h"
#include "core/names.h"
#include "harness/lab/lab_backend.h"
#include "harness/system/files.h"
#include "harness/system/sysctl.h"

namespace lmh::harness {

namespace fs = std::filesystem;

namespace {

using faults::ActionKind;

// The lab's faults at switchover (Lab::switchover_faults).
const auto kFabricPort = faults::define_fault_point({
    .name = "fabric.port",
    .description = "the destination host's fabric switch port at switchover (delay: down for MS; drop: down for "
                   "good)",
    .actions = {ActionKind::kDelay, ActionKind::kDrop},
    .phase = faults::MigrationPhase::kPerform,
});
const auto kOvsVswitchd = faults::define_fault_point({
    .name = "ovs.vswitchd",
    .description = "a host's ovs-vswitchd daemon (crash: killed at switchover)",
    .actions = {ActionKind::kCrash},
    .phase = faults::MigrationPhase::kPerform,
    .needs_backend = "openvswitch",
});
const auto kOvnNorthd = faults::define_fault_point({
    .name = "ovn.northd",
    .description = "ovn-northd at switchover (delay: stopped for MS, so the southbound database does not follow the "
                   "northbound; crash: killed for good)",
    .actions = {ActionKind::kDelay, ActionKind::kCrash},
    .phase = faults::MigrationPhase::kPerform,
    .needs_backend = "ovn",
});
const auto kOvnController = faults::define_fault_point({
    .name = "ovn.controller",
    .description = "the destination's ovn-controller at switchover (delay: stopped for MS, slow to claim the port "
                   "and to handle its RARP; crash: killed for good)",
    .actions = {ActionKind::kDelay, ActionKind::kCrash},
    .phase = faults::MigrationPhase::kPerform,
    .needs_backend = "ovn",
});

// A daemon of the lab stopped (SIGSTOP) for 'd.delay' and then continued,
// or killed (crash), as a fault at 'point' says; 'what' names it.
void stop_or_kill(pid_t pid, const faults::Decision& d, const std::string& source, const std::string& what,
                  core::EventLoop& loop, core::Timeline& timeline) {
  if (pid <= 0) return;
  if (d.kind == ActionKind::kCrash) {
    ::kill(pid, SIGKILL);
    timeline.record(source, what + " (pid " + std::to_string(pid) + ") killed");
    return;
  }
  ::kill(pid, SIGSTOP);
  timeline.record(source, what + " (pid " + std::to_string(pid) + ") stopped");
  loop.post_after(d.delay, [pid, source, what, &timeline] {
    ::kill(pid, SIGCONT);
    timeline.record(source, what + " (pid " + std::to_string(pid) + ") continued");
  });
}

}  // namespace

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

// VXLAN as neutron's linuxbridge agent drives it, over netlink in the host's
// namespace. One difference: the outer UDP checksum is zero (`noudpcsum`,
// which RFC 7348 recommends). With it on, the kernel leaves the checksum for
// the NIC veth's TX offload to finish, the fabric's userspace switch
// forwards it unfinished, and the receiving host drops every packet
// (UDP InCsumErrors).
Status LabHostNetwork::ensure_vxlan_interface(const core::VxlanDevice& d) {
  if (!nl_->exists(d.name)) {
    if (d.vni < 0 || d.dstport < 0 || d.dstport > 65535)
      return invalid_argument("bad VNI or dstport for vxlan " + d.name);
    VxlanConfig config{.name = d.name,
                       .vni = static_cast<uint32_t>(d.vni),
                       .local_ip = d.local_ip,
                       .group = d.group,
                       .underlay = d.underlay,
                       .dstport = static_cast<uint16_t>(d.dstport),
                       .proxy = d.proxy,
                       .udp_csum = false};
    LMH_RETURN_IF_ERROR(nl_->create_vxlan(config));
  }
  return nl_->set_up(d.name);
}

Status LabHostNetwork::fdb_add(const std::string& device, const core::VxlanFdbEntry& entry, bool append) {
  return append ? nl_->fdb_append(device, entry.mac, entry.dst_ip) : nl_->fdb_replace(device, entry.mac, entry.dst_ip);
}

Status LabHostNetwork::fdb_delete(const std::string& device, const core::VxlanFdbEntry& entry) {
  return nl_->fdb_delete(device, entry.mac, entry.dst_ip);
}

// What `bridge fdb show dev <device>` lists with a destination: the agent's
// permanent entries and those the kernel learned (neutron leaves learning on).
StatusOr<std::vector<core::VxlanFdbEntry>> LabHostNetwork::fdb_entries(const std::string& device) {
  auto records = nl_->fdb_entries(device);
  if (!records.ok()) return records.status();
  std::vector<core::VxlanFdbEntry> out;
  for (const auto& r : *records) out.push_back({r.mac, r.dst_ip});
  return out;
}

Status LabHostNetwork::neigh_replace(const std::string& device, const std::string& ip, const std::string& mac) {
  return nl_->neigh_replace(device, ip, mac);
}

Status LabHostNetwork::neigh_delete(const std::string& device, const std::string& ip) {
  return nl_->neigh_delete(device, ip);
}

Status LabHostNetwork::create_veth_pair(const std::string& a, const std::string& b) {
  if (nl_->exists(a) || nl_->exists(b)) return {StatusCode::kAlreadyExists, "link " + a + " or " + b + " exists"};
  return nl_->create_veth(a, b);
}

Status LabHostNetwork::delete_link(const std::string& name) { return nl_->delete_link(name); }

// ---------------------------------------------------------------- Lab

void Lab::switchover_faults(const std::string& destination, faults::FaultPlan* faults, core::EventLoop& loop,
                            core::Timeline& timeline) {
  // fabric.port: the destination's switch ports go down as the guest
  // switches over (a flapping port, a cable): for 'delay' ms, or for good.
  faults::Decision d = core::consult_fault(faults, timeline, kFabricPort);
  if (d.fires()) {
    std::vector<std::string> ports;
    for (const auto& n : topology_.networks) {
      std::string port = fabric_uplink_port(destination, n.id);
      if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
    }
    for (const std::string& port : ports) {
      Status down = fabric_nl_->set_up(port, false);
      timeline.record("fabric", "port " + port + (down.ok() ? " down" : " down failed: " + down.message()));
      if (down.ok() && d.kind == faults::ActionKind::kDelay) {
        loop.post_after(d.delay, [this, port, &timeline] {
          Status up = fabric_nl_->set_up(port, true);
          timeline.record("fabric", "port " + port + (up.ok() ? " up" : " up failed: " + up.message()));
        });
      }
    }
  }
  // ovn.northd / ovn.controller: OVN's translation, or the destination
  // chassis, stalls (or dies) as the guest arrives.
  LabHost* h = host(destination);
  if (ovn_central_) {
    faults::Decision northd = core::consult_fault(faults, timeline, kOvnNorthd);
    if (northd.fires()) stop_or_kill(ovn_central_->northd_pid(), northd, "ovn", "ovn-northd", loop, timeline);
  }
  if (h && h->ovn) {
    faults::Decision controller = core::consult_fault(faults, timeline, kOvnController);
    if (controller.fires())
      stop_or_kill(h->ovn->pid(), controller, "ovn." + destination, "ovn-controller", loop, timeline);
  }
  // ovs.vswitchd crash: the destination's switch daemon dies as the guest
  // arrives; its bridges stop forwarding and the database stops applying.
  if (!h || !h->ovs) return;
  if (core::consult_fault(faults, timeline, kOvsVswitchd).kind != faults::ActionKind::kCrash) return;
  const pid_t pid = h->ovs->vswitchd_pid();
  h->ovs->kill_vswitchd();
  timeline.record("ovs." + destination, "ovs-vswitchd (pid " + std::to_string(pid) + ") killed");
}

StatusOr<std::unique_ptr<Lab>> Lab::build(const Topology& topology, const std::string& run_id,
                                          const Capabilities& caps) {
  LMH_RETURN_IF_ERROR(topology.validate());
  std::unique_ptr<Lab> lab(new Lab(topology, run_id, caps));
  spdlog::debug("lab {}: building {} hosts, {} networks", lab->state_dir(), topology.hosts.size(),
                topology.networks.size());
  auto t0 = std::chrono::steady_clock::now();
  Status s = lab->build_all();
  if (!s.ok()) {
    spdlog::debug("lab {}: build failed ({}); tearing down", lab->state_dir(), s.message());
    return s.with_context("building the lab");  // 'lab' is torn down here
  }
  spdlog::debug("lab {}: built in {} ms", lab->state_dir(),
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  return lab;
}

Lab::~Lab() {
  spdlog::debug("lab {}: tearing down", state_dir());
  // Members go in reverse order (hosts, OVN central, peers, fabric
  // daemons, fabric ns); do it explicitly so the state directory goes last.
  hosts_.clear();
  ovn_central_.reset();
  ovn_ns_.destroy();
  peer_ns_.clear();
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

std::string Lab::fabric_uplink_port(const std::string& host, const std::string& network_id) const {
  const TopologyHost* h = topology_.host(host);
  const TopologyNetwork* n = topology_.network(network_id);
  if (!h || !n) return fabric_nic_port(host);
  return lab_backend(h->backend).fabric_port(caps_, *h, *n);
}

std::string Lab::uplink_name(const std::string& host, const std::string& network_id) const {
  const TopologyHost* h = topology_.host(host);
  const TopologyNetwork* n = topology_.network(network_id);
  if (!h || !n) return "eth1";
  return lab_backend(h->backend).uplink_name(*h, *n);
}

StatusOr<NamedNetns> Lab::make_namespace(const std::string& suffix) {
  auto ns = NamedNetns::create(prefix() + "-" + suffix);
  if (!ns.ok()) return ns.status();
  spdlog::debug("lab: namespace {}-{} created", prefix(), suffix);
  // No IPv6: router solicitations and DAD from lab devices would re-teach
  // the fabric at random times and blur what the scenario measures.
  (void)write_sysctl(ns->fd(), "net/ipv6/conf/all/disable_ipv6", "1");
  (void)write_sysctl(ns->fd(), "net/ipv6/conf/default/disable_ipv6", "1");
  return ns;
}

Status Lab::create_vlan_uplink_veth(LabHost& host, const std::string& physical, int vlan) {
  std::string name = core::vlan_interface_name(physical, vlan);
  std::string fabric_port = fabric_vlan_port(host.spec.name, vlan);
  LMH_RETURN_IF_ERROR(host.net->netlink().create_veth(name, fabric_port, fabric_ns_.fd()));
  LMH_RETURN_IF_ERROR(fabric_nl_->set_up(fabric_port));
  return fabric_->add_access_port(fabric_port, vlan);
}

Status Lab::build_all() {
  std::error_code ec;
  fs::create_directories(fs::path(state_dir()).parent_path(), ec);
  if (ec) return environment_error("create " + state_dir() + ": " + ec.message());
  // The lab id is the run id and the scenario's number, so "--run-id a1"'s
  // first lab and "--run-id a"'s eleventh are both "a11": the directory is
  // the claim, and a live owner keeps it.
  if (::mkdir(state_dir().c_str(), 0755) != 0) {
    if (errno != EEXIST) return environment_error("create " + state_dir() + ": " + std::strerror(errno));
    const pid_t owner = read_pid_file(state_dir() + "/owner.pid");
    if (owner > 0 && owner != ::getpid() && ::kill(owner, 0) == 0)
      return failed_precondition("lab " + run_id_ + " belongs to a running lmh (pid " + std::to_string(owner) +
                                 "): its run id and scenario number spell the same name as this one's; choose "
                                 "another --run-id");
  }
  state_dir_made_ = true;
  std::ofstream(state_dir() + "/owner.pid") << ::getpid() << "\n";

  // Fabric.
  auto fns = make_namespace("fabric");
  if (!fns.ok()) return fns.status();
  fabric_ns_ = std::move(fns).value();
  auto fnl = Netlink::open(fabric_ns_.fd());
  if (!fnl.ok()) return fnl.status();
  fabric_nl_ = std::move(fnl).value();
  auto fabric = OvsFabric::start({state_dir(), fabric_ns_.fd(), "fabric", topology_.fabric_mac_ageing_s});
  if (!fabric.ok()) return fabric.status();
  fabric_ = std::move(fabric).value();
  for (const auto& peer : topology_.peers)
    if (peer.host.empty()) LMH_RETURN_IF_ERROR(build_peer(peer));
  if (topology_.has_ovn()) LMH_RETURN_IF_ERROR(build_ovn_central());
  for (const auto& host : topology_.hosts) LMH_RETURN_IF_ERROR(build_host(host));
  // Peers on a host plug into it like a VM: after the hosts.
  for (const auto& peer : topology_.peers)
    if (!peer.host.empty()) LMH_RETURN_IF_ERROR(build_peer(peer));
  return learn_tunnel_neighbours();
}

Status Lab::learn_tunnel_neighbours() {
  std::map<std::string, std::string> endpoints;  // local_ip -> MAC
  for (auto& [name, h] : hosts_) {
    if (h.tunnel_device.empty()) continue;
    auto mac = h.net->netlink().mac_of(h.tunnel_device);
    if (!mac.ok()) return mac.status().with_context("tunnel endpoint of " + name);
    endpoints[h.spec.tunnel->local_ip] = *mac;
  }
  for (auto& [name, h] : hosts_)
    if (!h.tunnel_device.empty()) LMH_RETURN_IF_ERROR(lab_backend(h.spec.backend).learn_tunnel_neighbours(h, endpoints));
  return ok_status();
}

// ML2/OVN's control plane in a namespace of its own, as on a controller
// node: it needs no network, the chassis reach it over unix sockets.
Status Lab::build_ovn_central() {
  auto ns = make_namespace("ovn");
  if (!ns.ok()) return ns.status();
  ovn_ns_ = std::move(ns).value();
  auto central = OvnCentral::start({state_dir() + "/ovn-central", ovn_ns_.fd()});
  if (!central.ok()) return central.status().with_context("OVN central daemons");
  ovn_central_ = std::move(central).value();
  return ok_status();
}

// A peer: a namespace whose eth0 is an access port of its network's VLAN
// (a trunk port for a flat network), or the other end of a tap on its host,
// with the neighbour timers given.
Status Lab::build_peer(const TopologyPeer& peer) {
  const TopologyNetwork& net = *topology_.network(peer.network_id);
  auto pns = make_namespace(peer.name);
  if (!pns.ok()) return pns.status();
  const int fd = pns->fd();
  peer_ns_.emplace(peer.name, std::move(pns).value());
  auto pnl = Netlink::open(fd);
  if (!pnl.ok()) return pnl.status();
  LabHost* on_host = peer.host.empty() ? nullptr : host(peer.host);
  const std::string tap = core::tap_name(peer.port_id);
  if (on_host) {
    LMH_RETURN_IF_ERROR((*pnl)->create_veth("eth0", tap, on_host->ns.fd()));
    LMH_RETURN_IF_ERROR((*pnl)->set_mac("eth0", peer.mac));
  } else {
    LMH_RETURN_IF_ERROR((*pnl)->create_veth("eth0", peer.name, fabric_ns_.fd()));
  }
  const NeighTimers& n = peer.neigh;
  const std::string base = "net/ipv4/neigh/eth0/";
  LMH_RETURN_IF_ERROR(write_sysctl(fd, base + "base_reachable_time_ms", std::to_string(n.base_reachable_time_ms)));
  LMH_RETURN_IF_ERROR(write_sysctl(fd, base + "delay_first_probe_time", std::to_string(n.delay_first_probe_time_s)));
  LMH_RETURN_IF_ERROR(write_sysctl(fd, base + "retrans_time_ms", std::to_string(n.retrans_time_ms)));
  LMH_RETURN_IF_ERROR(write_sysctl(fd, base + "ucast_solicit", std::to_string(n.ucast_solicit)));
  LMH_RETURN_IF_ERROR(write_sysctl(fd, base + "mcast_solicit", std::to_string(n.mcast_solicit)));
  LMH_RETURN_IF_ERROR((*pnl)->add_address("eth0", peer.ip + net.prefix_length()));
  LMH_RETURN_IF_ERROR((*pnl)->set_up("eth0"));
  // On a host the tap waits for the host's agent, as a VM's does.
  if (on_host) {
    LMH_RETURN_IF_ERROR(on_host->net->netlink().set_up(tap));
    return lab_backend(on_host->spec.backend).plug_peer(*on_host, peer, tap);
  }
  LMH_RETURN_IF_ERROR(fabric_nl_->set_up(peer.name));
  return net.fabric_vlan() ? fabric_->add_access_port(peer.name, net.fabric_vlan())
                           : fabric_->add_trunk_port(peer.name);
}

// A compute host: a namespace with its NIC as a trunk to the fabric; an OVS
// host's own Open vSwitch; on the real tier, its own libvirtd.
Status Lab::build_host(const TopologyHost& spec) {
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
  LMH_RETURN_IF_ERROR(lab_backend(spec.backend).build(*this, h));
  if (topology_.libvirt) {
    LibvirtHost::Options lo;
    lo.name = prefix() + "-" + spec.name;
    lo.netns_fd = h.ns.fd();
    lo.state_dir = state_dir() + "/libvirt-" + spec.name;
    lo.cache_dir = topology_.libvirt_cache_dir;
    if (h.ovs) lo.ovs_run_dir = h.ovs->daemons().run_dir();
    auto libvirt = LibvirtHost::start(lo);
    if (!libvirt.ok()) return libvirt.status().with_context("libvirtd on " + spec.name);
    h.libvirt = std::move(libvirt).value();
  }
  hosts_.emplace(spec.name, std::move(h));
  return ok_status();
}

Status Lab::build_vlan_underlay(LabHost& h) {
  const std::string& phys = h.spec.physical_interface;
  const int vlan = topology_.underlay.vlan;
  const std::string name = core::vlan_interface_name(phys, vlan);
  if (caps_.vlan_8021q) LMH_RETURN_IF_ERROR(h.net->netlink().create_vlan(name, phys, vlan));
  else LMH_RETURN_IF_ERROR(create_vlan_uplink_veth(h, phys, vlan));
  LMH_RETURN_IF_ERROR(h.net->netlink().add_address(name, h.spec.tunnel->local_ip + topology_.underlay.prefix_length));
  h.tunnel_device = name;
  return h.net->netlink().set_up(name);
}

}  // namespace lmh::harness
