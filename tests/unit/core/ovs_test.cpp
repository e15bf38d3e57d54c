// The Open vSwitch side of core: the ML2 mechanism drivers' bindings, os-vif's
// ovs plug (plain and hybrid, including seed 000's brq bridge on an OVS
// host) and the OVS agent's local VLANs and device reports, on fakes under a
// simulated clock.
#include <gtest/gtest.h>

#include "core/mechanism_driver.h"
#include "core/names.h"
#include "core/neutron.h"
#include "core/os_vif_ovs.h"
#include "core/ovs_agent.h"
#include "ovs_fakes.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using testing::FakeHostNetwork;
using testing::FakeLinkOps;
using testing::FakeOvsDatabase;

const std::string kNet = "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11";
const std::string kNet2 = "5a1d2c3b-4e5f-4a6b-9c8d-7e6f5a4b3c2d";
const std::string kNet3 = "9b8a7c6d-5e4f-4321-8765-43210fedcba9";
const std::string kPort = "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30";
const std::string kPort2 = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const std::string kPort3 = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e";
const std::string kPort4 = "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f";
const std::string kVm = "7c1e2a5b-3d4f-4a6b-8c9d-0e1f2a3b4c5d";
const std::string kMac = "fa:16:3e:3a:7b:01";

// ---------------------------------------------------------------- bind_port

const Network kVlanNet{kNet, "vlan", "provider", 100};

AgentConfig ovs_agent(const std::string& firewall) {
  AgentConfig a;
  a.host = "ovs1";
  a.agent_type = "openvswitch";
  a.firewall_driver = firewall;
  a.bridge_mappings = {{"provider", "br-provider"}};
  return a;
}

TEST(MechanismDriver, LinuxBridgeAgentGetsBridgeBinding) {
  AgentConfig a;
  a.host = "lb1";
  a.agent_type = "linuxbridge";
  a.firewall_driver = "iptables";
  a.physical_interface_mappings = {{"provider", "eth1"}};
  auto b = bind_port(a, kVlanNet);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->host, "lb1");
  EXPECT_EQ(b->vif_type, "bridge");
  EXPECT_EQ(b->status, BindingStatus::kInactive);
  EXPECT_EQ(b->vif_details, (std::map<std::string, std::string>{
                                {"bridge_name", "brq0fe9c836-58"},
                                {"physical_network", "provider"},
                                {"port_filter", "true"}}));
}

TEST(MechanismDriver, OvsWithIptablesHybridFirewallGetsHybridPlug) {
  auto b = bind_port(ovs_agent("iptables_hybrid"), kVlanNet);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->vif_type, "ovs");
  EXPECT_EQ(b->vif_details, (std::map<std::string, std::string>{{"bridge_name", "br-int"},
                                                                 {"ovs_hybrid_plug", "true"},
                                                                 {"port_filter", "true"},
                                                                 {"datapath_type", "system"}}));
}

TEST(MechanismDriver, OvsWithOpenvswitchFirewallGetsPlainPlug) {
  // Seed 000's OVS hosts: firewall_driver=openvswitch, so no hybrid plug.
  AgentConfig a = ovs_agent("openvswitch");
  a.datapath_type = "netdev";
  a.integration_bridge = "br-int2";
  auto b = bind_port(a, kVlanNet);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->vif_type, "ovs");
  EXPECT_EQ(b->vif_details.at("ovs_hybrid_plug"), "false");
  EXPECT_EQ(b->vif_details.at("bridge_name"), "br-int2");
  EXPECT_EQ(b->vif_details.at("datapath_type"), "netdev");
  EXPECT_EQ(b->vif_details.at("port_filter"), "true");
}

TEST(MechanismDriver, OvsWithNoopFirewallGetsPlainPlug) {
  auto b = bind_port(ovs_agent("noop"), kVlanNet);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->vif_details.at("ovs_hybrid_plug"), "false");
}

