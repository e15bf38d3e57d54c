// The OVS agent's tunnel bridge br-tun on a lab host's real Open vSwitch
// (userspace datapath, native VXLAN tunnelling in the host's namespace):
// what OvsHost builds, read back with ovs-vsctl and ovs-ofctl; VXLAN
// traffic between two OVS hosts whose local VLANs differ, carried only once
// the network is provisioned and flooded; l2population's unicast entries
// and ARP responder; reclaim; and interop with a Linux kernel VXLAN device
// (a linuxbridge host) through a fabric switch that carries the underlay in
// VLAN 4000: UDP port 4789 meets, the kernel's default 8472 does not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "capture/prober.h"
#include "core/names.h"
#include "harness/ovs/ovs_fabric.h"
#include "harness/ovs/ovs_host.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"
#include "harness/system/sysctl.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;
using lmh::testing::echo_replies;
using lmh::testing::processes_under;
using lmh::testing::reachable;
using lmh::testing::vsctl;

// Run id "zt<pid>": namespaces "lmh-zt<pid>-…" and state dir /run/lmh/zt<pid>
// (with owner.pid) agree, so a concurrent `lmh cleanup` leaves them alone.
std::string run_id() { return "zt" + std::to_string(::getpid() % 100000); }
std::string ns_name(const std::string& what) { return "lmh-" + run_id() + "-" + what; }
std::string run_dir() { return "/run/lmh/" + run_id(); }

const std::string kIp1 = "198.19.0.11";  // h1's tunnel endpoint
const std::string kIp2 = "198.19.0.12";  // h2's
const std::string kIpLb = "198.19.0.13";  // the linuxbridge host's kernel VXLAN
const int kVni = 100;
const std::string kMac1 = "fa:16:3e:00:01:01";  // vm1 (h1, local VLAN 1)
const std::string kMac2 = "fa:16:3e:00:02:02";  // vm2 (h2, local VLAN 2)
const std::string kVm1 = "10.100.0.1";
const std::string kVm2 = "10.100.0.2";

// h1's port to h2 and h2's to h1, as the agent names them.
const std::string kTo2 = core::ovs_tunnel_port_name(kIp2);  // vxlan-c613000c
const std::string kTo1 = core::ovs_tunnel_port_name(kIp1);  // vxlan-c613000b

