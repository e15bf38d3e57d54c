// ML2/OVN in core: the OVN mechanism driver's bindings and northbound
// writes (logical switch, localnet port, requested-chassis during a live
// migration, activation strategy), its monitors turning OVN's port state
// into neutron's status and network-vif-plugged, and the chassis' wiring
// judgement, on fakes under a simulated clock.
#include <gtest/gtest.h>

#include "core/l2_backend.h"
#include "core/mechanism_driver.h"
#include "core/names.h"
#include "core/neutron.h"
#include "core/ovn_driver.h"
#include "ovn_fakes.h"
#include "ovs_fakes.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using testing::FakeHostNetwork;
using testing::FakeOvnNorthbound;
using testing::FakeOvsDatabase;

const std::string kNet = "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11";
const std::string kPort = "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30";
const std::string kMac = "fa:16:3e:3a:7b:01";

AgentConfig chassis(const std::string& host, const std::string& encap_ip = "198.19.0.11") {
  HostConfig h;
  h.name = host;
  h.backend = Backend::kOvn;
  h.datapath_type = "netdev";
  h.bridge_mappings = {{"physnet1", "br-ex"}};
  h.ovn.encap_ip = encap_ip;
  return (*find_l2_backend(Backend::kOvn))->agent_config(h);
}

// ---------------------------------------------------------------- bind_port

TEST(OvnMechanismDriver, BindsAPlainOvsPortOnBrInt) {
  auto b = bind_port(chassis("hv1"), {kNet, "vlan", "physnet1", 100});
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->vif_type, "ovs");
  // No ovs_hybrid_plug: OVN filters with ACLs, so os-vif plugs the tap on br-int.
  EXPECT_EQ(b->vif_details, (std::map<std::string, std::string>{{"bridge_name", "br-int"},
                                                                 {"port_filter", "true"},
                                                                 {"connectivity", "l2"},
                                                                 {"datapath_type", "netdev"}}));
}

TEST(OvnMechanismDriver, RefusesAPhysnetTheChassisDoesNotMapAndGeneveWithoutAnEncap) {
  auto vlan = bind_port(chassis("hv1"), {kNet, "vlan", "physnet2", 100});
  EXPECT_EQ(vlan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(vlan.status().message().find("physnet2 not in the chassis' ovn-bridge-mappings"), std::string::npos)
      << vlan.status().message();
  EXPECT_TRUE(bind_port(chassis("hv1"), {kNet, "geneve", "", 1001}).ok());
  auto no_encap = bind_port(chassis("hv1", ""), {kNet, "geneve", "", 1001});
  EXPECT_EQ(no_encap.status().code(), StatusCode::kFailedPrecondition);
  // The agents of the other backends do not serve geneve either.
  AgentConfig ovs = chassis("ovs1");
  ovs.agent_type = "openvswitch";
  ovs.tunnel_types = {"vxlan"};
  EXPECT_FALSE(bind_port(ovs, {kNet, "geneve", "", 1001}).ok());
}

// ------------------------------------------------------ northbound writes

struct OvnCloud {
  explicit OvnCloud(OvnDriverConfig config = {}, NeutronBehaviour nb_behaviour = {})
      : neutron(timeline, nb_behaviour), driver(config, nb, neutron, loop, timeline) {
    for (const char* h : {"hv1", "hv2"}) neutron.register_agent(chassis(h));
    neutron.set_vif_event_sink([this](const std::string& event, const std::string& port) {
      events.push_back(event + " " + port.substr(0, 8));
      event_ms.push_back(now_ms());
    });
    driver.start();
  }
  void boot_on_hv1() {
    ASSERT_TRUE(neutron.create_network({kNet, "vlan", "physnet1", 100}).ok());
    ASSERT_TRUE(neutron.create_port({kPort, kNet, kMac, "198.18.0.10", "vm"}).ok());
    ASSERT_TRUE(neutron.create_binding(kPort, "hv1").ok());
  }
  std::map<std::string, std::string> options() { return nb.ports.at(kPort).options; }
  // Queues what northd and the chassis would report for the port, then
  // lets the monitors run.
  void report(bool up, const std::string& main, std::vector<std::string> additional = {},
              const std::string& activated = "") {
    nb.pending.push_back(OvnPortState{kPort, up, main, std::move(additional), activated});
    (void)loop.run_for(5ms);
  }
  long now_ms() const {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(loop.now() - t0).count());
  }

  SimulatedClock clock;
  MonoTime t0 = clock.now();
  EventLoop loop{clock};
  Timeline timeline{clock};
  FakeOvnNorthbound nb;
  NeutronServer neutron;
  OvnMechanismDriver driver;
  std::vector<std::string> events;
  std::vector<long> event_ms;
};

