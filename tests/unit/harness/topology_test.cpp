// The topology model: what a scenario file becomes, and the checks that
// keep an inconsistent topology from reaching the kernel.
#include "harness/run/scenario_topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lmh::harness {
namespace {

using ::testing::HasSubstr;

const std::string kDir = std::string(LMH_SOURCE_DIR) + "/scenarios/";

Scenario load(const std::string& file, const std::vector<std::string>& overrides = {}) {
  auto sc = load_scenario(kDir + file, overrides);
  EXPECT_TRUE(sc.ok()) << sc.status().to_string();
  return *sc;
}

TEST(Topology, AColdDestinationScenarioIsTwoHostsOneNetworkOnePeerOneGuest) {
  Scenario sc = load("lb-vlan-cold-destination.yaml");
  Topology t = topology_of(sc);
  ASSERT_TRUE(t.validate().ok()) << t.validate().to_string();
  ASSERT_EQ(t.hosts.size(), 2u);
  EXPECT_EQ(t.hosts[0].name, "src");
  EXPECT_EQ(t.hosts[1].backend, core::Backend::kLinuxBridge);
  ASSERT_EQ(t.networks.size(), 1u);
  EXPECT_EQ(t.networks[0].id, sc.network.id);
  EXPECT_EQ(t.networks[0].fabric_vlan(), 100);
  EXPECT_EQ(t.networks[0].prefix_length(), "/24");
  ASSERT_EQ(t.peers.size(), 1u);
  EXPECT_EQ(t.peers[0].ip, sc.peer.ip);
  EXPECT_EQ(t.peers[0].neigh.base_reachable_time_ms, 1000);
  ASSERT_EQ(t.guests.size(), 1u);
  EXPECT_EQ(t.guests[0].host, "src");
  EXPECT_EQ(t.guests[0].port_id, sc.guest.port_id);
  EXPECT_FALSE(t.libvirt);
}

TEST(Topology, AWarmDestinationAddsABystanderWithDistinctDeviceNames) {
  Scenario sc = load("lb-vlan-warm-destination.yaml");
  Topology t = topology_of(sc);
  ASSERT_EQ(t.guests.size(), 2u);
  const TopologyGuest& warm = t.guests[1];
  EXPECT_EQ(warm.host, "dst");
  EXPECT_EQ(warm.ip, sc.bystander_ip());
  // Taps are "tap" + the first 11 characters of the port id.
  EXPECT_NE(warm.port_id.substr(0, 11), sc.guest.port_id.substr(0, 11));
  EXPECT_EQ(warm.port_id.substr(1), sc.guest.port_id.substr(1));
  EXPECT_NE(warm.mac, sc.guest.mac);
  EXPECT_NE(warm.instance_uuid, sc.guest.instance_uuid);
}

TEST(Topology, AFlatNetworkTravelsUntaggedAndTheRealTierRunsLibvirt) {
  Scenario sc = load("real-lb-vlan-cold-destination.yaml", {"network.type=flat"});
  Topology t = topology_of(sc);
  EXPECT_EQ(t.networks[0].fabric_vlan(), 0);
  EXPECT_TRUE(t.libvirt);
}

TEST(Topology, ValidationNamesWhatIsInconsistent) {
  Topology t = topology_of(load("lb-to-ovs-live.yaml"));
  ASSERT_TRUE(t.validate().ok());
  Topology twice = t;
  twice.hosts.push_back(twice.hosts[0]);
  EXPECT_THAT(twice.validate().message(), HasSubstr("host src twice"));
  Topology lost = t;
  lost.guests[0].host = "nowhere";
  EXPECT_THAT(lost.validate().message(), HasSubstr("guest vm1 on unknown host nowhere"));
  Topology no_net = t;
  no_net.peers[0].network_id = "x";
  EXPECT_THAT(no_net.validate().message(), HasSubstr("peer peer on unknown network x"));
  // An OVS host maps one physnet to br-ex.
  Topology two_physnets = t;
  two_physnets.networks.push_back({"net2", "vlan", "physnet2", 200, "198.18.1.0/24"});
  EXPECT_THAT(two_physnets.validate().message(), HasSubstr("OVS host dst"));
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

TEST(TopologyVxlan, EveryHostGetsAnEndpointAndThePeerAPortOnTheBystander) {
  Scenario sc = load("lb-vxlan-live.yaml");
  Topology t = topology_of(sc);
  ASSERT_TRUE(t.validate().ok()) << t.validate().to_string();
  ASSERT_EQ(t.hosts.size(), 3u);
  const char* ips[] = {"198.19.0.11", "198.19.0.12", "198.19.0.13"};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(t.hosts[i].tunnel.has_value()) << t.hosts[i].name;
    EXPECT_EQ(t.hosts[i].tunnel->local_ip, ips[i]);
    EXPECT_TRUE(t.hosts[i].tunnel->l2_population);
  }
  EXPECT_EQ(t.underlay.vlan, 4000);
  const TopologyNetwork& n = t.networks.at(0);
  EXPECT_TRUE(n.is_tunnel());
  EXPECT_EQ(n.segmentation_id, 1001);
  EXPECT_EQ(n.fabric_vlan(), 4000);  // its frames cross the fabric in the underlay
  const TopologyPeer& p = t.peers.at(0);
  EXPECT_EQ(p.host, "by");
  EXPECT_NE(p.port_id.substr(0, 11), sc.guest.port_id.substr(0, 11));  // distinct taps
  EXPECT_EQ(p.mac, "fa:16:3e:3a:7b:fe");  // the guest's with the last octet fe
}

TEST(TopologyVxlan, ValidationRefusesAFabricPeerOrAHostWithoutEndpoint) {
  Topology t = topology_of(load("lb-vxlan-live.yaml"));
  Topology fabric_peer = t;
  fabric_peer.peers[0].host.clear();
  EXPECT_THAT(fabric_peer.validate().message(), HasSubstr("must sit on a host"));
  Topology no_endpoint = t;
  no_endpoint.hosts[1].tunnel.reset();
  EXPECT_THAT(no_endpoint.validate().message(), HasSubstr("host dst has no tunnel endpoint"));
}

}  // namespace
}  // namespace lmh::harness
