#include "harness/system/capabilities.h"

#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netns.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"

namespace lmh::harness {

namespace {

bool path_exists(const char* p) {
  struct stat st;
  return ::stat(p, &st) == 0;
}

// Adds a netem qdisc on 'dev' through libnl; ok when the kernel has sch_netem.
Status try_netem(int netns_fd, const std::string& dev) {
  ScopedNetns in(netns_fd);
  if (!in.ok()) return in.status();
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return internal_error("nl_socket_alloc");
  Status result;
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    result = internal_error(nl_geterror(err));
  } else {
    rtnl_qdisc* q = rtnl_qdisc_alloc();
    rtnl_tc_set_ifindex(TC_CAST(q), static_cast<int>(if_nametoindex(dev.c_str())));
    rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
    rtnl_tc_set_kind(TC_CAST(q), "netem");
    rtnl_netem_set_delay(q, 1000);
    int add_err = rtnl_qdisc_add(sk, q, NLM_F_CREATE);
    if (add_err < 0) result = environment_error(nl_geterror(add_err));
    rtnl_qdisc_put(q);
  }
  nl_socket_free(sk);
  return result;
}

Status try_pcap(int netns_fd, const std::string& dev) {
  ScopedNetns in(netns_fd);
  if (!in.ok()) return in.status();
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(dev.c_str(), err);
  if (!p) return environment_error(err);
  pcap_set_immediate_mode(p, 1);
  int rc = pcap_activate(p);
  Status s = rc < 0 ? environment_error(pcap_geterr(p)) : ok_status();
  pcap_close(p);
  return s;
}

}  // namespace

std::vector<std::string> Capabilities::blocking_for_emulated_tier() const {
  std::vector<std::string> out;
  for (const auto& c : list) {
    if (c.available) continue;
    if (c.name == "root" || c.name == "netns" || c.name == "veth" || c.name == "linux-bridge" ||
        c.name == "libpcap" || c.name == "ovs-userspace")
      out.push_back(c.name + ": " + c.detail);
  }
  return out;
}

Capabilities probe_capabilities(const std::string& scratch_ns) {
  Capabilities caps;
  auto add = [&](std::string name, bool ok, std::string detail, std::string fallback = "") {
    caps.list.push_back({std::move(name), ok, std::move(detail), ok ? "" : std::move(fallback)});
    return ok;
  };
  caps.root = ::geteuid() == 0;
  add("root", caps.root, caps.root ? "running as root" : "not root: namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN");

  (void)delete_named_netns(scratch_ns);
  auto ns = NamedNetns::create(scratch_ns);
  bool have_ns = add("netns", ns.ok(), ns.ok() ? "named network namespaces" : ns.status().message());
  std::unique_ptr<Netlink> nl;
  if (have_ns) {
    auto n = Netlink::open(ns->fd());
    if (n.ok()) nl = std::move(n).value();
  }
  bool veth = nl && nl->create_veth("p0", "p1").ok() && nl->set_up("p0").ok() && nl->set_up("p1").ok();
  add("veth", veth, veth ? "veth pairs" : "cannot create veth pairs");
  bool bridge = nl && nl->create_bridge("br0").ok();
  add("linux-bridge", bridge, bridge ? "Linux bridge" : "cannot create a Linux bridge");

  if (veth) {
    Status v = nl->create_vlan("p0.100", "p0", 100);
    caps.vlan_8021q = v.ok();
    add("8021q", v.ok(), v.ok() ? "802.1Q VLAN devices" : v.message(),
        "<phys>.<vlan> is a veth of that name to a fabric access port of the VLAN");
  } else {
    add("8021q", false, "not probed (no veth)", "<phys>.<vlan> as veth to a fabric access port");
  }
  if (nl) {
    Status v = nl->create_vlan_filtering_bridge("brvf");
    caps.bridge_vlan_filtering = v.ok();
    add("bridge-vlan-filtering", v.ok(), v.ok() ? "bridge vlan_filtering=1" : v.message(),
        "the fabric is an Open vSwitch userspace bridge (it is in any case)");
  }
  if (nl) {
    // Unicast mode as the linuxbridge agent with l2population creates it.
    // Up too: that is when the kernel opens the device's UDP socket.
    Status v = nl->create_vxlan({.name = "vxlan-42", .vni = 42, .local_ip = "198.18.0.1", .dstport = 4789});
    if (v.ok()) v = nl->set_up("vxlan-42");
    caps.vxlan = v.ok();
    add("vxlan", v.ok(), v.ok() ? "VXLAN devices" : v.message(),
        "the linuxbridge backend's tunnel (vxlan) networks cannot be built");
  } else {
    add("vxlan", false, "not probed (no namespace)");
  }
  if (veth) {
    Status v = try_netem(ns->fd(), "p1");
    caps.netem = v.ok();
    add("netem", v.ok(), v.ok() ? "sch_netem qdisc" : v.message(),
        "link delay/loss faults are not available (faults act on the flow, the fabric port and the daemons instead)");
    Status p = try_pcap(ns->fd(), "p0");
    caps.libpcap = p.ok();
    add("libpcap", p.ok(), p.ok() ? pcap_lib_version() : p.message());
  } else {
    add("netem", false, "not probed (no veth)");
    add("libpcap", false, "not probed (no veth)");
  }
  caps.ovs_kernel = path_exists("/sys/module/openvswitch");
  add("ovs-kernel-datapath", caps.ovs_kernel,
      caps.ovs_kernel ? "openvswitch module loaded" : "openvswitch kernel module not loaded",
      "Open vSwitch bridges use datapath_type=netdev (userspace)");
  caps.ovs_userspace = !find_program("ovs-vswitchd").empty() && !find_program("ovsdb-server").empty();
  add("ovs-userspace", caps.ovs_userspace,
      caps.ovs_userspace ? "ovs-vswitchd and ovsdb-server found" : "openvswitch-switch not installed");
  caps.ovn = !find_program("ovn-northd").empty() && !find_program("ovn-controller").empty();
  if (caps.ovn) {
    // "ovn-controller 23.03.1" on the first line.
    auto v = run_command({"ovn-controller", "--version"}, std::chrono::seconds(5));
    if (v.ok() && v->exit_code == 0) {
      std::string first = v->out.substr(0, v->out.find('\n'));
      caps.ovn_version = first.substr(first.rfind(' ') + 1);
    }
  }
  add("ovn", caps.ovn,
      caps.ovn ? "ovn-northd and ovn-controller " + (caps.ovn_version.empty() ? std::string("(version unknown)")
                                                                             : caps.ovn_version) +
                     " found"
               : "ovn-central or ovn-host not installed");
  caps.kvm_device = path_exists("/dev/kvm");
  add("kvm", caps.kvm_device,
      caps.kvm_device ? "/dev/kvm present (whether it boots a guest is probed by the libvirt tier)"
                      : "/dev/kvm absent",
      "QEMU under TCG (libvirt tier); the emulated tier needs neither");
  nl.reset();
  if (ns.ok()) ns->destroy();
  return caps;
}

}  // namespace lmh::harness
