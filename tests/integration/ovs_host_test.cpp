// A lab host's real Open vSwitch (OvsHost, OvsdbIdlDatabase, OvsDaemons):
// bridges, patch ports and NIC as the OVS agent leaves them, read back
// independently with ovs-vsctl and ovs-ofctl; the core OvsDatabase contract
// against the real database; VLAN separation and neutron's VLAN translation
// with real traffic between two hosts; the OpenFlow connection's errors in
// ovs-ofctl's words, its port names across renumbering, its reconnects; a
// crashed or stopped ovs-vswitchd and a vanished ovsdb-server fail calls
// within their timeout; nothing is left running.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "capture/prober.h"
#include "harness/ovs/openflow.h"
#include "harness/ovs/ovs_daemons.h"
#include "harness/ovs/ovs_host.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;
using lmh::testing::echo_replies;
using lmh::testing::processes_under;
using lmh::testing::reachable;
using lmh::testing::vsctl;

// Run id "zo<pid>": namespaces "lmh-zo<pid>-…" and state dir
// /run/lmh/zo<pid> (with owner.pid) agree, so a concurrent `lmh cleanup`
// sees one live run and leaves it alone.
std::string run_id() { return "zo" + std::to_string(::getpid() % 100000); }
std::string ns_name(const std::string& what) { return "lmh-" + run_id() + "-" + what; }
std::string run_dir() { return "/run/lmh/" + run_id(); }

class OvsHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    if (find_program("ovs-vswitchd").empty()) GTEST_SKIP() << "openvswitch-switch is not installed";
    std::filesystem::create_directories(run_dir());
    std::ofstream(run_dir() + "/owner.pid") << ::getpid() << "\n";
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    namespaces_.clear();
    // Every daemon is gone once its owner is: nothing runs from our state dir.
    EXPECT_EQ(processes_under(run_dir()), std::vector<std::string>{});
    std::error_code ec;
    std::filesystem::remove_all(run_dir(), ec);
  }

  // A namespace of this run, removed after the test.
  NamedNetns& make_ns(const std::string& what) {
    auto ns = NamedNetns::create(ns_name(what));
    EXPECT_TRUE(ns.ok()) << ns.status().to_string();
    namespaces_.push_back(std::move(ns).value());
    return namespaces_.back();
  }

  // A lab host: namespace 'name' whose NIC eth1 is a veth to 'nic_peer_ns'
  // (as peer 'nic_peer'), and its OvsHost with physnet "provider" on br-ex.
  std::unique_ptr<OvsHost> start_host(const std::string& name, NamedNetns& host_ns, int nic_peer_ns,
                                      const std::string& nic_peer) {
    auto nl = std::move(Netlink::open(host_ns.fd())).value();
    EXPECT_TRUE(nl->create_veth("eth1", nic_peer, nic_peer_ns).ok());
    EXPECT_TRUE(nl->set_up("eth1").ok());
    auto peer_nl = std::move(Netlink::open(nic_peer_ns)).value();
    EXPECT_TRUE(peer_nl->set_up(nic_peer).ok());
    OvsHost::Options o;
    o.state_dir = run_dir() + "/ovs-" + name;
    o.netns_fd = host_ns.fd();
    o.datapath_type = "netdev";
    o.bridge_mappings = {{"provider", "br-ex"}};
    o.nic_for_bridge = {{"br-ex", "eth1"}};
    auto host = OvsHost::start(o);
    EXPECT_TRUE(host.ok()) << host.status().to_string();
    if (!host.ok()) return nullptr;
    std::printf("[ bring-up ] %s: %lld ms\n", name.c_str(), static_cast<long long>((*host)->bringup_time().count()));
    return std::move(host).value();
  }

  // A "VM": namespace 'what' with eth0 at 'cidr', its other end 'port' in
  // 'host_ns', up, not yet on any bridge.
  NamedNetns& make_vm(const std::string& what, NamedNetns& host_ns, const std::string& port, const std::string& cidr) {
    NamedNetns& vm = make_ns(what);
    auto nl = std::move(Netlink::open(vm.fd())).value();
    EXPECT_TRUE(nl->create_veth("eth0", port, host_ns.fd()).ok());
    EXPECT_TRUE(nl->add_address("eth0", cidr).ok());
    EXPECT_TRUE(nl->set_up("eth0").ok());
    auto host_nl = std::move(Netlink::open(host_ns.fd())).value();
    EXPECT_TRUE(host_nl->set_up(port).ok());
    return vm;
  }

  std::deque<NamedNetns> namespaces_;  // deque: references stay valid
};