TEST(MechanismDriver, UnmappedPhysnetFailsBinding) {
  Network other{kNet, "flat", "physnet9", 0};
  auto ovs = bind_port(ovs_agent("openvswitch"), other);
  ASSERT_FALSE(ovs.ok());
  EXPECT_EQ(ovs.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(ovs.status().message().find("binding_failed"), std::string::npos);
  EXPECT_NE(ovs.status().message().find("physnet9"), std::string::npos);

  AgentConfig lb;
  lb.host = "lb1";
  lb.agent_type = "linuxbridge";
  lb.physical_interface_mappings = {{"provider", "eth1"}};
  auto lbb = bind_port(lb, other);
  ASSERT_FALSE(lbb.ok());
  EXPECT_EQ(lbb.status().code(), StatusCode::kFailedPrecondition);
}

TEST(MechanismDriver, TunnelNetworkNeedsTheAgentsTunnelType) {
  Network vxlan{kNet, "vxlan", "", 1001};
  AgentConfig a = ovs_agent("openvswitch");
  auto refused = bind_port(a, vxlan);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("network type vxlan"), std::string::npos);
  a.tunnel_types = {"vxlan"};
  auto bound = bind_port(a, vxlan);
  ASSERT_TRUE(bound.ok()) << bound.status().to_string();
  EXPECT_EQ(bound->vif_type, "ovs");
}

TEST(MechanismDriver, UnknownAgentTypeFailsBinding) {
  AgentConfig a = ovs_agent("openvswitch");
  a.agent_type = "macvtap";
  auto b = bind_port(a, kVlanNet);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
}

// ----------------------------------------------------------------- plug_ovs

class OvsPlug : public ::testing::Test {
 protected:
  // The VIF nova builds from an OVS binding (network bridge = details bridge_name).
  static Vif ovs_vif(bool hybrid) {
    Vif v;
    v.port_id = kPort;
    v.mac = kMac;
    v.vif_type = "ovs";
    v.details = {{"bridge_name", "br-int"},
                 {"ovs_hybrid_plug", hybrid ? "true" : "false"},
                 {"port_filter", "true"},
                 {"datapath_type", "system"}};
    v.devname = tap_name(kPort);
    v.ovs_interfaceid = kPort;
    v.network = {kNet, "vlan", "provider", 100};
    v.network_bridge = "br-int";
    return v;
  }

  Status plug(const Vif& v) { return plug_ovs(v, kVm, net, links, ovs, timeline, "compute.dst"); }
  Status unplug(const Vif& v) { return unplug_ovs(v, kVm, net, links, ovs, timeline, "compute.dst"); }

  SimulatedClock clock;
  Timeline timeline{clock};
  FakeHostNetwork net;
  FakeLinkOps links{net};
  FakeOvsDatabase ovs;
};

TEST_F(OvsPlug, PlainEnsuresOnlyTheNetworkBridge) {
  ASSERT_TRUE(plug(ovs_vif(false)).ok());
  ASSERT_EQ(ovs.bridges.size(), 1u);
  EXPECT_EQ(ovs.bridges.at("br-int").datapath_type, "system");
  EXPECT_TRUE(ovs.ports.empty());  // libvirt adds the tap from <virtualport>
  EXPECT_TRUE(net.links.empty());
  EXPECT_TRUE(timeline.first("compute.dst", "os-vif ensure_ovs_bridge br-int datapath system").has_value());
}

TEST_F(OvsPlug, PlainTakesTheDatapathTypeFromDetails) {
  Vif v = ovs_vif(false);
  v.details["datapath_type"] = "netdev";
  ASSERT_TRUE(plug(v).ok());
  EXPECT_EQ(ovs.bridges.at("br-int").datapath_type, "netdev");
  v.details.erase("datapath_type");
  ovs.bridges.clear();
  ASSERT_TRUE(plug(v).ok());
  EXPECT_EQ(ovs.bridges.at("br-int").datapath_type, "system");
}

