// The L2 backend registry: names and their errors, each registered backend
// building its agent from a HostConfig, and the cloud holding one agent per
// host behind L2Agent, whatever the backend (the runner aims a migration at
// the destination agent's poll phase through it, OVS destinations included).
#include "core/l2_backend.h"

#include <gtest/gtest.h>

#include "core/cloud.h"
#include "core/lb_agent.h"
#include "core/mechanism_driver.h"
#include "core/ovs_agent.h"
#include "fakes.h"
#include "ovs_fakes.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using testing::FakeHostNetwork;
using testing::FakeHypervisor;
using testing::FakeLinkOps;
using testing::FakeOvsDatabase;

TEST(Backend, NamesRoundTrip) {
  for (Backend b : all_backends()) {
    auto parsed = parse_backend(to_string(b));
    ASSERT_TRUE(parsed.ok()) << to_string(b);
    EXPECT_EQ(*parsed, b);
  }
  EXPECT_STREQ(to_string(Backend::kLinuxBridge), "linuxbridge");
  EXPECT_STREQ(to_string(Backend::kOpenVswitch), "openvswitch");
}

TEST(Backend, AnUnknownNameSaysWhichAreKnown) {
  auto b = parse_backend("ovs");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b.status().message(), "must be one of: linuxbridge, openvswitch, ovn, got 'ovs'");
}

TEST(MigrationKind, ScenarioAndNovaSpellings) {
  EXPECT_EQ(*parse_migration_kind("live"), MigrationKind::kLive);
  EXPECT_EQ(*parse_migration_kind("cold"), MigrationKind::kCold);
  EXPECT_EQ(*parse_migration_kind("resize"), MigrationKind::kResize);
  EXPECT_STREQ(nova_migration_type(MigrationKind::kLive), "live-migration");
  EXPECT_STREQ(nova_migration_type(MigrationKind::kCold), "migration");
  EXPECT_STREQ(nova_migration_type(MigrationKind::kResize), "resize");
  auto k = parse_migration_kind("evacuate");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(), "expected live, cold or resize, got 'evacuate'");
}

TEST(L2BackendRegistry, TheBuiltInBackendsAreRegistered) {
  EXPECT_EQ(registered_l2_backends(), (std::vector<std::string>{"linuxbridge", "openvswitch", "ovn"}));
  for (Backend b : all_backends()) {
    auto by_enum = find_l2_backend(b);
    ASSERT_TRUE(by_enum.ok()) << by_enum.status().to_string();
    EXPECT_EQ((*by_enum)->backend, b);
    auto by_name = find_l2_backend(std::string(to_string(b)));
    ASSERT_TRUE(by_name.ok());
    EXPECT_EQ(*by_name, *by_enum);
  }
}

TEST(L2BackendRegistry, AnUnknownNameIsAClearError) {
  auto c = find_l2_backend(std::string("midonet"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.status().message(), "unknown L2 backend 'midonet' (registered: linuxbridge, openvswitch, ovn)");
}

TEST(L2BackendRegistry, ABackendRegistersOnce) {
  Status again = register_l2_backend(linuxbridge_backend());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "L2 backend 'linuxbridge' is registered already");
  EXPECT_EQ(registered_l2_backends().size(), 3u);
}

// What a backend's factory is given, over fakes.
class L2BackendFactory : public ::testing::Test {
 protected:
  L2AgentDeps deps() { return {net, neutron, loop, timeline, behaviour, nullptr}; }

  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  NeutronServer neutron{timeline};
  Behaviour behaviour;
  FakeHostNetwork net;
  FakeOvsDatabase ovs;
  FakeLinkOps links{net};
};

TEST_F(L2BackendFactory, LinuxBridgeBuildsItsAgent) {
  HostConfig h;
  h.name = "cmp1";
  h.polling_interval = 750ms;
  h.physical_interface_mappings = {{"physnet1", "eth1"}};
  const L2BackendClass& lb = *find_l2_backend(Backend::kLinuxBridge).value();
  auto agent = lb.create_agent(h, deps());
  ASSERT_TRUE(agent.ok()) << agent.status().to_string();
  EXPECT_EQ((*agent)->backend(), Backend::kLinuxBridge);
  EXPECT_NE(dynamic_cast<LinuxBridgeAgent*>(agent->get()), nullptr);
  EXPECT_EQ((*agent)->host(), "cmp1");
  EXPECT_EQ((*agent)->polling_interval(), 750ms);
  EXPECT_FALSE((*agent)->last_poll().has_value());
  // What it reports to the server: its own firewall, whatever the host says.
  AgentConfig reported = lb.agent_config(h);
  EXPECT_EQ(reported.host, "cmp1");
  EXPECT_EQ(reported.agent_type, "linuxbridge");
  EXPECT_EQ(reported.firewall_driver, "iptables");
  EXPECT_EQ(reported.physical_interface_mappings, h.physical_interface_mappings);
}