TEST_F(OvsHostTest, BuildsBridgesPatchPortsNicAndBaseFlows) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  auto host = start_host("h1", h, fab.fd(), "h1-nic");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->healthy());
  EXPECT_GT(host->bringup_time().count(), 0);
  const std::string sock = host->daemons().db_socket();

  EXPECT_EQ(vsctl(sock, {"list-br"}), "br-ex\nbr-int");
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-int"}), "int-br-ex");
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-ex"}), "eth1\nphy-br-ex");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "int-br-ex", "type", "options:peer"}), "patch\nphy-br-ex");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "phy-br-ex", "type", "options:peer"}), "patch\nint-br-ex");
  EXPECT_EQ(vsctl(sock, {"get", "Bridge", "br-int", "fail_mode", "datapath_type"}), "secure\nnetdev");
  EXPECT_EQ(vsctl(sock, {"get", "Bridge", "br-ex", "fail_mode", "datapath_type"}), "secure\nnetdev");
  EXPECT_EQ(vsctl(sock, {"get", "Open_vSwitch", ".", "other_config:flow-limit"}), "\"0\"");
  // ovs-vswitchd attached all of it: every interface has an OpenFlow port.
  for (std::string i : {"br-int", "br-ex", "eth1", "int-br-ex", "phy-br-ex"})
    EXPECT_NE(vsctl(sock, {"get", "Interface", i, "ofport"}), "-1") << i;

  auto bridges = host->database().list_bridges();
  ASSERT_TRUE(bridges.ok());
  EXPECT_EQ(*bridges, (std::vector<std::string>{"br-ex", "br-int"}));
  auto interfaces = host->database().list_interfaces();
  ASSERT_TRUE(interfaces.ok());
  EXPECT_EQ(interfaces->size(), 5u);

  auto int_flows = host->database().dump_flows("br-int");
  ASSERT_TRUE(int_flows.ok()) << int_flows.status().to_string();
  auto ex_flows = host->database().dump_flows("br-ex");
  ASSERT_TRUE(ex_flows.ok()) << ex_flows.status().to_string();
  EXPECT_EQ(*int_flows, (std::vector<std::string>{"priority=2,in_port=\"int-br-ex\" actions=drop",
                                                  "priority=0 actions=NORMAL"}));
  EXPECT_EQ(*ex_flows, (std::vector<std::string>{"priority=2,in_port=\"phy-br-ex\" actions=drop",
                                                 "priority=0 actions=NORMAL"}));
}