TEST_F(OvsPlug, Seed000SourceNetworkBridgeBecomesAnOvsBridge) {
  // A VIF migrating LB -> OVS: type and details from the destination
  // binding, network.bridge still the source's linuxbridge bridge.
  Vif v = ovs_vif(false);
  v.network_bridge = lb_bridge_name(kNet);
  ASSERT_EQ(v.network_bridge, "brq0fe9c836-58");
  ASSERT_TRUE(plug(v).ok());
  EXPECT_TRUE(ovs.bridge_exists("brq0fe9c836-58"));
  EXPECT_FALSE(ovs.bridge_exists("br-int"));
  EXPECT_TRUE(timeline.first("compute.dst", "os-vif ensure_ovs_bridge brq0fe9c836-58").has_value());
}

TEST_F(OvsPlug, HybridBuildsQbrVethPairAndQvoOnIntegrationBridge) {
  ASSERT_TRUE(plug(ovs_vif(true)).ok());
  const std::string qbr = "qbrcfcfd97b-b5", qvb = "qvbcfcfd97b-b5", qvo = "qvocfcfd97b-b5";
  EXPECT_EQ(hybrid_bridge_name(kPort), qbr);
  EXPECT_EQ(hybrid_bridge_veth(kPort), qvb);
  EXPECT_EQ(hybrid_ovs_veth(kPort), qvo);
  ASSERT_TRUE(net.links.count(qbr));
  EXPECT_EQ(net.links.at(qbr).kind, "bridge");
  EXPECT_TRUE(net.links.at(qbr).up);
  ASSERT_TRUE(net.links.count(qvb));
  EXPECT_EQ(net.links.at(qvb).master, qbr);
  EXPECT_TRUE(net.links.at(qvb).up);
  ASSERT_TRUE(net.links.count(qvo));
  EXPECT_EQ(net.links.at(qvo).master, "");
  EXPECT_TRUE(net.links.at(qvo).up);
  EXPECT_EQ(links.peers.at(qvb), qvo);
  ASSERT_TRUE(ovs.ports.count(qvo));
  EXPECT_EQ(ovs.ports.at(qvo).bridge, "br-int");
  EXPECT_EQ(ovs.ports.at(qvo).external_ids, (std::map<std::string, std::string>{
                                                {"iface-id", kPort},
                                                {"iface-status", "active"},
                                                {"attached-mac", kMac},
                                                {"vm-uuid", kVm}}));
  EXPECT_FALSE(ovs.ports.at(qvo).tag.has_value());  // the agent tags it
  EXPECT_FALSE(ovs.ports.count(tap_name(kPort)));   // the tap goes to qbr, by libvirt
}

TEST_F(OvsPlug, HybridReplugIsIdempotent) {
  ASSERT_TRUE(plug(ovs_vif(true)).ok());
  auto links_before = net.links.size();
  ASSERT_TRUE(plug(ovs_vif(true)).ok());
  EXPECT_EQ(net.links.size(), links_before);
  int veths = 0;
  for (const auto& c : links.calls) veths += c.rfind("create_veth_pair", 0) == 0;
  EXPECT_EQ(veths, 1);
  EXPECT_EQ(ovs.ports.size(), 1u);
}

TEST_F(OvsPlug, HybridUsesTheNetworkBridgeToo) {
  // os-vif's _plug_bridge also puts qvo on network.bridge: a hybrid
  // destination in seed 000 gets its qvo on an OVS bridge brq....
  Vif v = ovs_vif(true);
  v.network_bridge = lb_bridge_name(kNet);
  ASSERT_TRUE(plug(v).ok());
  EXPECT_EQ(ovs.ports.at(hybrid_ovs_veth(kPort)).bridge, "brq0fe9c836-58");
}

TEST_F(OvsPlug, IfaceIdIsTheOvsInterfaceIdWhenSet) {
  Vif v = ovs_vif(true);
  v.ovs_interfaceid = "11111111-2222-3333-4444-555555555555";
  ASSERT_TRUE(plug(v).ok());
  EXPECT_EQ(ovs.ports.at(hybrid_ovs_veth(kPort)).external_ids.at("iface-id"), v.ovs_interfaceid);
}