// Sorted flows of 'bridge' (dump order is the switch's, not ours).
std::vector<std::string> flows(OvsHost& host, const std::string& bridge) {
  auto f = host.database().dump_flows(bridge);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  std::vector<std::string> out = f.ok() ? *f : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The flows of 'v' containing 'part'.
std::vector<std::string> with(const std::vector<std::string>& v, const std::string& part) {
  std::vector<std::string> out;
  for (const auto& s : v)
    if (s.find(part) != std::string::npos) out.push_back(s);
  return out;
}

class OvsHostTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    if (find_program("ovs-vswitchd").empty()) GTEST_SKIP() << "openvswitch-switch is not installed";
    std::filesystem::create_directories(run_dir());
    std::ofstream(run_dir() + "/owner.pid") << ::getpid() << "\n";
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    hosts_.clear();
    fabric_.reset();
    namespaces_.clear();
    EXPECT_EQ(processes_under(run_dir()), std::vector<std::string>{});
    EXPECT_EQ(list_named_netns(ns_name("")), std::vector<std::string>{}) << "a namespace of the test is left";
    std::error_code ec;
    std::filesystem::remove_all(run_dir(), ec);
  }

  // A namespace of this run (IPv6 off: nothing talks unasked), removed
  // after the test.
  NamedNetns& make_ns(const std::string& what) {
    auto ns = NamedNetns::create(ns_name(what));
    EXPECT_TRUE(ns.ok()) << ns.status().to_string();
    namespaces_.push_back(std::move(ns).value());
    (void)write_sysctl(namespaces_.back().fd(), "net/ipv6/conf/all/disable_ipv6", "1");
    (void)write_sysctl(namespaces_.back().fd(), "net/ipv6/conf/default/disable_ipv6", "1");
    return namespaces_.back();
  }

  // An OVS host in 'ns' whose NIC eth1 is a veth to 'peer' in 'peer_ns',
  // with physnet "provider" on br-ex and its tunnel endpoint 'local_ip' on
  // br-ex's internal port in VLAN 4000.
  OvsHost* start_host(const std::string& name, NamedNetns& ns, int peer_ns, const std::string& peer,
                      const std::string& local_ip) {
    auto nl = std::move(Netlink::open(ns.fd())).value();
    EXPECT_TRUE(nl->create_veth("eth1", peer, peer_ns).ok());
    EXPECT_TRUE(nl->set_up("eth1").ok());
    EXPECT_TRUE(std::move(Netlink::open(peer_ns)).value()->set_up(peer).ok());
    OvsHost::Options o;
    o.state_dir = run_dir() + "/ovs-" + name;
    o.netns_fd = ns.fd();
    o.bridge_mappings = {{"provider", "br-ex"}};
    o.nic_for_bridge = {{"br-ex", "eth1"}};
    o.tunnel = OvsHost::Options::TunnelEndpoint{.local_ip = local_ip};
    auto host = OvsHost::start(o);
    EXPECT_TRUE(host.ok()) << host.status().to_string();
    if (!host.ok()) return nullptr;
    std::printf("[ bring-up ] %s: %lld ms\n", name.c_str(), static_cast<long long>((*host)->bringup_time().count()));
    hosts_.push_back(std::move(host).value());
    return hosts_.back().get();
  }

  // A "VM": namespace 'what' with eth0 ('mac', 'ip'/24), its other end
  // 'port' in 'host_ns' on br-int with local VLAN 'tag'.
  NamedNetns& make_vm(const std::string& what, NamedNetns& host_ns, OvsHost& host, const std::string& port,
                      const std::string& ip, const std::string& mac, int tag) {
    NamedNetns& vm = make_ns(what);
    auto nl = std::move(Netlink::open(vm.fd())).value();
    EXPECT_TRUE(nl->create_veth("eth0", port, host_ns.fd()).ok());
    EXPECT_TRUE(nl->set_mac("eth0", mac).ok());
    EXPECT_TRUE(nl->add_address("eth0", ip + "/24").ok());
    EXPECT_TRUE(nl->set_up("eth0").ok());
    EXPECT_TRUE(std::move(Netlink::open(host_ns.fd())).value()->set_up(port).ok());
    EXPECT_TRUE(host.database().add_port("br-int", port, {{"attached-mac", mac}}, tag).ok());
    return vm;
  }

  // Two OVS hosts whose NICs are the two ends of one veth (the fabric), VM
  // vm1 on h1 in local VLAN 1 and vm2 on h2 in local VLAN 2: nothing of
  // VNI 100 is programmed yet.
  void two_hosts() {
    NamedNetns& n1 = make_ns("h1");
    NamedNetns& n2 = make_ns("h2");
    h1_ = start_host("h1", n1, n2.fd(), "eth1", kIp1);
    ASSERT_TRUE(h1_);
    OvsHost::Options o2 = h1_->options();
    o2.state_dir = run_dir() + "/ovs-h2";
    o2.netns_fd = n2.fd();
    o2.tunnel->local_ip = kIp2;
    auto started = OvsHost::start(o2);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    hosts_.push_back(std::move(started).value());
    h2_ = hosts_.back().get();
    vm1_ = &make_vm("vm1", n1, *h1_, "tapvm1", kVm1, kMac1, 1);
    vm2_ = &make_vm("vm2", n2, *h2_, "tapvm2", kVm2, kMac2, 2);
  }

  // Both hosts: the tunnel port to the other, VNI 100 provisioned on their
  // local VLAN, flooding to the other.
  void connect_hosts() {
    ASSERT_TRUE(h1_->database().add_tunnel_port({kTo2, kIp2, kIp1}).ok());
    ASSERT_TRUE(h2_->database().add_tunnel_port({kTo1, kIp1, kIp2}).ok());
    ASSERT_TRUE(h1_->database().provision_local_vlan(1, "", "vxlan", kVni).ok());
    ASSERT_TRUE(h2_->database().provision_local_vlan(2, "", "vxlan", kVni).ok());
    ASSERT_TRUE(h1_->database().set_flood_to_tunnels(1, kVni, {kTo2}).ok());
    ASSERT_TRUE(h2_->database().set_flood_to_tunnels(2, kVni, {kTo1}).ok());
  }

  std::deque<NamedNetns> namespaces_;  // deque: references stay valid
  std::unique_ptr<OvsFabric> fabric_;
  std::vector<std::unique_ptr<OvsHost>> hosts_;  // stopped before the namespaces go
  OvsHost* h1_ = nullptr;
  OvsHost* h2_ = nullptr;
  NamedNetns* vm1_ = nullptr;
  NamedNetns* vm2_ = nullptr;
};