TEST_F(OvsHostTest, DatabaseKeepsTheCoreOvsDatabaseContract) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  auto host = start_host("h1", h, fab.fd(), "h1-nic");
  ASSERT_TRUE(host);
  OvsdbIdlDatabase& db = host->database();
  const std::string sock = host->daemons().db_socket();
  auto nl = std::move(Netlink::open(h.fd())).value();
  for (std::string tap : {"tapb0000000-01", "tapa0000000-01"}) {
    ASSERT_TRUE(nl->create_veth(tap, tap + "p", -1).ok());
    ASSERT_TRUE(nl->set_up(tap).ok());
  }

  // ensure_bridge: idempotent, an existing bridge keeps its datapath type.
  EXPECT_TRUE(db.ensure_bridge("br-int", "system").ok());
  EXPECT_EQ(vsctl(sock, {"get", "Bridge", "br-int", "datapath_type"}), "netdev");
  EXPECT_TRUE(db.bridge_exists("br-int"));
  EXPECT_FALSE(db.bridge_exists("br-nope"));

  // add_port: external_ids and tag as os-vif sets them, read back by ovs-vsctl.
  std::map<std::string, std::string> ids = {{"iface-id", "b0000000-0000-4000-8000-000000000001"},
                                            {"iface-status", "active"},
                                            {"attached-mac", "fa:16:3e:00:00:01"},
                                            {"vm-uuid", "11111111-2222-3333-4444-555555555555"}};
  ASSERT_TRUE(db.add_port("br-int", "tapb0000000-01", ids, 4095).ok());
  ASSERT_TRUE(db.add_port("br-int", "tapa0000000-01", {{"iface-id", "a"}}, std::nullopt).ok());
  EXPECT_EQ(vsctl(sock, {"get", "Port", "tapb0000000-01", "tag"}), "4095");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "tapb0000000-01", "external_ids:iface-id"}),
            "\"b0000000-0000-4000-8000-000000000001\"");
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "tapb0000000-01", "external_ids:attached-mac"}), "\"fa:16:3e:00:00:01\"");
  EXPECT_NE(vsctl(sock, {"get", "Interface", "tapb0000000-01", "ofport"}), "-1");  // in the datapath already
  EXPECT_EQ(vsctl(sock, {"get", "Port", "tapa0000000-01", "tag"}), "[]");

  // list_ports: name order, with the interface's external_ids and the tag.
  auto ports = db.list_ports("br-int");
  ASSERT_TRUE(ports.ok()) << ports.status().to_string();
  ASSERT_EQ(ports->size(), 3u);
  EXPECT_EQ((*ports)[0].name, "int-br-ex");
  EXPECT_EQ((*ports)[1].name, "tapa0000000-01");
  EXPECT_EQ((*ports)[2].name, "tapb0000000-01");
  EXPECT_EQ((*ports)[2].external_ids, ids);
  EXPECT_EQ((*ports)[2].tag, 4095);
  EXPECT_EQ((*ports)[1].tag, std::nullopt);
  EXPECT_EQ(db.list_ports("br-nope").status().code(), StatusCode::kNotFound);

  // --may-exist on the same bridge: external_ids replaced, tag updated when given.
  ASSERT_TRUE(db.add_port("br-int", "tapa0000000-01", {{"iface-id", "a2"}}, 7).ok());
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "tapa0000000-01", "external_ids"}), "{iface-id=a2}");
  EXPECT_EQ(vsctl(sock, {"get", "Port", "tapa0000000-01", "tag"}), "7");
  ASSERT_TRUE(db.add_port("br-int", "tapa0000000-01", {{"iface-id", "a2"}}, std::nullopt).ok());
  EXPECT_EQ(vsctl(sock, {"get", "Port", "tapa0000000-01", "tag"}), "7");

  // On another bridge, or to a bridge that is not there.
  auto elsewhere = db.add_port("br-ex", "tapa0000000-01", {}, std::nullopt);
  EXPECT_EQ(elsewhere.code(), StatusCode::kFailedPrecondition) << elsewhere.to_string();
  EXPECT_EQ(vsctl(sock, {"port-to-br", "tapa0000000-01"}), "br-int");
  auto missing = db.add_port("br-nope", "tapc0000000-01", {}, std::nullopt);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.to_string();

  // set_tag: the agent moving a port off the dead VLAN clears vlan_mode and trunks.
  vsctl(sock, {"set", "Port", "tapb0000000-01", "vlan_mode=native-untagged", "trunks=10,20"});
  ASSERT_TRUE(db.set_tag("tapb0000000-01", 3).ok());
  EXPECT_EQ(vsctl(sock, {"get", "Port", "tapb0000000-01", "tag", "vlan_mode", "trunks"}), "3\n[]\n[]");
  EXPECT_EQ(db.set_tag("tapc0000000-01", 3).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.set_tag("tapb0000000-01", 4096).code(), StatusCode::kInvalidArgument);

  // port_bridge, then delete_port (idempotent; the device stays).
  EXPECT_EQ(*db.port_bridge("tapb0000000-01"), "br-int");
  EXPECT_EQ(*db.port_bridge("eth1"), "br-ex");
  EXPECT_EQ(*db.port_bridge("tapc0000000-01"), "");
  ASSERT_TRUE(db.delete_port("tapb0000000-01").ok());
  EXPECT_TRUE(db.delete_port("tapb0000000-01").ok());
  EXPECT_EQ(*db.port_bridge("tapb0000000-01"), "");
  EXPECT_EQ(vsctl(sock, {"list-ports", "br-int"}), "int-br-ex\ntapa0000000-01");
  EXPECT_TRUE(nl->exists("tapb0000000-01"));

  // The extras: other bridges and their settings, internal ports.
  ASSERT_TRUE(db.ensure_bridge("br-zo", "netdev").ok());
  ASSERT_TRUE(db.configure_bridge("br-zo", "standalone", {{"mac-aging-time", "20"}}).ok());
  EXPECT_EQ(vsctl(sock, {"get", "Bridge", "br-zo", "fail_mode", "other_config:mac-aging-time"}), "standalone\n\"20\"");
  EXPECT_EQ(db.configure_bridge("br-nope", "secure").code(), StatusCode::kNotFound);
  ASSERT_TRUE(db.ensure_internal_port("br-zo", "zo-int0").ok());
  EXPECT_EQ(vsctl(sock, {"get", "Interface", "zo-int0", "type"}), "internal");
  ASSERT_TRUE(db.delete_bridge("br-zo").ok());
  EXPECT_TRUE(db.delete_bridge("br-zo").ok());
  EXPECT_EQ(vsctl(sock, {"list-br"}), "br-ex\nbr-int");
  EXPECT_EQ(vsctl(sock, {"--if-exists", "get", "Interface", "zo-int0", "type"}), "");
  ASSERT_TRUE(db.set_other_config("flow-limit", "0").ok());
}

