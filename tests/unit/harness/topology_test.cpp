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
  EXPECT_THAT(twice.validate().message(), HasSubstr("host name src used twice"));
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

namespace lmh::harness {
namespace {

// ML2/OVN: every chassis has a Geneve endpoint, whatever the network type.
Scenario ovn_scenario(const std::string& file) {
  Scenario sc = load(file);
  for (auto& h : sc.hosts) h.backend = core::Backend::kOvn;
  return sc;
}

TEST(TopologyOvn, EveryOvnHostGetsATunnelEndpointEvenOnAVlanNetwork) {
  Topology t = topology_of(ovn_scenario("ovs-vlan-live.yaml"));
  ASSERT_TRUE(t.validate().ok()) << t.validate().to_string();
  EXPECT_TRUE(t.has_ovn());
  for (size_t i = 0; i < t.hosts.size(); ++i) {
    ASSERT_TRUE(t.hosts[i].tunnel.has_value()) << t.hosts[i].name;
    EXPECT_EQ(t.hosts[i].tunnel->local_ip, "198.19.0." + std::to_string(11 + i));
  }
  // The network itself still crosses the fabric in its own VLAN.
  EXPECT_FALSE(t.networks[0].is_tunnel());
  EXPECT_EQ(t.networks[0].fabric_vlan(), t.networks[0].segmentation_id);
  // Other backends get none on a VLAN network.
  EXPECT_FALSE(topology_of(load("ovs-vlan-live.yaml")).has_ovn());
  EXPECT_FALSE(topology_of(load("ovs-vlan-live.yaml")).hosts[0].tunnel.has_value());
}

// The scenario's network as a tunnel: its peer becomes a port on 'host'
// (the fabric carries only the underlay).
Topology as_tunnel(Topology t, const std::string& type, const std::string& host = "dst") {
  t.networks[0].type = type;
  t.networks[0].segmentation_id = 1001;
  t.networks[0].underlay_vlan = t.underlay.vlan;
  t.peers[0].host = host;
  t.peers[0].port_id = "ffffffff-0000-4000-8000-000000000001";
  t.peers[0].mac = "fa:16:3e:00:00:fe";
  return t;
}

TEST(TopologyOvn, AGeneveNetworkIsATunnelInTheUnderlaysVlan) {
  Topology t = as_tunnel(topology_of(ovn_scenario("ovs-vlan-live.yaml")), "geneve");
  ASSERT_TRUE(t.validate().ok()) << t.validate().to_string();
  EXPECT_TRUE(t.networks[0].is_tunnel());
  EXPECT_EQ(t.networks[0].fabric_vlan(), 4000);
}

TEST(TopologyOvn, ValidationRefusesAnOvnHostWithoutEndpointAndGeneveOffOvn) {
  Topology t = topology_of(ovn_scenario("ovs-vlan-live.yaml"));
  ASSERT_TRUE(t.validate().ok()) << t.validate().to_string();
  Topology no_endpoint = t;
  no_endpoint.hosts[1].tunnel.reset();
  EXPECT_THAT(no_endpoint.validate().message(), HasSubstr("OVN host dst has no tunnel endpoint"));
  // A guest of a geneve network on a host that does not run OVN.
  Topology geneve_off_ovn = as_tunnel(t, "geneve");
  geneve_off_ovn.hosts[0].backend = core::Backend::kOpenVswitch;
  EXPECT_THAT(geneve_off_ovn.validate().message(), HasSubstr("guest vm1 on geneve network"));
  EXPECT_THAT(geneve_off_ovn.validate().message(), HasSubstr("not an OVN host"));
  // OVN hosts encapsulate in Geneve only.
  Topology vxlan_on_ovn = as_tunnel(t, "vxlan");
  EXPECT_THAT(vxlan_on_ovn.validate().message(), HasSubstr("on OVN host src"));
  // The underlay's VLAN is its own.
  Topology clash = t;
  clash.networks[0].segmentation_id = t.underlay.vlan;
  // A peer of a geneve network on the fabric, as on a vxlan one.
  Topology fabric_peer = as_tunnel(t, "geneve");
  fabric_peer.peers[0].host.clear();
  EXPECT_THAT(fabric_peer.validate().message(), HasSubstr("must sit on a host"));
  EXPECT_THAT(clash.validate().message(), HasSubstr("uses the underlay's VLAN 4000"));
  // OVN hosts map one physnet to br-ex, as OVS hosts do.
  Topology two_physnets = t;
  two_physnets.networks.push_back({"net2", "vlan", "physnet2", 200, "198.18.1.0/24"});
  EXPECT_THAT(two_physnets.validate().message(), HasSubstr("would need a bridge per physnet"));
  // The lab's central daemons own namespace lmh-<run>-ovn.
  Topology reserved = t;
  reserved.hosts[0].name = "ovn";
  reserved.guests[0].host = "ovn";
  EXPECT_THAT(reserved.validate().message(), HasSubstr("host name ovn used twice or reserved"));
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

TEST(Topology, EachHostsTunnelTakesItsOwnAgentSettings) {
  // Seed 000's mixed cloud with the fix on the linuxbridge source only.
  Scenario sc = load("lb-to-ovs-vxlan-live.yaml");
  sc.hosts[0].agent.udp_dstport = 4789;
  sc.hosts[2].agent.arp_responder = true;
  Topology t = topology_of(sc);
  ASSERT_EQ(t.hosts.size(), 3u);
  for (const auto& h : t.hosts) ASSERT_TRUE(h.tunnel.has_value()) << h.name;
  EXPECT_EQ(t.hosts[0].tunnel->udp_dstport, 4789);
  EXPECT_EQ(t.hosts[1].tunnel->udp_dstport, 0);
  EXPECT_EQ(t.hosts[2].tunnel->udp_dstport, 0);
  EXPECT_FALSE(t.hosts[0].tunnel->arp_responder);
  EXPECT_TRUE(t.hosts[2].tunnel->arp_responder);
  // The multicast group is the cloud's.
  for (const auto& h : t.hosts) EXPECT_EQ(h.tunnel->vxlan_group, sc.agent.vxlan_group) << h.name;
}

TEST(Topology, AHostsOwnUdpPortFromTheFileReachesItsTunnel) {
  std::string text = "name: x\nhosts:\n  - {name: src, agent: {udp_dstport: 4789}}\n  - {name: dst, backend: openvswitch}\n"
                     "  - {name: by}\nnetwork: {type: vxlan, segmentation_id: 1001}\npeer: {host: by}\n";
  auto parsed = parse_scenario(text, "x.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  Topology t = topology_of(*parsed);
  EXPECT_EQ(t.hosts[0].tunnel->udp_dstport, 4789);
  EXPECT_EQ(t.hosts[2].tunnel->udp_dstport, 0);
}

}  // namespace
}  // namespace lmh::harness