TEST_F(OvsHostTunnelTest, BuildsTheTunnelBridgeAndItsUnderlay) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  OvsHost* host = start_host("h1", h, fab.fd(), "h1-nic", kIp1);
  ASSERT_TRUE(host);
  const std::string sock = host->daemons().db_socket();
  EXPECT_EQ(vsctl(sock, {"list-br"}), "br-ex\nbr-int\nbr-tun");
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-int"}), "int-br-ex\npatch-tun");
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-tun"}), "patch-int");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "patch-tun", "type", "options:peer"}), "patch\npatch-int");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "patch-int", "type", "options:peer"}), "patch\npatch-tun");
  EXPECT_EQ(vsctl(sock, {"get", "Bridge", "br-tun", "fail_mode", "datapath_type"}), "secure\nnetdev");
  // The underlay: br-ex's internal port is an access port of VLAN 4000, the
  // NIC stays a trunk, and ovs-vswitchd routes the subnet out of br-ex.
  EXPECT_EQ(vsctl(sock, {"get", "Port", "br-ex", "tag"}), "4000");
  EXPECT_EQ(vsctl(sock, {"get", "Port", "eth1", "tag"}), "[]");
  auto routes = run_checked({"ovs-appctl", "-t", host->daemons().vswitchd_ctl(), "ovs/route/show"});
  ASSERT_TRUE(routes.ok()) << routes.status().to_string();
  EXPECT_NE(routes->find("198.19.0.0/24 dev br-ex SRC 198.19.0.11"), std::string::npos) << *routes;

  std::vector<std::string> expected = {
      "priority=1,in_port=\"patch-int\" actions=resubmit(,2)",
      "priority=0 actions=drop",
      "table=2, priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=resubmit(,21)",
      "table=2, priority=0,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,20)",
      "table=2, priority=0,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,22)",
      "table=3, priority=0 actions=drop",
      "table=4, priority=0 actions=drop",
      "table=6, priority=0 actions=drop",
      "table=10, priority=1 actions=learn(table=20,hard_timeout=300,priority=1,NXM_OF_VLAN_TCI[0..11],"
      "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
      "output:OXM_OF_IN_PORT[]),output:\"patch-int\"",
      "table=20, priority=0 actions=resubmit(,22)",
      "table=21, priority=0 actions=resubmit(,22)",
      "table=22, priority=0 actions=drop",
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(flows(*host, "br-tun"), expected);
  // br-int forwards patch-tun's frames (NORMAL); only the physical patch drops.
  EXPECT_EQ(flows(*host, "br-int"),
            (std::vector<std::string>{"priority=0 actions=NORMAL", "priority=2,in_port=\"int-br-ex\" actions=drop"}));
}