TEST_F(OvsHostTest, SameTagForwardsDifferentTagSeparates) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  auto host = start_host("h1", h, fab.fd(), "h1-nic");
  ASSERT_TRUE(host);
  NamedNetns& vm1 = make_vm("vm1", h, "tapvm1", "198.18.7.1/24");
  NamedNetns& vm2 = make_vm("vm2", h, "tapvm2", "198.18.7.2/24");
  OvsdbIdlDatabase& db = host->database();
  ASSERT_TRUE(db.add_port("br-int", "tapvm1", {{"iface-id", "vm1"}}, 5).ok());
  ASSERT_TRUE(db.add_port("br-int", "tapvm2", {{"iface-id", "vm2"}}, 5).ok());
  EXPECT_TRUE(reachable(vm1.fd(), "198.18.7.2")) << "same local VLAN, NORMAL forwarding";

  ASSERT_TRUE(db.set_tag("tapvm2", 6).ok());
  EXPECT_EQ(echo_replies(vm1.fd(), "198.18.7.2", 1000ms), 0) << "VLAN 5 reached VLAN 6";

  ASSERT_TRUE(db.set_tag("tapvm2", 5).ok());
  EXPECT_TRUE(reachable(vm1.fd(), "198.18.7.2")) << "back on VLAN 5";
  EXPECT_TRUE(reachable(vm2.fd(), "198.18.7.1"));
}