TEST_F(OvsPlug, HybridUnplugRemovesEverything) {
  ASSERT_TRUE(plug(ovs_vif(true)).ok());
  net.links[tap_name(kPort)] = {"tap", hybrid_bridge_name(kPort), true};  // the guest's tap (libvirt)
  ASSERT_TRUE(unplug(ovs_vif(true)).ok());
  EXPECT_FALSE(net.links.count(hybrid_bridge_name(kPort)));
  EXPECT_FALSE(net.links.count(hybrid_bridge_veth(kPort)));
  EXPECT_FALSE(net.links.count(hybrid_ovs_veth(kPort)));
  EXPECT_TRUE(ovs.ports.empty());
  EXPECT_TRUE(ovs.bridge_exists("br-int"));  // shared: never deleted
  // Again: everything already gone is success.
  EXPECT_TRUE(unplug(ovs_vif(true)).ok());
}

TEST_F(OvsPlug, UnplugOfPlainVifWithLeftoverQbrCleansHybridDevices) {
  ASSERT_TRUE(plug(ovs_vif(true)).ok());
  ASSERT_TRUE(unplug(ovs_vif(false)).ok());  // os-vif checks whether qbr exists
  EXPECT_FALSE(net.links.count(hybrid_bridge_name(kPort)));
  EXPECT_TRUE(ovs.ports.empty());
}

TEST_F(OvsPlug, PlainUnplugDeletesTheTapPort) {
  ASSERT_TRUE(plug(ovs_vif(false)).ok());
  // What libvirt did for <virtualport type='openvswitch'>.
  net.links[tap_name(kPort)] = {"tap", "", true};
  ASSERT_TRUE(ovs.add_port("br-int", tap_name(kPort), ovs_interface_external_ids(ovs_vif(false), kVm),
                           std::nullopt).ok());
  ASSERT_TRUE(unplug(ovs_vif(false)).ok());
  EXPECT_TRUE(ovs.ports.empty());
  EXPECT_FALSE(net.links.count(tap_name(kPort)));
  EXPECT_TRUE(ovs.bridge_exists("br-int"));
  EXPECT_TRUE(unplug(ovs_vif(false)).ok());
}

TEST_F(OvsPlug, RejectsNonOvsVifsAndMissingBridge) {
  Vif lb = ovs_vif(false);
  lb.vif_type = "bridge";
  EXPECT_EQ(plug(lb).code(), StatusCode::kInvalidArgument);
  Vif nobridge = ovs_vif(false);
  nobridge.network_bridge.clear();
  EXPECT_EQ(plug(nobridge).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ovs.bridges.empty());
}

TEST_F(OvsPlug, FailureNamesTheStep) {
  ovs.fail.insert("add_port");
  Status s = plug(ovs_vif(true));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("add port qvocfcfd97b-b5 to br-int"), std::string::npos) << s.to_string();
  // A replug after the fault repairs it.
  ovs.fail.clear();
  ASSERT_TRUE(plug(ovs_vif(true)).ok());
  EXPECT_EQ(ovs.ports.at(hybrid_ovs_veth(kPort)).bridge, "br-int");
}

// ---------------------------------------------------------------- OvsAgent

class OvsAgentTest : public ::testing::Test {
 protected:
  void SetUp() override { build({}); }

  void build(OvsAgentConfig overrides, NeutronBehaviour nb = {}) {
    agent.reset();
    neutron = std::make_unique<NeutronServer>(timeline, nb);
    OvsAgentConfig c = std::move(overrides);
    c.host = "dst";
    c.polling_interval = 2s;
    if (c.bridge_mappings.empty()) c.bridge_mappings = {{"physnet1", "br-physnet1"}};
    agent = std::make_unique<OvsAgent>(c, ovs, *neutron, loop, timeline);
    neutron->set_binding_activate_notifier([this](const std::string& p, const std::string& h) {
      agent->binding_activate(p, h);
    });
    neutron->set_binding_deactivate_notifier([this](const std::string& p, const std::string& h) {
      agent->binding_deactivate(p, h);
    });
    neutron->set_vif_event_sink([this](const std::string& e, const std::string& p) {
      events.push_back(e + " " + p.substr(0, 11));
    });
    ASSERT_TRUE(neutron->create_network({kNet, "vlan", "physnet1", 100}).ok());
    ASSERT_TRUE(neutron->create_network({kNet2, "vlan", "physnet1", 200}).ok());
    ASSERT_TRUE(neutron->create_network({kNet3, "flat", "physnet1", 0}).ok());
    // The hosts run the openvswitch agent (bindings are decided by it).
    for (const char* h : {"src", "dst", "other"}) {
      AgentConfig a;
      a.host = h;
      a.agent_type = "openvswitch";
      a.firewall_driver = "iptables_hybrid";
      a.bridge_mappings = {{"physnet1", "br-physnet1"}};
      neutron->register_agent(a);
    }
  }