// VNI 100 joins local VLAN 1 on h1 and local VLAN 2 on h2, but only with
// all of it: tunnel ports alone, or provisioned without flooding, carry
// nothing (the first ARP request is dropped in table 22).
TEST_F(OvsHostTunnelTest, VxlanCarriesTrafficOnlyOnceProvisionedAndFlooded) {
  two_hosts();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(echo_replies(vm1_->fd(), kVm2, 500ms), 0) << "nothing of VNI 100 is programmed";

  ASSERT_TRUE(h1_->database().add_tunnel_port({kTo2, kIp2, kIp1}).ok());
  ASSERT_TRUE(h2_->database().add_tunnel_port({kTo1, kIp1, kIp2}).ok());
  const std::string sock = h1_->daemons().db_socket();
  EXPECT_EQ(vsctl(sock, {"get", "Interface", kTo2, "type", "options"}),
            "vxlan\n{df_default=\"true\", dst_port=\"4789\", in_key=flow, local_ip=\"198.19.0.11\", out_key=flow, "
            "remote_ip=\"198.19.0.12\"}");
  EXPECT_NE(vsctl(sock, {"get", "Interface", kTo2, "ofport"}), "-1");
  EXPECT_TRUE(has(flows(*h1_, "br-tun"), "priority=1,in_port=\"vxlan-c613000c\" actions=resubmit(,4)"));
  EXPECT_EQ(echo_replies(vm1_->fd(), kVm2, 500ms), 0) << "tunnel ports alone carry nothing";

  ASSERT_TRUE(h1_->database().provision_local_vlan(1, "", "vxlan", kVni).ok());
  ASSERT_TRUE(h2_->database().provision_local_vlan(2, "", "vxlan", kVni).ok());
  EXPECT_TRUE(has(flows(*h1_, "br-tun"), "table=4, priority=1,tun_id=0x64 actions=mod_vlan_vid:1,resubmit(,10)"));
  EXPECT_TRUE(has(flows(*h2_, "br-tun"), "table=4, priority=1,tun_id=0x64 actions=mod_vlan_vid:2,resubmit(,10)"));
  EXPECT_EQ(echo_replies(vm1_->fd(), kVm2, 500ms), 0) << "without flooding the ARP request is dropped";

  ASSERT_TRUE(h1_->database().set_flood_to_tunnels(1, kVni, {kTo2}).ok());
  ASSERT_TRUE(h2_->database().set_flood_to_tunnels(2, kVni, {kTo1}).ok());
  EXPECT_TRUE(has(flows(*h1_, "br-tun"),
                  "table=22, priority=1,dl_vlan=1 actions=strip_vlan,load:0x64->NXM_NX_TUN_ID[],"
                  "output:\"vxlan-c613000c\""))
      << ::testing::PrintToString(flows(*h1_, "br-tun"));
  EXPECT_TRUE(reachable(vm1_->fd(), kVm2)) << "local VLAN 1 on h1 = VNI 100 = local VLAN 2 on h2";
  EXPECT_TRUE(reachable(vm1_->fd(), kVm2, 1s));

  // What came from the tunnel was learned (table 10 into 20): vm2's MAC
  // leaves h1 through the tunnel port, as VNI 100, untagged.
  auto learned = with(flows(*h1_, "br-tun"), "dl_dst=" + kMac2);
  ASSERT_EQ(learned.size(), 1u) << ::testing::PrintToString(flows(*h1_, "br-tun"));
  EXPECT_NE(learned[0].find("table=20, hard_timeout=300, priority=1,vlan_tci=0x0001/0x0fff"), std::string::npos)
      << learned[0];
  EXPECT_NE(learned[0].find("load:0x64->NXM_NX_TUN_ID[],output:\"vxlan-c613000c\""), std::string::npos)
      << learned[0];

  // No ports: the flooding entry goes.
  ASSERT_TRUE(h1_->database().set_flood_to_tunnels(1, kVni, {}).ok());
  EXPECT_EQ(with(flows(*h1_, "br-tun"), "table=22, priority=1"), std::vector<std::string>{});
  EXPECT_TRUE(h1_->database().set_flood_to_tunnels(1, kVni, {}).ok());
}