// Two hosts whose NICs are wired together (the physical network), a VM on
// each with a different local VLAN for the same provider VLAN 100: only the
// translation flows of provision_local_vlan on both hosts connect them.
TEST_F(OvsHostTest, ProvisionLocalVlanTranslatesBetweenHosts) {
  NamedNetns& h1 = make_ns("h1");
  NamedNetns& h2 = make_ns("h2");
  // h1's eth1 is a veth whose other end is h2's eth1.
  auto host1 = start_host("h1", h1, h2.fd(), "eth1");
  ASSERT_TRUE(host1);
  OvsHost::Options o2 = host1->options();
  o2.state_dir = run_dir() + "/ovs-h2";
  o2.netns_fd = h2.fd();
  auto started2 = OvsHost::start(o2);
  ASSERT_TRUE(started2.ok()) << started2.status().to_string();
  auto host2 = std::move(started2).value();
  NamedNetns& vm1 = make_vm("vm1", h1, "tapvm1", "198.18.8.1/24");
  make_vm("vm2", h2, "tapvm2", "198.18.8.2/24");
  ASSERT_TRUE(host1->database().add_port("br-int", "tapvm1", {}, 1).ok());
  ASSERT_TRUE(host2->database().add_port("br-int", "tapvm2", {}, 2).ok());
  EXPECT_EQ(echo_replies(vm1.fd(), "198.18.8.2", 500ms), 0) << "the patch ports drop untranslated traffic";

  ASSERT_TRUE(host1->database().provision_local_vlan(1, "provider", "vlan", 100).ok());
  ASSERT_TRUE(host2->database().provision_local_vlan(2, "provider", "vlan", 100).ok());
  auto ex = host1->database().dump_flows("br-ex");
  ASSERT_TRUE(ex.ok());
  EXPECT_NE(std::find(ex->begin(), ex->end(),
                      "priority=4,in_port=\"phy-br-ex\",dl_vlan=1 actions=mod_vlan_vid:100,NORMAL"),
            ex->end())
      << ::testing::PrintToString(*ex);
  auto in = host1->database().dump_flows("br-int");
  ASSERT_TRUE(in.ok());
  EXPECT_NE(std::find(in->begin(), in->end(),
                      "priority=3,in_port=\"int-br-ex\",dl_vlan=100 actions=mod_vlan_vid:1,NORMAL"),
            in->end())
      << ::testing::PrintToString(*in);
  EXPECT_TRUE(reachable(vm1.fd(), "198.18.8.2")) << "local VLAN 1 on h1 = VLAN 100 on the wire = local VLAN 2 on h2";

  // Reclaim on h2: its side of the network is gone; idempotent.
  ASSERT_TRUE(host2->database().reclaim_local_vlan(2, "provider", "vlan", 100).ok());
  ASSERT_TRUE(host2->database().reclaim_local_vlan(2, "provider", "vlan", 100).ok());
  auto in2 = host2->database().dump_flows("br-int");
  ASSERT_TRUE(in2.ok());
  EXPECT_EQ(in2->size(), 2u) << ::testing::PrintToString(*in2);  // the base flows only
  EXPECT_EQ(echo_replies(vm1.fd(), "198.18.8.2", 1000ms), 0);

  // Flat: strip on the way out, push the local VLAN on the way in.
  ASSERT_TRUE(host1->database().provision_local_vlan(3, "provider", "flat", 0).ok());
  ex = host1->database().dump_flows("br-ex");
  in = host1->database().dump_flows("br-int");
  ASSERT_TRUE(ex.ok() && in.ok());
  EXPECT_NE(std::find(ex->begin(), ex->end(), "priority=4,in_port=\"phy-br-ex\",dl_vlan=3 actions=strip_vlan,NORMAL"),
            ex->end())
      << ::testing::PrintToString(*ex);
  EXPECT_NE(std::find(in->begin(), in->end(),
                      "priority=3,in_port=\"int-br-ex\",vlan_tci=0x0000/0x1fff actions=mod_vlan_vid:3,NORMAL"),
            in->end())
      << ::testing::PrintToString(*in);
  ASSERT_TRUE(host1->database().reclaim_local_vlan(3, "provider", "flat", 0).ok());

  EXPECT_EQ(host1->database().provision_local_vlan(4, "nope", "vlan", 100).code(), StatusCode::kNotFound);
  EXPECT_EQ(host1->database().provision_local_vlan(4, "provider", "vxlan", 100).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OvsHostTest, KilledVswitchdFailsWaitingWritesWithinTheTimeout) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  auto host = start_host("h1", h, fab.fd(), "h1-nic");
  ASSERT_TRUE(host);
  pid_t vswitchd = host->vswitchd_pid();
  ASSERT_GT(vswitchd, 0);
  host->kill_vswitchd();
  EXPECT_FALSE(host->healthy());
  EXPECT_NE(::kill(vswitchd, 0), 0) << "ovs-vswitchd still runs";

  OvsdbIdlDatabase& db = host->database();
  db.set_timeout(1500ms);
  auto t0 = std::chrono::steady_clock::now();
  Status s = db.add_port("br-int", "tapdead", {}, 1);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.to_string();
  EXPECT_GE(took, 1400ms);
  EXPECT_LT(took, 3s);
  // The database itself still answers: the write committed, reads work.
  EXPECT_EQ(*db.port_bridge("tapdead"), "br-int");
  db.set_wait_for_vswitchd(false);
  EXPECT_TRUE(db.delete_port("tapdead").ok());
  // Flows find the OpenFlow connection closed, and no switch to make a new
  // one with.
  t0 = std::chrono::steady_clock::now();
  Status flows = db.install_base_flows();
  EXPECT_EQ(flows.code(), StatusCode::kUnavailable) << flows.to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);

  host.reset();
  EXPECT_EQ(processes_under(run_dir()), std::vector<std::string>{});
}