TEST(OvnMechanismDriver, AVlanNetworkIsALogicalSwitchWithALocalnetPort) {
  OvnCloud c;
  ASSERT_TRUE(c.neutron.create_network({kNet, "vlan", "physnet1", 100}).ok());
  ASSERT_TRUE(c.neutron.create_network({"geneve-net", "geneve", "", 1001}).ok());
  const OvnLogicalSwitch& ls = c.nb.switches.at("neutron-" + kNet);
  EXPECT_EQ(ls.localnet_port, "provnet-" + kNet);
  EXPECT_EQ(ls.physnet, "physnet1");
  EXPECT_EQ(ls.tag, 100);
  // A tunnel network reaches other chassis over Geneve only.
  EXPECT_EQ(c.nb.switches.at("neutron-geneve-net").localnet_port, "");
}

TEST(OvnMechanismDriver, APortIsRequestedOnItsActiveBindingsHost) {
  OvnCloud c;
  c.boot_on_hv1();
  EXPECT_EQ(c.nb.ports.at(kPort).logical_switch, "neutron-" + kNet);
  EXPECT_EQ(c.nb.ports.at(kPort).mac, kMac);
  EXPECT_EQ(c.options(), (std::map<std::string, std::string>{{"requested-chassis", "hv1"}}));
}

TEST(OvnMechanismDriver, AMigratingPortIsRequestedOnBothChassisUntilTheDestinationIsActivated) {
  OvnCloud c;
  c.boot_on_hv1();
  ASSERT_TRUE(c.neutron.create_binding(kPort, "hv2").ok());
  // An INACTIVE binding writes nothing (create_port_binding does not commit to OVN).
  EXPECT_EQ(c.nb.count("set_port_options"), 1);
  ASSERT_TRUE(c.neutron.update_profile(kPort, "migrating_to", "hv2").ok());
  EXPECT_EQ(c.options(), (std::map<std::string, std::string>{{"requested-chassis", "hv1,hv2"},
                                                              {"activation-strategy", "rarp"}}));
  ASSERT_TRUE(c.neutron.activate_binding(kPort, "hv2").ok());
  // The whole map is replaced: activation-strategy goes with the source.
  EXPECT_EQ(c.options(), (std::map<std::string, std::string>{{"requested-chassis", "hv2"}}));
  ASSERT_TRUE(c.neutron.update_profile(kPort, "migrating_to", std::nullopt).ok());
  ASSERT_TRUE(c.neutron.delete_binding(kPort, "hv1").ok());
  EXPECT_EQ(c.nb.count("set_port_options"), 3) << "unchanged options are not written again";
}

TEST(OvnMechanismDriver, WithoutMultichassisBindingsTheDestinationWaitsForActivation) {
  OvnCloud c({.multichassis_binding = false});
  c.boot_on_hv1();
  ASSERT_TRUE(c.neutron.create_binding(kPort, "hv2").ok());
  ASSERT_TRUE(c.neutron.update_profile(kPort, "migrating_to", "hv2").ok());
  EXPECT_EQ(c.options(), (std::map<std::string, std::string>{{"requested-chassis", "hv1"}}));
  ASSERT_TRUE(c.neutron.activate_binding(kPort, "hv2").ok());
  EXPECT_EQ(c.options(), (std::map<std::string, std::string>{{"requested-chassis", "hv2"}}));
}

TEST(OvnMechanismDriver, AnEmptyActivationStrategyIsNotWritten) {
  OvnCloud c({.activation_strategy = ""});
  c.boot_on_hv1();
  ASSERT_TRUE(c.neutron.create_binding(kPort, "hv2").ok());
  ASSERT_TRUE(c.neutron.update_profile(kPort, "migrating_to", "hv2").ok());
  EXPECT_EQ(c.options(), (std::map<std::string, std::string>{{"requested-chassis", "hv1,hv2"}}));
}

// ---------------------------------------------------------------- monitors

TEST(OvnMechanismDriver, APortUpOnItsBoundChassisBecomesActiveAndNovaIsTold) {
  OvnCloud c;
  c.boot_on_hv1();
  c.report(false, "hv1");
  EXPECT_EQ(c.neutron.port(kPort)->status, "DOWN");
  c.report(true, "hv1");
  EXPECT_EQ(c.neutron.port(kPort)->status, "ACTIVE");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].substr(0, 28), "network-vif-plugged cfcfd97b");
  // Up on a chassis the port is not bound to does not count.
  c.report(false, "hv2");
  EXPECT_EQ(c.neutron.port(kPort)->status, "ACTIVE");
}