TEST_F(L2BackendFactory, OpenVswitchBuildsItsAgent) {
  HostConfig h;
  h.name = "cmp2";
  h.backend = Backend::kOpenVswitch;
  h.polling_interval = 500ms;
  h.firewall_driver = "openvswitch";
  h.bridge_mappings = {{"physnet1", "br-ex"}};
  h.ovs = &ovs;
  h.links = &links;
  const L2BackendClass& ov = *find_l2_backend(Backend::kOpenVswitch).value();
  auto agent = ov.create_agent(h, deps());
  ASSERT_TRUE(agent.ok()) << agent.status().to_string();
  EXPECT_EQ((*agent)->backend(), Backend::kOpenVswitch);
  EXPECT_NE(dynamic_cast<OvsAgent*>(agent->get()), nullptr);
  EXPECT_EQ((*agent)->host(), "cmp2");
  EXPECT_EQ((*agent)->polling_interval(), 500ms);
  AgentConfig reported = ov.agent_config(h);
  EXPECT_EQ(reported.agent_type, "openvswitch");
  EXPECT_EQ(reported.firewall_driver, "openvswitch");
  EXPECT_EQ(reported.bridge_mappings, h.bridge_mappings);
}

TEST_F(L2BackendFactory, OpenVswitchNeedsItsDatabaseAndLinks) {
  HostConfig h;
  h.name = "cmp2";
  h.backend = Backend::kOpenVswitch;
  auto agent = find_l2_backend(Backend::kOpenVswitch).value()->create_agent(h, deps());
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(agent.status().message(), "host cmp2: an openvswitch host needs its OVSDB and link operations");
}

TEST_F(L2BackendFactory, EachBackendBindsWithItsOwnMechanismDriver) {
  const Network net_vlan{"0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11", "vlan", "physnet1", 100};
  HostConfig h;
  h.name = "cmp1";
  h.physical_interface_mappings = {{"physnet1", "eth1"}};
  h.bridge_mappings = {{"physnet1", "br-ex"}};
  for (Backend b : all_backends()) {
    h.backend = b;
    auto bound = bind_port(find_l2_backend(b).value()->agent_config(h), net_vlan);
    ASSERT_TRUE(bound.ok()) << to_string(b) << ": " << bound.status().to_string();
    EXPECT_EQ(bound->host, "cmp1");
    EXPECT_EQ(bound->vif_type, b == Backend::kLinuxBridge ? "bridge" : "ovs");
  }
}

// The cloud: one agent per host behind L2Agent.
class CloudAgents : public ::testing::Test {
 protected:
  void SetUp() override {
    src.links["eth1"] = {"nic", "", true};
    hv = std::make_unique<FakeHypervisor>(loop, std::map<std::string, FakeHostNetwork*>{{"src", &src}, {"dst", &dst}});
    hv->ovs_hosts["dst"] = &ovs;
    cloud = std::make_unique<Cloud>(loop, timeline, *hv, Behaviour{});
    HostConfig lb;
    lb.name = "src";
    lb.physical_interface_mappings = {{"physnet1", "eth1"}};
    ASSERT_TRUE(cloud->add_host(lb, src).ok());
    HostConfig ov;
    ov.name = "dst";
    ov.backend = Backend::kOpenVswitch;
    ov.polling_interval = 1500ms;
    ov.bridge_mappings = {{"physnet1", "br-ex"}};
    ov.ovs = &ovs;
    ov.links = &links;
    ASSERT_TRUE(cloud->add_host(ov, dst).ok());
  }

  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  FakeHostNetwork src, dst;
  FakeOvsDatabase ovs;
  FakeLinkOps links{dst};
  std::unique_ptr<FakeHypervisor> hv;
  std::unique_ptr<Cloud> cloud;
};

TEST_F(CloudAgents, EachHostHasTheAgentOfItsBackend) {
  ASSERT_NE(cloud->agent("src"), nullptr);
  ASSERT_NE(cloud->agent("dst"), nullptr);
  EXPECT_EQ(cloud->agent("src")->backend(), Backend::kLinuxBridge);
  EXPECT_EQ(cloud->agent("dst")->backend(), Backend::kOpenVswitch);
  EXPECT_EQ(cloud->agent("nowhere"), nullptr);
  // What the server was told about each host.
  EXPECT_EQ(cloud->neutron().agent("src")->agent_type, "linuxbridge");
  EXPECT_EQ(cloud->neutron().agent("dst")->agent_type, "openvswitch");
  // The OVS agent's own state stays reachable.
  auto* ovs_agent = dynamic_cast<OvsAgent*>(cloud->agent("dst"));
  ASSERT_NE(ovs_agent, nullptr);
  EXPECT_FALSE(ovs_agent->local_vlan("0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11").has_value());
}

// migration.resume_after_dest_poll_ms aims the switchover at the
// destination agent's poll phase: an OVS destination has one too.
TEST_F(CloudAgents, AnOvsDestinationHasAPollPhase) {
  ASSERT_TRUE(loop.run_for(100ms).ok());
  L2Agent* agent = cloud->agent("dst");
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(agent->polling_interval(), 1500ms);
  ASSERT_TRUE(agent->last_poll().has_value());  // the first poll runs at start
  const MonoTime first = *agent->last_poll();
  ASSERT_TRUE(loop.run_for(1500ms).ok());
  ASSERT_TRUE(agent->last_poll().has_value());
  EXPECT_EQ(*agent->last_poll() - first, 1500ms);
}

TEST_F(CloudAgents, AHostIsAddedOnce) {
  HostConfig again;
  again.name = "dst";
  EXPECT_EQ(cloud->add_host(again, dst).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(cloud->agent("dst")->backend(), Backend::kOpenVswitch);
}

}  // namespace
}  // namespace lmh::core