  // A port of 'network' with bindings on 'hosts' (the first one ACTIVE).
  void make_port(const std::string& id, const std::string& network, std::vector<std::string> hosts) {
    Port p;
    p.id = id;
    p.network_id = network;
    p.mac = kMac;
    p.device_id = kVm;
    ASSERT_TRUE(neutron->create_port(p).ok());
    for (const auto& h : hosts) ASSERT_TRUE(neutron->create_binding(id, h).ok());
  }

  // What os-vif (hybrid: qvo) or libvirt (plain: the tap) puts on br-int.
  void add_vif_port(const std::string& port_id, const std::string& name) {
    ovs.bridges.emplace("br-int", FakeOvsDatabase::Bridge{"system"});
    ASSERT_TRUE(ovs.add_port("br-int", name,
                             {{"iface-id", port_id}, {"iface-status", "active"},
                              {"attached-mac", kMac}, {"vm-uuid", kVm}},
                             std::nullopt)
                    .ok());
  }

  std::optional<int> tag(const std::string& name) { return ovs.ports.at(name).tag; }
  std::string status(const std::string& port) { return neutron->port(port)->status; }
  std::string src() const { return "agent.ovs.dst"; }

  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  FakeOvsDatabase ovs;
  std::unique_ptr<NeutronServer> neutron;
  std::unique_ptr<OvsAgent> agent;
  std::vector<std::string> events;
};

TEST_F(OvsAgentTest, StartEnsuresIntegrationBridgeAndPollsAtOnceThenEveryInterval) {
  OvsAgentConfig c;
  c.datapath_type = "netdev";
  build(c);
  agent->start();
  EXPECT_EQ(ovs.bridges.at("br-int").datapath_type, "netdev");
  ASSERT_TRUE(loop.run_for(1ms).ok());
  ASSERT_TRUE(agent->last_poll().has_value());
  MonoTime first = *agent->last_poll();
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(*agent->last_poll() - first, 2s);
  agent->stop();
  ASSERT_TRUE(loop.run_for(10s).ok());
  EXPECT_EQ(*agent->last_poll() - first, 2s);
}

TEST_F(OvsAgentTest, NoActiveBindingUntilActivationThenBoundWithinOneInterval) {
  make_port(kPort, kNet, {"src", "dst"});  // ACTIVE on src, INACTIVE here
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  add_vif_port(kPort, "qvocfcfd97b-b5");
  ASSERT_TRUE(loop.run_for(10s).ok());  // five polls, each NO_ACTIVE_BINDING
  EXPECT_EQ(timeline.all(src(), "skip tapcfcfd97b-b5: NO_ACTIVE_BINDING").size(), 1u);  // logged once
  EXPECT_FALSE(tag("qvocfcfd97b-b5").has_value());
  EXPECT_EQ(ovs.count("provision_local_vlan"), 0);
  EXPECT_TRUE(agent->bound_ports().empty());
  EXPECT_TRUE(events.empty());

  ASSERT_TRUE(neutron->activate_binding(kPort, "dst").ok());
  MonoTime activated = clock.now();
  ASSERT_TRUE(timeline.first(src(), "binding_activate tapcfcfd97b-b5").has_value());
  ASSERT_TRUE(loop.run_for(2s).ok());
  auto up = timeline.first(src(), "device up tapcfcfd97b-b5");
  ASSERT_TRUE(up.has_value());
  EXPECT_LE(up->t - activated, 2s);
  EXPECT_EQ(tag("qvocfcfd97b-b5"), 1);
  EXPECT_EQ(agent->local_vlan(kNet), 1);
  EXPECT_EQ(ovs.count("provision_local_vlan 1 physnet1 vlan 100"), 1);
  EXPECT_EQ(status(kPort), "ACTIVE");
  EXPECT_EQ(events, std::vector<std::string>{"network-vif-plugged " + kPort.substr(0, 11)});
  // Later polls leave a bound port alone.
  ASSERT_TRUE(loop.run_for(10s).ok());
  EXPECT_EQ(ovs.count("set_tag"), 1);
  EXPECT_EQ(timeline.all(src(), "device up").size(), 1u);
}