TEST(OvnMechanismDriver, AsShippedTheMigrationsVifPluggedGoesOutOnTheMigratingToUpdate) {
  OvnCloud c;  // vif_plugged_on_additional_chassis off: neutron before 28.0.0
  c.boot_on_hv1();
  c.report(true, "hv1");
  c.events.clear();
  ASSERT_TRUE(c.neutron.create_binding(kPort, "hv2").ok());
  ASSERT_TRUE(c.neutron.update_profile(kPort, "migrating_to", "hv2").ok());
  ASSERT_EQ(c.events.size(), 1u) << "the fake event, before hv2 has claimed anything";
  c.report(true, "hv1", {"hv2"});
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(OvnMechanismDriver, WithTheFixVifPluggedWaitsForTheDestinationsAdditionalClaim) {
  OvnCloud c({.vif_plugged_on_additional_chassis = true}, {.vif_plugged_from_agent_only = true});
  c.boot_on_hv1();
  c.report(true, "hv1");
  c.events.clear();
  ASSERT_TRUE(c.neutron.create_binding(kPort, "hv2").ok());
  ASSERT_TRUE(c.neutron.update_profile(kPort, "migrating_to", "hv2").ok());
  (void)c.loop.run_for(100ms);
  EXPECT_TRUE(c.events.empty());
  const long claimed_ms = c.now_ms();
  c.report(true, "hv1", {"hv2"});
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0], "network-vif-plugged cfcfd97b");
  // At the monitors' next read of the databases.
  EXPECT_LE(c.event_ms[0] - claimed_ms, 2);
  // The same claim seen again (activation recorded) is not a second event.
  c.report(true, "hv1", {"hv2"}, "hv2");
  EXPECT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.driver.port_state(kPort)->activated, "hv2");
}

// ----------------------------------------------------------------- wiring

TEST(OvnControllerAgent, APortIsWiredOnceOvnControllerMarkedItsInterfaceInstalled) {
  SimulatedClock clock;
  EventLoop loop(clock);
  Timeline timeline(clock);
  FakeOvsDatabase ovs;
  FakeHostNetwork net;
  OvnControllerAgent agent("hv2", "br-int", ovs, loop, timeline);
  ASSERT_TRUE(ovs.ensure_bridge("br-int", "netdev").ok());
  ASSERT_TRUE(ovs.ensure_bridge("br-ex", "netdev").ok());
  Vif vif;
  vif.port_id = kPort;
  vif.vif_type = "ovs";
  vif.details = {{"bridge_name", "br-int"}};
  const std::string tap = tap_name(kPort);
  EXPECT_NE(agent.wiring_problem(vif, net).find("is on OVS bridge (none)"), std::string::npos);
  ASSERT_TRUE(ovs.add_port("br-int", tap, {{"iface-id", kPort}}, std::nullopt).ok());
  EXPECT_NE(agent.wiring_problem(vif, net).find("not ovn-installed"), std::string::npos);
  ASSERT_TRUE(ovs.add_port("br-int", tap, {{"iface-id", kPort}, {"ovn-installed", "true"}}, std::nullopt).ok());
  EXPECT_EQ(agent.wiring_problem(vif, net), "");
  vif.vif_type = "bridge";
  EXPECT_NE(agent.wiring_problem(vif, net).find("bound as bridge"), std::string::npos);
}

TEST(OvnControllerAgent, TimesATapFromBrIntToOvnInstalled) {
  SimulatedClock clock;
  EventLoop loop(clock);
  Timeline timeline(clock);
  FakeOvsDatabase ovs;
  OvnControllerAgent agent("hv2", "br-int", ovs, loop, timeline);
  ASSERT_TRUE(ovs.ensure_bridge("br-int", "netdev").ok());
  agent.start();
  (void)loop.run_for(20ms);
  const std::string tap = tap_name(kPort);
  ASSERT_TRUE(ovs.add_port("br-int", tap, {{"iface-id", kPort}}, std::nullopt).ok());
  (void)loop.run_for(100ms);
  EXPECT_FALSE(agent.flows_installed_after(kPort));
  ASSERT_TRUE(ovs.add_port("br-int", tap, {{"iface-id", kPort}, {"ovn-installed", "true"}}, std::nullopt).ok());
  (void)loop.run_for(20ms);
  ASSERT_TRUE(agent.flows_installed_after(kPort));
  // Seen within one watch interval of each change.
  EXPECT_NEAR(std::chrono::duration_cast<std::chrono::milliseconds>(*agent.flows_installed_after(kPort)).count(),
              100, 5);
  agent.stop();
  EXPECT_EQ(loop.pending(), 0u);
}

}  // namespace
}  // namespace lmh::core