// l2population's static entry (priority 2) wins over what table 10
// learned: pointed at a wrong endpoint it breaks unicast although flooding
// is still there; replaced or deleted, traffic flows again.
TEST_F(OvsHostTunnelTest, UnicastEntryOverridesLearningUntilDeleted) {
  two_hosts();
  ASSERT_FALSE(HasFatalFailure());
  connect_hosts();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(reachable(vm1_->fd(), kVm2));
  OvsdbIdlDatabase& db = h1_->database();
  // A tunnel port to an endpoint no one holds.
  const std::string nowhere = core::ovs_tunnel_port_name("198.19.0.99");
  ASSERT_TRUE(db.add_tunnel_port({nowhere, "198.19.0.99", kIp1}).ok());
  const std::string flood = "table=22, priority=1,dl_vlan=1 actions=strip_vlan,load:0x64->NXM_NX_TUN_ID[],"
                            "output:\"vxlan-c613000c\"";
  const std::string entry = "table=20, priority=2,dl_vlan=1,dl_dst=" + kMac2 +
                            " actions=strip_vlan,load:0x64->NXM_NX_TUN_ID[],output:";

  ASSERT_TRUE(db.install_unicast_to_tunnel(1, kVni, nowhere, kMac2).ok());
  EXPECT_TRUE(has(flows(*h1_, "br-tun"), entry + "\"" + nowhere + "\""));
  EXPECT_TRUE(has(flows(*h1_, "br-tun"), flood));
  EXPECT_EQ(echo_replies(vm1_->fd(), kVm2, 1000ms), 0) << "frames to vm2 went to 198.19.0.99";

  // The entry for that MAC is replaced, not added to.
  ASSERT_TRUE(db.install_unicast_to_tunnel(1, kVni, kTo2, kMac2).ok());
  EXPECT_EQ(with(flows(*h1_, "br-tun"), "priority=2"), std::vector<std::string>{entry + "\"" + kTo2 + "\""});
  EXPECT_TRUE(reachable(vm1_->fd(), kVm2));

  ASSERT_TRUE(db.install_unicast_to_tunnel(1, kVni, nowhere, kMac2).ok());
  EXPECT_EQ(echo_replies(vm1_->fd(), kVm2, 1000ms), 0);
  ASSERT_TRUE(db.delete_unicast_to_tunnel(1, kMac2).ok());
  EXPECT_EQ(with(flows(*h1_, "br-tun"), "priority=2"), std::vector<std::string>{});
  EXPECT_TRUE(reachable(vm1_->fd(), kVm2)) << "learning and flooding carry it again";
  EXPECT_TRUE(db.delete_unicast_to_tunnel(1, kMac2).ok());

  // Ports that are not br-tun's are refused and nothing changes.
  EXPECT_EQ(db.install_unicast_to_tunnel(1, kVni, "vxlan-c6130064", kMac2).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.install_unicast_to_tunnel(1, kVni, "tapvm1", kMac2).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.set_flood_to_tunnels(1, kVni, {kTo2, "vxlan-c6130064"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(with(flows(*h1_, "br-tun"), "priority=2"), std::vector<std::string>{});
  EXPECT_TRUE(has(flows(*h1_, "br-tun"), flood));
}

// br-tun answers an ARP request from its own side for an address no
// machine holds; a request that arrives through a tunnel is not answered.
TEST_F(OvsHostTunnelTest, ArpResponderAnswersForAnAddressNoOneHolds) {
  two_hosts();
  ASSERT_FALSE(HasFatalFailure());
  connect_hosts();
  ASSERT_FALSE(HasFatalFailure());
  const std::string ghost = "10.100.0.77";
  const std::string ghost_mac = "fa:16:3e:00:77:77";
  auto vm1_nl = std::move(Netlink::open(vm1_->fd())).value();
  auto ghost_seen = [&](Netlink& nl, int netns_fd) {
    // Every ping attempt makes the kernel ask (again) for the address.
    capture::ProbeConfig config{netns_fd, ghost, Micros(20000), Millis(300), 0};
    auto prober = capture::Prober::start(config);
    EXPECT_TRUE(prober.ok());
    std::string mac;
    wait_until(
        [&] {
          auto n = nl.neighbours("eth0");
          mac = n.ok() && n->count(ghost) ? n->at(ghost) : "";
          return !mac.empty();
        },
        1500ms, 20ms);
    if (prober.ok()) (*prober)->stop();
    return mac;
  };
  EXPECT_EQ(ghost_seen(*vm1_nl, vm1_->fd()), "") << "no one answers for " << ghost;

  ASSERT_TRUE(h1_->database().install_arp_responder(1, ghost, ghost_mac).ok());
  EXPECT_TRUE(has(flows(*h1_, "br-tun"),
                  "table=21, priority=1,arp,dl_vlan=1,arp_tpa=10.100.0.77 actions=move:NXM_OF_ETH_SRC[]->"
                  "NXM_OF_ETH_DST[],mod_dl_src:fa:16:3e:00:77:77,load:0x2->NXM_OF_ARP_OP[],"
                  "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
                  "load:0xfa163e007777->NXM_NX_ARP_SHA[],load:0xa64004d->NXM_OF_ARP_SPA[],IN_PORT"))
      << ::testing::PrintToString(flows(*h1_, "br-tun"));
  EXPECT_EQ(ghost_seen(*vm1_nl, vm1_->fd()), ghost_mac) << "h1's br-tun answers vm1";
  // vm2's request reaches h1 through the tunnel (flooded by h2): h1's
  // responder only serves its own side.
  auto vm2_nl = std::move(Netlink::open(vm2_->fd())).value();
  EXPECT_EQ(ghost_seen(*vm2_nl, vm2_->fd()), "");

  ASSERT_TRUE(h1_->database().delete_arp_responder(1, ghost).ok());
  EXPECT_EQ(with(flows(*h1_, "br-tun"), "table=21, priority=1"), std::vector<std::string>{});
  EXPECT_TRUE(h1_->database().delete_arp_responder(1, ghost).ok());
}

// Reclaiming VNI 100 on h1 deletes its table 4 flow and every table 20, 21
// and 22 entry of local VLAN 1, and nothing of another network (local VLAN
// 3, VNI 300) nor the base tables.
TEST_F(OvsHostTunnelTest, ReclaimRemovesTheNetworksFlowsOnly) {
  two_hosts();
  ASSERT_FALSE(HasFatalFailure());
  const auto base = flows(*h1_, "br-tun");
  connect_hosts();
  ASSERT_FALSE(HasFatalFailure());
  OvsdbIdlDatabase& db = h1_->database();
  ASSERT_TRUE(db.install_unicast_to_tunnel(1, kVni, kTo2, kMac2).ok());
  ASSERT_TRUE(db.install_arp_responder(1, kVm2, kMac2).ok());
  ASSERT_TRUE(db.provision_local_vlan(3, "", "vxlan", 300).ok());
  ASSERT_TRUE(db.set_flood_to_tunnels(3, 300, {kTo2}).ok());
  ASSERT_TRUE(db.install_unicast_to_tunnel(3, 300, kTo2, "fa:16:3e:00:03:03").ok());
  ASSERT_TRUE(db.install_arp_responder(3, "10.103.0.3", "fa:16:3e:00:03:03").ok());
  const auto before = flows(*h1_, "br-tun");
  ASSERT_EQ(with(before, "dl_vlan=1").size(), 3u) << ::testing::PrintToString(before);
  ASSERT_EQ(with(before, "dl_vlan=3").size(), 3u);
  EXPECT_TRUE(reachable(vm1_->fd(), kVm2));

  ASSERT_TRUE(db.reclaim_local_vlan(1, "", "vxlan", kVni).ok());
  auto after = flows(*h1_, "br-tun");
  EXPECT_EQ(with(after, "dl_vlan=1"), std::vector<std::string>{});
  EXPECT_EQ(with(after, "tun_id=0x64 "), std::vector<std::string>{});
  EXPECT_EQ(with(after, "dl_vlan=3"), with(before, "dl_vlan=3"));
  EXPECT_EQ(with(after, "tun_id=0x12c ").size(), 1u);
  for (const auto& f : base) EXPECT_TRUE(has(after, f)) << f;
  EXPECT_TRUE(has(after, "priority=1,in_port=\"" + kTo2 + "\" actions=resubmit(,4)"));
  EXPECT_EQ(echo_replies(vm1_->fd(), kVm2, 1000ms), 0) << "h1 still takes VNI 100 in";
  EXPECT_TRUE(db.reclaim_local_vlan(1, "", "vxlan", kVni).ok());
  EXPECT_EQ(db.reclaim_local_vlan(1, "provider", "vxlan", kVni).code(), StatusCode::kInvalidArgument);
}

TEST_F(OvsHostTunnelTest, TunnelPortsAreIdempotent) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  OvsHost* host = start_host("h1", h, fab.fd(), "h1-nic", kIp1);
  ASSERT_TRUE(host);
  OvsdbIdlDatabase& db = host->database();
  const std::string sock = host->daemons().db_socket();
  const std::string in_flow = "priority=1,in_port=\"" + kTo2 + "\" actions=resubmit(,4)";
  ASSERT_TRUE(db.add_tunnel_port({kTo2, kIp2, kIp1}).ok());
  ASSERT_TRUE(db.add_tunnel_port({kTo2, kIp2, kIp1}).ok());
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-tun"}), "patch-int\n" + kTo2);
  EXPECT_EQ(with(flows(*host, "br-tun"), "in_port=\"" + kTo2), std::vector<std::string>{in_flow});
  // The same port again with another UDP port: updated in place.
  ASSERT_TRUE(db.add_tunnel_port({kTo2, kIp2, kIp1, 8472}).ok());
  EXPECT_EQ(vsctl(sock, {"get", "Interface", kTo2, "options:dst_port"}), "\"8472\"");
  EXPECT_EQ(with(flows(*host, "br-tun"), "in_port=\"" + kTo2), std::vector<std::string>{in_flow});

  ASSERT_TRUE(db.delete_tunnel_port(kTo2).ok());
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-tun"}), "patch-int");
  EXPECT_EQ(with(flows(*host, "br-tun"), "in_port=\"" + kTo2), std::vector<std::string>{});
  EXPECT_TRUE(db.delete_tunnel_port(kTo2).ok());

  // Never br-tun's patch port, nor a port of another bridge.
  EXPECT_EQ(db.delete_tunnel_port("patch-int").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.delete_tunnel_port("eth1").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.add_tunnel_port({"eth1", kIp2, kIp1}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-tun"}), "patch-int");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "eth1", "type"}), "\"\"");
}

// A linuxbridge host's kernel VXLAN device on the fabric's underlay VLAN
// (an access port of VLAN 4000, as the lab's eth1.4000) and an OVS host
// (its NIC a trunk): one network, if both use UDP port 4789. The kernel's
// default 8472 (what neutron's linuxbridge agent leaves without
// udp_dstport) meets an OVS port of dst_port 4789 nowhere; one of
// dst_port 8472 it meets.
TEST_F(OvsHostTunnelTest, KernelVxlanMeetsOvsOnlyOnTheSameUdpPort) {
  NamedNetns& fab = make_ns("fab");
  auto fabric = OvsFabric::start({run_dir() + "/fabric", fab.fd(), "fabric", 300});
  ASSERT_TRUE(fabric.ok()) << fabric.status().to_string();
  fabric_ = std::move(fabric).value();
  NamedNetns& n1 = make_ns("h1");
  h1_ = start_host("h1", n1, fab.fd(), "h1-nic", kIp1);
  ASSERT_TRUE(h1_);
  ASSERT_TRUE(fabric_->add_trunk_port("h1-nic").ok());
  vm1_ = &make_vm("vm1", n1, *h1_, "tapvm1", kVm1, kMac1, 1);

  NamedNetns& lb = make_ns("lb");
  auto nl = std::move(Netlink::open(lb.fd())).value();
  ASSERT_TRUE(nl->create_veth("eth1.4000", "lb-4000", fab.fd()).ok());
  ASSERT_TRUE(std::move(Netlink::open(fab.fd())).value()->set_up("lb-4000").ok());
  ASSERT_TRUE(fabric_->add_access_port("lb-4000", 4000).ok());
  ASSERT_TRUE(nl->add_address("eth1.4000", kIpLb + "/24").ok());
  ASSERT_TRUE(nl->set_up("eth1.4000").ok());
  const std::string vm3 = "10.100.0.3";
  auto kernel_vxlan = [&](uint16_t dstport) {
    ASSERT_TRUE(nl->delete_link("vxlan-100").ok());
    // noudpcsum, as the lab's: with the kernel's default the outer UDP
    // checksum is left to the veth's offload, arrives unfinished, and
    // ovs-vswitchd's tunnel pop drops every packet (its coverage counter
    // datapath_drop_tunnel_pop_error), both ways then failing.
    ASSERT_TRUE(nl->create_vxlan({.name = "vxlan-100", .vni = kVni, .local_ip = kIpLb, .underlay = "eth1.4000",
                                  .dstport = dstport, .udp_csum = false})
                    .ok());
    // One MAC for both devices, so vm1's neighbour entry stays right.
    ASSERT_TRUE(nl->set_mac("vxlan-100", "fa:16:3e:00:03:03").ok());
    ASSERT_TRUE(nl->add_address("vxlan-100", vm3 + "/24").ok());
    ASSERT_TRUE(nl->set_up("vxlan-100").ok());
    ASSERT_TRUE(nl->fdb_append("vxlan-100", "00:00:00:00:00:00", kIp1).ok());
  };
  const std::string to_lb = core::ovs_tunnel_port_name(kIpLb);
  OvsdbIdlDatabase& db = h1_->database();
  ASSERT_TRUE(db.add_tunnel_port({to_lb, kIpLb, kIp1, 4789}).ok());
  ASSERT_TRUE(db.provision_local_vlan(1, "", "vxlan", kVni).ok());
  ASSERT_TRUE(db.set_flood_to_tunnels(1, kVni, {to_lb}).ok());

  kernel_vxlan(4789);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(reachable(vm1_->fd(), vm3)) << "OVS and the kernel on UDP 4789";
  EXPECT_TRUE(reachable(lb.fd(), kVm1));
  // The underlay crossed the fabric in VLAN 4000, from h1's trunk.
  auto fdb = fabric_->fdb();
  ASSERT_TRUE(fdb.ok()) << fdb.status().to_string();
  EXPECT_TRUE(std::any_of(fdb->begin(), fdb->end(), [](const FdbEntry& e) { return e.port == "h1-nic" && e.vlan == 4000; }));

  kernel_vxlan(8472);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(echo_replies(vm1_->fd(), vm3, 1500ms), 0) << "the kernel on 8472 reached OVS on 4789";
  EXPECT_EQ(echo_replies(lb.fd(), kVm1, 1000ms), 0);

  ASSERT_TRUE(db.add_tunnel_port({to_lb, kIpLb, kIp1, 8472}).ok());
  EXPECT_TRUE(reachable(vm1_->fd(), vm3)) << "OVS and the kernel on UDP 8472";
}

}  // namespace
}  // namespace lmh::harness
