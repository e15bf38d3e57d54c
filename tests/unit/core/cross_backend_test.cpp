// Seed 000 in core: live migration from a linuxbridge host to an
// openvswitch host. As shipped, the destination XML keeps the source's
// bridge brq<net>; os-vif's plain OVS plug creates an OVS bridge of that name
// and libvirt puts the tap there, out of br-int's reach: the OVS agent never
// wires it. With dest_xml_bridge=destination the tap lands on br-int.
#include <gtest/gtest.h>

#include "core/cloud.h"
#include "core/names.h"
#include "fakes.h"
#include "ovs_fakes.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using testing::FakeHostNetwork;
using testing::FakeHypervisor;
using testing::FakeLinkOps;
using testing::FakeOvsDatabase;

const std::string kNet = "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11";
const std::string kPort = "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30";
const std::string kVm = "7c1e2a5b-3d4f-4a6b-8c9d-0e1f2a3b4c5d";

class CrossBackend : public ::testing::Test {
 protected:
  void build(DestXmlBridge mode, bool hybrid = false) {
    src.links["eth1"] = {"nic", "", true};
    hv = std::make_unique<FakeHypervisor>(loop, std::map<std::string, FakeHostNetwork*>{{"src", &src}, {"dst", &dst}});
    hv->ovs_hosts["dst"] = &ovs;
    Behaviour b;
    b.dest_xml_bridge = mode;
    cloud = std::make_unique<Cloud>(loop, timeline, *hv, b);
    ASSERT_TRUE(cloud->neutron().create_network({kNet, "vlan", "physnet1", 100}).ok());
    Port p;
    p.id = kPort;
    p.network_id = kNet;
    p.mac = "fa:16:3e:cf:cf:d9";
    p.device_id = kVm;
    ASSERT_TRUE(cloud->neutron().create_port(p).ok());
    HostConfig lb;
    lb.name = "src";
    lb.physical_interface_mappings = {{"physnet1", "eth1"}};
    ASSERT_TRUE(cloud->add_host(lb, src).ok());
    HostConfig ov;
    ov.name = "dst";
    ov.backend = Backend::kOpenVswitch;
    ov.firewall_driver = hybrid ? "iptables_hybrid" : "openvswitch";  // seed 000: openvswitch
    ov.bridge_mappings = {{"physnet1", "br-ex"}};
    ov.ovs = &ovs;
    ov.links = &links;
    ASSERT_TRUE(cloud->add_host(ov, dst).ok());
    ASSERT_TRUE(cloud->boot({kVm, "vm1", "", "active", "", {kPort}}, "src").ok());
    ASSERT_TRUE(loop.run_for(100ms).ok());
  }
  int migrate() {
    auto id = cloud->live_migrate(kVm, "dst");
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    auto done = [&] { return is_terminal(cloud->migration(*id)->status); };
    EXPECT_TRUE(loop.run_until(done, clock.now() + 30s).ok());
    EXPECT_TRUE(loop.run_for(5s).ok());  // the destination agent polls
    return *id;
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

TEST_F(CrossBackend, AsShippedTheTapLandsOnAnOvsBridgeNamedLikeTheLinuxBridge) {
  build(DestXmlBridge::kSource);
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);  // nova sees success
  const std::string tap = tap_name(kPort);
  ASSERT_TRUE(ovs.ports.count(tap));
  EXPECT_EQ(ovs.ports.at(tap).bridge, lb_bridge_name(kNet));  // brq0fe9c836-58, an OVS bridge
  EXPECT_TRUE(ovs.bridge_exists(lb_bridge_name(kNet)));
  // The destination binding said ovs on br-int; the XML still named brq.
  const Port* p = cloud->neutron().port(kPort);
  EXPECT_EQ(p->active_binding()->vif_type, "ovs");
  EXPECT_EQ(p->active_binding()->vif_details.at("bridge_name"), "br-int");
  ASSERT_EQ(hv->last_dest_interfaces.size(), 1u);
  EXPECT_EQ(hv->last_dest_interfaces[0].bridge, "brq0fe9c836-58");
  EXPECT_EQ(hv->last_dest_interfaces[0].type, "openvswitch");
  // The OVS agent watches br-int: it never wires (tags) the tap.
  EXPECT_FALSE(ovs.ports.at(tap).tag.has_value());
  // It hears of the activation, but never finds the port on br-int to bind.
  EXPECT_TRUE(timeline.first("agent.ovs.dst", "binding_activate " + tap).has_value());
  EXPECT_FALSE(timeline.first("agent.ovs.dst", "bind " + tap).has_value());
  EXPECT_FALSE(timeline.first("agent.ovs.dst", "device up " + tap).has_value());
  // Nova says completed; the vif_wired invariant says where the tap is.
  for (const auto& r : cloud->invariant_report(kVm, id)) {
    if (r.name != "vif_wired") continue;
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.detail, tap + " on dst is on OVS bridge brq0fe9c836-58, binding says br-int");
  }
}

TEST_F(CrossBackend, FixedTheTapLandsOnBrIntAndTheAgentWiresIt) {
  build(DestXmlBridge::kDestination);
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  const std::string tap = tap_name(kPort);
  ASSERT_TRUE(ovs.ports.count(tap));
  EXPECT_EQ(ovs.ports.at(tap).bridge, "br-int");
  EXPECT_EQ(ovs.ports.at(tap).external_ids.at("iface-id"), kPort);
  EXPECT_EQ(ovs.ports.at(tap).external_ids.at("vm-uuid"), kVm);
  ASSERT_TRUE(ovs.ports.at(tap).tag.has_value());  // a local VLAN
  EXPECT_EQ(*ovs.ports.at(tap).tag, 1);
  EXPECT_FALSE(ovs.bridge_exists(lb_bridge_name(kNet)));  // no stray brq OVS bridge
  // The positive control of the as-shipped test's negative check.
  EXPECT_TRUE(timeline.first("agent.ovs.dst", "device up " + tap).has_value());
  EXPECT_TRUE(cloud->check_invariants(kVm, id).empty());
}

TEST_F(CrossBackend, HybridDestinationPlugsQbrAndTheTapGoesThere) {
  build(DestXmlBridge::kDestination, /*hybrid=*/true);
  int id = migrate();
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  const std::string qbr = "qbr" + kPort.substr(0, 11);
  EXPECT_EQ(dst.links.at(tap_name(kPort)).master, qbr);          // tap in qbr (a Linux bridge)
  EXPECT_EQ(dst.links.at("qvb" + kPort.substr(0, 11)).master, qbr);
  ASSERT_TRUE(ovs.ports.count("qvo" + kPort.substr(0, 11)));
  EXPECT_EQ(ovs.ports.at("qvo" + kPort.substr(0, 11)).bridge, "br-int");
  EXPECT_TRUE(cloud->check_invariants(kVm, id).empty());
}

}  // namespace
}  // namespace lmh::core