// The line of dump_flows(bridge) of 'host' that starts with 'prefix', or "".
std::string flow_starting(OvsHost& host, const std::string& bridge, const std::string& prefix) {
  auto flows = host.database().dump_flows(bridge);
  EXPECT_TRUE(flows.ok()) << flows.status().to_string();
  if (!flows.ok()) return "";
  for (const auto& f : *flows)
    if (f.rfind(prefix, 0) == 0) return f;
  return "";
}

// What an OpenFlowConnection refuses, it refuses in ovs-ofctl's words; and
// a port name stands for the port's number now, also after the port was
// deleted and added again under a new number (the switch's port status
// messages make the connection forget the old one).
TEST_F(OvsHostTest, OpenFlowConnectionSpeaksAsOvsOfctlAndFollowsPortNumbers) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  auto host = start_host("h1", h, fab.fd(), "h1-nic");
  ASSERT_TRUE(host);
  OvsdbIdlDatabase& db = host->database();
  const std::string sock = host->daemons().db_socket();
  const std::string target = "unix:" + host->daemons().run_dir() + "/br-int.mgmt";
  OpenFlowConnection of(target, 5s);

  for (std::string flow : {"table=0,priority=1,foo=bar,actions=drop", "table=0,priority=1,in_port=nosuch,actions=drop",
                           "table=0,priority=1,actions=output:nosuch", "table=0,priority=1,actions=resubmit(,"}) {
    Status s = of.add_flow(flow);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
    auto ofctl = run_command({"ovs-ofctl", "add-flow", target, flow}, 10s);
    ASSERT_TRUE(ofctl.ok()) << ofctl.status().to_string();
    EXPECT_NE(ofctl->exit_code, 0) << flow;
    std::string said = ofctl->err.substr(0, ofctl->err.find('\n'));
    said = said.substr(said.find(": ") + 2);  // after "ovs-ofctl: "
    EXPECT_NE(s.message().find(said), std::string::npos) << s.to_string() << "\novs-ofctl: " << said;
  }

  // One the switch refuses (table 254 is its own, read-only): kInternal,
  // with the error ovs-ofctl prints.
  Status refused = of.add_flow("table=254,priority=1,actions=drop");
  EXPECT_EQ(refused.code(), StatusCode::kInternal) << refused.to_string();
  auto ofctl = run_command({"ovs-ofctl", "add-flow", target, "table=254,priority=1,actions=drop"}, 10s);
  ASSERT_TRUE(ofctl.ok()) << ofctl.status().to_string();
  EXPECT_NE(ofctl->err.find("OFPBRC_EPERM"), std::string::npos) << ofctl->err;
  EXPECT_NE(refused.message().find("OFPBRC_EPERM"), std::string::npos) << refused.to_string();

  ASSERT_TRUE(db.ensure_internal_port("br-int", "pa").ok());
  ASSERT_TRUE(of.add_flow("table=0,priority=7,in_port=pa,actions=drop").ok());
  EXPECT_EQ(flow_starting(*host, "br-int", "priority=7,"), "priority=7,in_port=pa actions=drop");
  const std::string first_number = vsctl(sock, {"get", "Interface", "pa", "ofport"});
  ASSERT_TRUE(db.delete_port("pa").ok());
  ASSERT_TRUE(db.ensure_internal_port("br-int", "pb").ok());
  ASSERT_TRUE(db.ensure_internal_port("br-int", "pa").ok());
  ASSERT_NE(vsctl(sock, {"get", "Interface", "pa", "ofport"}), first_number) << "pa kept its number: nothing to see";
  ASSERT_TRUE(of.add_flow("table=0,priority=8,in_port=pa,actions=drop").ok());
  EXPECT_EQ(flow_starting(*host, "br-int", "priority=8,"), "priority=8,in_port=pa actions=drop");
  // A port added while the names are known joins them.
  ASSERT_TRUE(db.ensure_internal_port("br-int", "pc").ok());
  ASSERT_TRUE(of.add_flow("table=0,priority=9,in_port=pc,actions=output:pb").ok());
  EXPECT_EQ(flow_starting(*host, "br-int", "priority=9,"), "priority=9,in_port=pc actions=output:pb");
  ASSERT_TRUE(of.delete_flows("table=0,in_port=pc").ok());
  EXPECT_EQ(flow_starting(*host, "br-int", "priority=9,"), "");
}

