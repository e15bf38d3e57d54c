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