TEST_F(OvsAgentTest, HonourMigratingToBindsBeforeActivation) {
  OvsAgentConfig c;
  c.honour_migrating_to = true;
  build(c, NeutronBehaviour{.vif_plugged_from_agent_only = true});
  make_port(kPort, kNet, {"src", "dst"});
  add_vif_port(kPort, "qvocfcfd97b-b5");
  agent->start();
  ASSERT_TRUE(loop.run_for(1s).ok());
  EXPECT_TRUE(timeline.first(src(), "skip tapcfcfd97b-b5: NO_ACTIVE_BINDING").has_value());
  ASSERT_TRUE(neutron->update_profile(kPort, "migrating_to", "dst").ok());
  EXPECT_TRUE(events.empty());  // the fixed neutron: not from the profile update
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(tag("qvocfcfd97b-b5"), 1);
  EXPECT_EQ(events, std::vector<std::string>{"network-vif-plugged " + kPort.substr(0, 11)});
  EXPECT_EQ(status(kPort), "DOWN");  // the ACTIVE binding is still the source's
}

TEST_F(OvsAgentTest, LocalVlanPerNetworkReusedAndReclaimedWithItsLastPort) {
  make_port(kPort, kNet, {"dst"});
  make_port(kPort2, kNet, {"dst"});
  make_port(kPort3, kNet2, {"dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  add_vif_port(kPort2, "tapa1b2c3d4-e5");
  add_vif_port(kPort3, "tapb2c3d4e5-f6");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_EQ(tag("tapcfcfd97b-b5"), 1);
  EXPECT_EQ(tag("tapa1b2c3d4-e5"), 1);
  EXPECT_EQ(tag("tapb2c3d4e5-f6"), 2);
  EXPECT_EQ(ovs.count("provision_local_vlan"), 2);  // once per network
  EXPECT_EQ(ovs.flows.at(1).segmentation_id, 100);
  EXPECT_EQ(ovs.flows.at(2).segmentation_id, 200);
  for (const auto& p : {kPort, kPort2, kPort3}) EXPECT_EQ(status(p), "ACTIVE");

  // One of two ports of kNet leaves: the VLAN stays.
  ASSERT_TRUE(ovs.delete_port("tapcfcfd97b-b5").ok());
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_TRUE(timeline.first(src(), "device removed tapcfcfd97b-b5").has_value());
  EXPECT_EQ(status(kPort), "DOWN");
  EXPECT_EQ(agent->local_vlan(kNet), 1);
  EXPECT_EQ(ovs.count("reclaim_local_vlan"), 0);

  // The last one leaves: VLAN 1 and its flows are reclaimed.
  ASSERT_TRUE(ovs.delete_port("tapa1b2c3d4-e5").ok());
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(status(kPort2), "DOWN");
  EXPECT_FALSE(agent->local_vlan(kNet).has_value());
  EXPECT_EQ(ovs.count("reclaim_local_vlan 1"), 1);
  EXPECT_FALSE(ovs.flows.count(1));
  EXPECT_TRUE(timeline.first(src(), "reclaim local vlan 1").has_value());

  // A new network takes the lowest free VLAN again.
  make_port(kPort4, kNet3, {"dst"});
  add_vif_port(kPort4, "tapc3d4e5f6-a7");
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(tag("tapc3d4e5f6-a7"), 1);
  EXPECT_EQ(ovs.flows.at(1).network_type, "flat");
  EXPECT_EQ(tag("tapb2c3d4e5-f6"), 2);
  EXPECT_EQ(ovs.count("set_tag tapb2c3d4e5-f6"), 1);
}

TEST_F(OvsAgentTest, RemovedPortIsReportedDownAndNovaToldUnplugged) {
  make_port(kPort, kNet, {"dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  ASSERT_EQ(status(kPort), "ACTIVE");
  ASSERT_TRUE(ovs.delete_port("tapcfcfd97b-b5").ok());
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(status(kPort), "DOWN");
  EXPECT_EQ(events, (std::vector<std::string>{"network-vif-plugged " + kPort.substr(0, 11),
                                              "network-vif-unplugged " + kPort.substr(0, 11)}));
  EXPECT_TRUE(agent->bound_ports().empty());
}

TEST_F(OvsAgentTest, DeactivatedBindingUnplugsThePortFromTheIntegrationBridge) {
  make_port(kPort, kNet, {"dst", "other"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  ASSERT_EQ(agent->local_vlan(kNet), 1);
  ASSERT_TRUE(neutron->activate_binding(kPort, "other").ok());
  ASSERT_TRUE(timeline.first(src(), "binding_deactivate tapcfcfd97b-b5").has_value());
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_FALSE(ovs.ports.count("tapcfcfd97b-b5"));
  EXPECT_TRUE(timeline.first(src(), "unplug tapcfcfd97b-b5 from br-int: binding deactivated").has_value());
  EXPECT_TRUE(agent->bound_ports().empty());
  EXPECT_FALSE(agent->local_vlan(kNet).has_value());
  // The server ignores the down report of a host that is no longer active.
  EXPECT_EQ(status(kPort), "ACTIVE");
}

TEST_F(OvsAgentTest, PortWithoutBindingHereGoesToTheDeadVlan) {
  make_port(kPort, kNet, {"src", "dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  ovs.ports.at("tapcfcfd97b-b5").tag = 7;  // left from an earlier binding here
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_EQ(tag("tapcfcfd97b-b5"), kDeadVlanTag);
  EXPECT_TRUE(timeline.first(src(), "port dead tapcfcfd97b-b5").has_value());
  ASSERT_TRUE(neutron->activate_binding(kPort, "dst").ok());
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(tag("tapcfcfd97b-b5"), 1);
}

TEST_F(OvsAgentTest, UnknownPortIsSkippedAndAskedAgain) {
  const std::string id = "deadbeef-0000-4000-8000-000000000000";
  add_vif_port(id, "tapdeadbeef-00");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_TRUE(timeline.first(src(), "skip tapdeadbeef-00: not defined on plugin").has_value());
  EXPECT_TRUE(agent->bound_ports().empty());
  // Once the server knows the port, the next poll binds it.
  make_port(id, kNet, {"dst"});
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(agent->bound_ports(), std::set<std::string>{id});
  EXPECT_EQ(tag("tapdeadbeef-00"), 1);
}

TEST_F(OvsAgentTest, PortsWithoutIfaceIdAreNotTheAgents) {
  ovs.bridges.emplace("br-int", FakeOvsDatabase::Bridge{"system"});
  ASSERT_TRUE(ovs.add_port("br-int", "int-br-physnet1", {}, std::nullopt).ok());
  agent->start();
  ASSERT_TRUE(loop.run_for(5s).ok());
  EXPECT_TRUE(timeline.all(src(), "skip").empty());
  EXPECT_EQ(ovs.count("set_tag"), 0);
}

TEST_F(OvsAgentTest, ProvisionFailureIsRetriedWithoutLeakingTheVlan) {
  make_port(kPort, kNet, {"dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  ovs.fail.insert("provision_local_vlan");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_TRUE(timeline.first(src(), "bind tapcfcfd97b-b5 failed").has_value());
  EXPECT_FALSE(tag("tapcfcfd97b-b5").has_value());
  EXPECT_EQ(status(kPort), "DOWN");
  EXPECT_FALSE(agent->local_vlan(kNet).has_value());
  ovs.fail.clear();
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(tag("tapcfcfd97b-b5"), 1);
  EXPECT_EQ(status(kPort), "ACTIVE");
}

TEST_F(OvsAgentTest, SetTagFailureReleasesTheNetworksVlan) {
  make_port(kPort, kNet, {"dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  ovs.fail.insert("set_tag");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_FALSE(agent->local_vlan(kNet).has_value());
  EXPECT_EQ(ovs.count("reclaim_local_vlan 1"), 1);
  ovs.fail.clear();
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(tag("tapcfcfd97b-b5"), 1);
  EXPECT_EQ(status(kPort), "ACTIVE");
}

TEST_F(OvsAgentTest, UnmappedPhysnetIsBoundWithoutFlowsAsNeutronDoes) {
  OvsAgentConfig c;
  c.bridge_mappings = {{"physnet2", "br-physnet2"}};
  build(c);
  make_port(kPort, kNet, {"dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_TRUE(timeline.first(src(), "cannot provision local vlan 1").has_value());
  EXPECT_EQ(ovs.count("provision_local_vlan"), 0);
  EXPECT_EQ(tag("tapcfcfd97b-b5"), 1);
  EXPECT_EQ(status(kPort), "ACTIVE");
}

TEST_F(OvsAgentTest, BindingActivateForAnotherHostIsIgnored) {
  make_port(kPort, kNet, {"src", "dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  agent->binding_activate(kPort, "src");
  agent->binding_deactivate(kPort, "src");
  EXPECT_FALSE(timeline.first(src(), "binding_activate").has_value());
  EXPECT_FALSE(timeline.first(src(), "binding_deactivate").has_value());
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_TRUE(ovs.ports.count("tapcfcfd97b-b5"));
}

TEST_F(OvsAgentTest, ListFailureIsRecordedAndPollingGoesOn) {
  make_port(kPort, kNet, {"dst"});
  add_vif_port(kPort, "tapcfcfd97b-b5");
  ovs.fail.insert("list_ports");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  EXPECT_TRUE(timeline.first(src(), "poll failed: UNAVAILABLE").has_value());
  ovs.fail.clear();
  ASSERT_TRUE(loop.run_for(2s).ok());
  EXPECT_EQ(status(kPort), "ACTIVE");
}

}  // namespace
}  // namespace lmh::core

namespace lmh::core {
namespace {

TEST_F(OvsAgentTest, PortUpReportLostOrLateByFault) {
  auto drop = faults::parse_fault_spec("agent.ovs.port_up=drop@nth:1");
  auto delay = faults::parse_fault_spec("agent.ovs.port_up=delay:1500@nth:2");
  ASSERT_TRUE(drop.ok() && delay.ok());
  faults::FaultPlan plan({*drop, *delay}, 1);
  OvsAgentConfig c;
  c.faults = &plan;
  build(c);
  make_port(kPort, kNet, {"dst"});
  make_port(kPort2, kNet, {"dst"});
  add_vif_port(kPort, "qvocfcfd97b-b5");
  agent->start();
  ASSERT_TRUE(loop.run_for(100ms).ok());
  // First report lost: bound and tagged here, but the server never hears.
  EXPECT_EQ(tag("qvocfcfd97b-b5"), 1);
  EXPECT_TRUE(timeline.first(src(), "device up tapcfcfd97b-b5 lost").has_value());
  EXPECT_EQ(status(kPort), "DOWN");
  EXPECT_TRUE(events.empty());
  // Second report late by 1.5 s.
  add_vif_port(kPort2, "tap" + kPort2.substr(0, 11));
  ASSERT_TRUE(loop.run_for(2s).ok());  // the next poll binds it
  EXPECT_EQ(status(kPort2), "DOWN");
  ASSERT_TRUE(loop.run_for(1500ms).ok());
  EXPECT_EQ(status(kPort2), "ACTIVE");
  EXPECT_EQ(plan.counts().at("agent.ovs.port_up").injected, 2);
}

}  // namespace
}  // namespace lmh::core