// A bridge deleted takes its management socket (kUnavailable), re-created
// it is reached again by the same connection; a switch that stops
// answering fails a call within the timeout, and once it answers again
// the next call goes through on a new connection.
TEST_F(OvsHostTest, OpenFlowConnectionReconnectsAndGivesUpWithinItsTimeout) {
  NamedNetns& h = make_ns("h1");
  NamedNetns& fab = make_ns("fab");
  auto host = start_host("h1", h, fab.fd(), "h1-nic");
  ASSERT_TRUE(host);
  OvsdbIdlDatabase& db = host->database();
  OpenFlowConnection of("unix:" + host->daemons().run_dir() + "/br-x.mgmt", 5s);
  const std::string flow = "table=0,priority=5,actions=drop";
  ASSERT_TRUE(db.ensure_bridge("br-x", "netdev").ok());
  ASSERT_TRUE(of.add_flow(flow).ok());
  ASSERT_TRUE(db.delete_bridge("br-x").ok());
  Status gone = of.add_flow(flow);
  EXPECT_EQ(gone.code(), StatusCode::kUnavailable) << gone.to_string();
  ASSERT_TRUE(db.ensure_bridge("br-x", "netdev").ok());
  Status back = of.add_flow(flow);
  EXPECT_TRUE(back.ok()) << back.to_string();
  EXPECT_EQ(flow_starting(*host, "br-x", "priority=5"), "priority=5 actions=drop");

  of.set_timeout(1000ms);
  const pid_t vswitchd = host->vswitchd_pid();
  ASSERT_EQ(::kill(vswitchd, SIGSTOP), 0);
  auto t0 = std::chrono::steady_clock::now();
  Status stuck = of.add_flow("table=0,priority=6,actions=drop");
  auto took = std::chrono::steady_clock::now() - t0;
  ::kill(vswitchd, SIGCONT);
  EXPECT_EQ(stuck.code(), StatusCode::kDeadlineExceeded) << stuck.to_string();
  EXPECT_GE(took, 950ms);
  EXPECT_LT(took, 3s);
  Status again = of.add_flow("table=0,priority=6,actions=drop");
  EXPECT_TRUE(again.ok()) << again.to_string();
  EXPECT_EQ(flow_starting(*host, "br-x", "priority=6"), "priority=6 actions=drop");
}

TEST_F(OvsHostTest, VanishedOvsdbServerFailsCallsWithinTheTimeout) {
  NamedNetns& h = make_ns("h1");
  auto daemons = OvsDaemons::start({run_dir() + "/ovs-h1", h.fd()});
  ASSERT_TRUE(daemons.ok()) << daemons.status().to_string();
  OvsdbIdlDatabase::Options o;
  o.db_socket = (*daemons)->db_socket();
  o.run_dir = (*daemons)->run_dir();
  o.timeout = 1000ms;
  OvsdbIdlDatabase db(o);
  ASSERT_TRUE(db.ensure_bridge("br-int", "netdev").ok());
  EXPECT_TRUE(std::filesystem::exists(run_dir() + "/ovs-h1/ovsdb-server.pid"));
  EXPECT_TRUE(std::filesystem::exists(run_dir() + "/ovs-h1/ovs-vswitchd.pid"));

  daemons->reset();
  EXPECT_FALSE(std::filesystem::exists(run_dir() + "/ovs-h1/ovs-vswitchd.pid"));
  auto t0 = std::chrono::steady_clock::now();
  Status s = db.add_port("br-int", "tapgone", {}, 1);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.to_string();
  EXPECT_EQ(db.list_bridges().status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(db.bridge_exists("br-int"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
}

}  // namespace
}  // namespace lmh::harness
