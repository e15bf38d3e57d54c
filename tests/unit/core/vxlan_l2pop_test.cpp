// VXLAN tenant networks with neutron's l2population, on linuxbridge hosts
// (vxlan devices) and openvswitch hosts (br-tun): which host learns what,
// and when, across a live migration, on fakes under a simulated clock.
// Three hosts: the guest's source, its destination and a bystander with
// another guest of the same network.
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

const std::string kNet = "7c1e0f5a-9d2b-4c3e-8f10-2a6b4d8e9c01";
const std::string kGuestPort = "5b6e0c2a-7a11-4f3e-9c55-0d8e1f2a3b4c";
const std::string kByPort = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const std::string kGuest = "c0ffee00-0000-4000-8000-000000000001";
const std::string kBy = "c0ffee00-0000-4000-8000-000000000002";
const std::string kGuestMac = "fa:16:3e:11:22:01";
const std::string kByMac = "fa:16:3e:11:22:02";
const int kVni = 1001;
const std::map<std::string, std::string> kIp = {{"src", "198.19.0.11"}, {"dst", "198.19.0.12"}, {"by", "198.19.0.13"}};
const VxlanFdbEntry kFlood(const std::string& host) { return {"00:00:00:00:00:00", kIp.at(host)}; }

class VxlanL2pop : public ::testing::Test {
 protected:
  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  std::map<std::string, FakeHostNetwork> nets;
  std::unique_ptr<FakeHypervisor> hv;
  std::unique_ptr<Cloud> cloud;
  std::unique_ptr<faults::FaultPlan> plan;
  std::map<std::string, FakeOvsDatabase> ovs;  // the openvswitch hosts' OVSDB
  std::map<std::string, std::unique_ptr<FakeLinkOps>> links;
  const std::string dev = vxlan_device_name(kVni);

  // 'vxlan' is each host's tunnel settings (local_ip filled per host); the
  // hosts in 'ovs_hosts' run the openvswitch agent, the others linuxbridge.
  void build(VxlanConfig vxlan, const std::string& fault = "", Behaviour behaviour = {},
             const std::set<std::string>& ovs_hosts = {}) {
    if (!fault.empty()) {
      auto spec = faults::parse_fault_spec(fault);
      ASSERT_TRUE(spec.ok()) << spec.status().message();
      plan = std::make_unique<faults::FaultPlan>(std::vector<faults::FaultSpec>{*spec}, 1, /*armed=*/false);
    }
    std::map<std::string, FakeHostNetwork*> by_host;
    for (const auto& [h, ip] : kIp) by_host[h] = &nets[h];
    hv = std::make_unique<FakeHypervisor>(loop, by_host);
    for (const auto& h : ovs_hosts) hv->ovs_hosts[h] = &ovs[h];
    cloud = std::make_unique<Cloud>(loop, timeline, *hv, behaviour, plan.get());
    ASSERT_TRUE(cloud->neutron().create_network({kNet, "vxlan", "", kVni}).ok());
    ASSERT_TRUE(cloud->neutron().create_port({kGuestPort, kNet, kGuestMac, "10.0.0.5", kGuest}).ok());
    ASSERT_TRUE(cloud->neutron().create_port({kByPort, kNet, kByMac, "10.0.0.6", kBy}).ok());
    for (const auto& [h, ip] : kIp) {
      HostConfig hc;
      hc.name = h;
      hc.polling_interval = 2s;
      hc.vxlan = vxlan;
      hc.vxlan.enable_vxlan = true;
      hc.vxlan.local_ip = ip;
      hc.vxlan.underlay = "eth1.4000";
      if (ovs_hosts.count(h)) {
        hc.backend = Backend::kOpenVswitch;
        hc.firewall_driver = "openvswitch";
        hc.vxlan.underlay = "";
        hc.ovs = &ovs[h];
        links[h] = std::make_unique<FakeLinkOps>(nets[h]);
        hc.links = links[h].get();
      }
      ASSERT_TRUE(cloud->add_host(hc, nets[h]).ok());
    }
    ASSERT_TRUE(cloud->boot({kGuest, "vm1", "", "active", "", {kGuestPort}}, "src").ok());
    ASSERT_TRUE(cloud->boot({kBy, "by1", "", "active", "", {kByPort}}, "by").ok());
    ASSERT_TRUE(loop.run_for(100ms).ok());  // the agents' first polls plug both
    if (plan) plan->arm();
  }
  std::vector<VxlanFdbEntry> fdb(const std::string& host) {
    auto e = nets[host].fdb_entries(dev);
    return e.ok() ? *e : std::vector<VxlanFdbEntry>{};
  }
  bool has(const std::string& host, const VxlanFdbEntry& e) {
    auto v = fdb(host);
    return std::find(v.begin(), v.end(), e) != v.end();
  }
  int migrate() {
    auto id = cloud->live_migrate(kGuest, "dst");
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    EXPECT_TRUE(loop.run_until([&] { return is_terminal(cloud->migration(*id)->status); }, clock.now() + 60s).ok());
    return *id;
  }
  // When 'host''s entry for the guest's MAC first pointed at 'to' (the
  // agent's timeline line of the add that did it).
  MonoTime learnt(const std::string& host, const std::string& to) {
    for (const auto& e : timeline.all("agent.lb." + host, "add_fdb_entries " + dev))
      if (e.event.find(kIp.at(to) + ": ") != std::string::npos && e.event.find(kGuestMac) != std::string::npos)
        return e.t;
    return MonoTime::max();
  }
};

TEST_F(VxlanL2pop, BootPlugsVxlanDeviceInUnicastModeAndEachHostLearnsTheOther) {
  build({.l2_population = true, .arp_responder = false});
  ASSERT_TRUE(nets["src"].vxlans.count(dev));
  const VxlanDevice& d = nets["src"].vxlans.at(dev);
  EXPECT_EQ(d.vni, kVni);
  EXPECT_EQ(d.local_ip, kIp.at("src"));
  EXPECT_EQ(d.group, "");
  EXPECT_EQ(d.dstport, 8472);  // the kernel's default: the agent sets none
  EXPECT_FALSE(d.proxy);
  EXPECT_EQ(nets["src"].links.at(dev).master, lb_bridge_name(kNet));
  // The bystander knows the guest is behind src, and floods to src; and
  // the other way round. The destination has no port here yet: nothing.
  EXPECT_TRUE(has("by", {kGuestMac, kIp.at("src")}));
  EXPECT_TRUE(has("by", kFlood("src")));
  EXPECT_TRUE(has("src", {kByMac, kIp.at("by")}));
  EXPECT_TRUE(has("src", kFlood("by")));
  EXPECT_FALSE(nets["dst"].vxlans.count(dev));
  // Nobody has an entry for its own endpoint.
  for (const auto& [h, ip] : kIp)
    for (const auto& e : fdb(h)) EXPECT_NE(e.dst_ip, ip) << h;
}

TEST_F(VxlanL2pop, AfterLiveMigrationTheBystanderSendsToTheDestinationAndForgetsTheSource) {
  build({.l2_population = true});
  int id = migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());  // both agents poll after the move
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  EXPECT_TRUE(has("by", {kGuestMac, kIp.at("dst")}));
  EXPECT_FALSE(has("by", {kGuestMac, kIp.at("src")}));
  // src has no active port left: its flooding entry is removed everywhere.
  EXPECT_FALSE(has("by", kFlood("src")));
  EXPECT_TRUE(has("by", kFlood("dst")));
  // The destination got the whole network when its first port went up.
  EXPECT_TRUE(has("dst", {kByMac, kIp.at("by")}));
  EXPECT_TRUE(has("dst", kFlood("by")));
  // The add for dst is sent only after the binding moved and dst's agent
  // reported the port up: never before the guest resumed there.
  MonoTime resumed = timeline.first("compute.dst", "guest resumed")->t;
  EXPECT_GT(learnt("by", "dst"), resumed);
}

TEST_F(VxlanL2pop, DelayedFdbAddKeepsTheBystanderSendingToTheSourceForTheDelay) {
  // Every add after arming is 3 s late: the bystander learns dst 3 s after
  // the one that would have taught it.
  build({.l2_population = true}, "l2pop.fdb_add=delay:3000");
  migrate();
  ASSERT_TRUE(loop.run_for(8s).ok());
  auto sent = timeline.first("neutron", "l2pop add_fdb_entries fanout vni 1001 {" + kIp.at("dst"));
  ASSERT_TRUE(sent.has_value());
  const MonoTime learnt_at = learnt("by", "dst");
  ASSERT_NE(learnt_at, MonoTime::max());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(learnt_at - sent->t).count(), 3000);
  EXPECT_TRUE(has("by", {kGuestMac, kIp.at("dst")}));
}

TEST_F(VxlanL2pop, LostFdbAddLeavesTheBystanderWithoutTheGuest) {
  build({.l2_population = true}, "l2pop.fdb_add=drop");
  migrate();
  ASSERT_TRUE(loop.run_for(8s).ok());
  // The source's remove still arrived; the add to dst never did.
  EXPECT_FALSE(has("by", {kGuestMac, kIp.at("dst")}));
  EXPECT_FALSE(has("by", {kGuestMac, kIp.at("src")}));
  EXPECT_FALSE(timeline.all("rpc", "add_fdb_entries to by lost").empty());
}

TEST_F(VxlanL2pop, ArpResponderNeighbourFollowsTheGuestAndAProxyDeviceIsMade) {
  build({.l2_population = true, .arp_responder = true});
  EXPECT_TRUE(nets["by"].vxlans.at(dev).proxy);
  EXPECT_EQ(nets["by"].neigh[dev].at("10.0.0.5"), kGuestMac);
  migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());
  // Whichever of dst's add and src's remove came last decides: the remove
  // deletes the neighbour by IP alone, whatever location it pointed to.
  // Both may come in the same instant; the agent's own order tells.
  int add = -1, remove = -1, i = 0;
  for (const auto& e : timeline.all("agent.lb.by", "")) {
    if (e.event.rfind("add_fdb_entries " + dev + " {" + kIp.at("dst"), 0) == 0 && add < 0) add = i;
    if (e.event.rfind("remove_fdb_entries " + dev + " {" + kIp.at("src"), 0) == 0) remove = i;
    ++i;
  }
  ASSERT_GE(add, 0);
  ASSERT_GE(remove, 0);
  EXPECT_EQ(nets["by"].neigh[dev].count("10.0.0.5"), remove > add ? 0u : 1u);
  // Either way the forwarding entry is right: it is removed by destination.
  EXPECT_TRUE(has("by", {kGuestMac, kIp.at("dst")}));
}

TEST_F(VxlanL2pop, WithoutL2populationTheDeviceJoinsTheMulticastGroupAndNoEntriesAreWritten) {
  build({.l2_population = false, .vxlan_group = "239.1.1.1"});
  const VxlanDevice& d = nets["src"].vxlans.at(dev);
  EXPECT_EQ(d.group, "239.1.1.1");
  EXPECT_EQ(d.local_ip, "");
  EXPECT_TRUE(fdb("src").empty());
  EXPECT_TRUE(fdb("by").empty());
  EXPECT_TRUE(timeline.all("neutron", "l2pop ").empty());
}

// The proposed fix: l2pop sends the new location with the activation, and
// the destination agent has plugged the port (and made vxlan-1001, with
// the network's table) before it.
TEST_F(VxlanL2pop, WithTheFixTheBystanderLearnsTheDestinationAtActivation) {
  Behaviour fix;
  fix.lb_agent_honours_migrating_to = true;
  fix.l2pop_on_binding_activate = true;
  build({.l2_population = true}, "", fix);
  hv->precopy = 3s;  // the destination agent polls during the pre-copy
  migrate();
  const MonoTime activated = timeline.first("neutron", "binding activated port " + kGuestPort.substr(0, 11))->t;
  EXPECT_EQ(learnt("by", "dst"), activated);  // the same instant, not the next poll
  EXPECT_TRUE(has("by", {kGuestMac, kIp.at("dst")}));
  // The destination could already send back: it had the bystander's entries.
  EXPECT_TRUE(has("dst", {kByMac, kIp.at("by")}));
}

TEST_F(VxlanL2pop, TheActivationAloneMovesTheEntryButTheDestinationHasNoDeviceYet) {
  Behaviour half;
  half.l2pop_on_binding_activate = true;
  build({.l2_population = true}, "", half);
  migrate();
  const MonoTime activated = timeline.first("neutron", "binding activated port " + kGuestPort.substr(0, 11))->t;
  EXPECT_EQ(learnt("by", "dst"), activated);
  ASSERT_TRUE(loop.run_for(3s).ok());
  // dst made vxlan-1001 only at its next poll, after the activation.
  auto made = timeline.first("agent.lb.dst", "ensure vxlan " + dev);
  ASSERT_TRUE(made.has_value());
  EXPECT_GT(made->t, activated);
}

TEST_F(VxlanL2pop, UdpDstportIsTheConfiguredOne) {
  build({.l2_population = true, .udp_dstport = 4789});
  EXPECT_EQ(nets["src"].vxlans.at(dev).dstport, 4789);
}

// The same cloud on openvswitch hosts: br-tun's tunnel ports, flooding list
// and unicast entries follow the guest as the vxlan devices do.
class OvsVxlanL2pop : public VxlanL2pop {
 protected:
  const std::set<std::string> all_ovs = {"src", "dst", "by"};
  std::string port_to(const std::string& host) { return ovs_tunnel_port_name(kIp.at(host)); }
  // 'host''s table 20 entry for 'mac' ("" when none).
  std::string unicast(const std::string& host, const std::string& mac) {
    for (const auto& [key, port] : ovs[host].unicast)
      if (key.second == mac) return port;
    return "";
  }
  std::vector<std::string> flood(const std::string& host) {
    const auto& f = ovs[host].flood;
    return f.empty() ? std::vector<std::string>{} : f.begin()->second;
  }
};

TEST_F(OvsVxlanL2pop, BootMakesTunnelPortsFloodingAndUnicastEntriesToTheOtherHost) {
  build({.l2_population = true}, "", {}, all_ovs);
  EXPECT_EQ(port_to("src"), "vxlan-c613000b");  // neutron's get_ip_in_hex
  ASSERT_TRUE(ovs["by"].tunnel_ports.count(port_to("src")));
  const OvsTunnelPort& t = ovs["by"].tunnel_ports.at(port_to("src"));
  EXPECT_EQ(t.remote_ip, kIp.at("src"));
  EXPECT_EQ(t.local_ip, kIp.at("by"));
  EXPECT_EQ(t.dst_port, 4789);  // the OVS agent's vxlan_udp_port, not the kernel's 8472
  EXPECT_EQ(unicast("by", kGuestMac), port_to("src"));
  EXPECT_EQ(flood("by"), std::vector<std::string>{port_to("src")});
  EXPECT_EQ(unicast("src", kByMac), port_to("by"));
  // The network was provisioned on br-tun: VNI <-> the local VLAN.
  ASSERT_EQ(ovs["by"].flows.size(), 1u);
  EXPECT_EQ(ovs["by"].flows.begin()->second.network_type, "vxlan");
  EXPECT_EQ(ovs["by"].flows.begin()->second.segmentation_id, kVni);
  EXPECT_TRUE(ovs["dst"].tunnel_ports.empty()) << "dst has no port on the network";
}

TEST_F(OvsVxlanL2pop, AfterLiveMigrationTheBystanderTunnelsToTheDestinationAndDropsTheSourcePort) {
  // The source's remove first, then the destination's add (both agents
  // poll at the same instants here; the add is held back 500 ms).
  build({.l2_population = true}, "l2pop.fdb_add=delay:500", {}, all_ovs);
  int id = migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());
  EXPECT_EQ(cloud->migration(id)->status, MigrationStatus::kCompleted);
  EXPECT_EQ(unicast("by", kGuestMac), port_to("dst"));
  EXPECT_EQ(flood("by"), std::vector<std::string>{port_to("dst")});
  // No network floods to src any more: its tunnel port is cleaned up.
  EXPECT_FALSE(ovs["by"].tunnel_ports.count(port_to("src")));
  EXPECT_EQ(ovs["by"].count("delete_tunnel_port " + port_to("src")), 1);
  // dst got the whole network when its port went up.
  EXPECT_EQ(unicast("dst", kByMac), port_to("by"));
  // src reclaimed the network's local VLAN with its last port.
  EXPECT_TRUE(ovs["src"].flows.empty());
  EXPECT_TRUE(ovs["src"].tunnel_ports.empty());
}

TEST_F(OvsVxlanL2pop, ALateRemoveOfTheSourceDeletesTheDestinationsEntryByMac) {
  // The add for dst arrives, then the remove for src (delayed): neutron's
  // delete_unicast_to_tun matches VLAN and MAC, so the new entry goes and
  // the bystander floods the guest's frames (to dst only, the one flooding
  // entry left) instead of tunnelling them. A linuxbridge host deletes the
  // (mac, destination) pair and keeps the new entry.
  build({.l2_population = true, .arp_responder = true}, "l2pop.fdb_remove=delay:4000", {}, all_ovs);
  migrate();
  ASSERT_TRUE(loop.run_for(2s).ok());
  ASSERT_EQ(unicast("by", kGuestMac), port_to("dst"));
  ASSERT_EQ(ovs["by"].arp.count({1, "10.0.0.5"}), 1u);
  ASSERT_TRUE(loop.run_for(6s).ok());
  EXPECT_EQ(unicast("by", kGuestMac), "");
  EXPECT_EQ(ovs["by"].arp.count({1, "10.0.0.5"}), 0u) << "the ARP answer goes with it";
  EXPECT_EQ(flood("by"), std::vector<std::string>{port_to("dst")});
}

TEST_F(OvsVxlanL2pop, TheAgentReportsItsTunnelEndpointToTheServer) {
  build({.l2_population = true}, "", {}, all_ovs);
  const AgentConfig* a = cloud->neutron().agent("by");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->tunnel_types, std::set<std::string>{"vxlan"});
  EXPECT_EQ(a->tunneling_ip, kIp.at("by"));
  EXPECT_TRUE(a->l2_population);
}

TEST_F(OvsVxlanL2pop, LinuxbridgeSourceAndOvsDestinationUseDifferentUdpPorts) {
  // Seed 000's cloud: both backends on one vxlan network, each with its
  // default port, so their tunnels cannot meet.
  Behaviour fixed;  // the tap on br-int (seed 000's first fix)
  fixed.dest_xml_bridge = DestXmlBridge::kDestination;
  build({.l2_population = true}, "", fixed, {"dst"});
  migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());
  ASSERT_TRUE(ovs["dst"].tunnel_ports.count(port_to("by")));
  EXPECT_EQ(ovs["dst"].tunnel_ports.at(port_to("by")).dst_port, 4789);
  EXPECT_EQ(nets["by"].vxlans.at(dev).dstport, 8472);
  // The linuxbridge bystander still learned the guest behind dst's endpoint.
  EXPECT_TRUE(has("by", {kGuestMac, kIp.at("dst")}));
}

TEST_F(OvsVxlanL2pop, TunnelUdpPortInvariantNamesTheHostsThatDisagree) {
  Behaviour fixed;
  fixed.dest_xml_bridge = DestXmlBridge::kDestination;
  build({.l2_population = true}, "", fixed, {"dst"});
  int id = migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());
  auto find = [&](int migration) {
    for (const auto& r : cloud->invariant_report(kGuest, migration))
      if (r.name == "tunnel_udp_port") return r;
    return InvariantResult{"(missing)", true, ""};
  };
  InvariantResult r = find(id);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "vxlan network 7c1e0f5a-9d: dst on UDP 4789; by on UDP 8472 (their endpoints drop each "
                      "other's frames)");
}

TEST_F(OvsVxlanL2pop, TunnelUdpPortInvariantHoldsWhenEveryHostUsesTheSamePort) {
  Behaviour fixed;
  fixed.dest_xml_bridge = DestXmlBridge::kDestination;
  build({.l2_population = true, .udp_dstport = 4789}, "", fixed, {"dst"});
  int id = migrate();
  ASSERT_TRUE(loop.run_for(5s).ok());
  bool seen = false;
  for (const auto& r : cloud->invariant_report(kGuest, id)) {
    if (r.name != "tunnel_udp_port") continue;
    seen = true;
    EXPECT_TRUE(r.ok) << r.detail;
  }
  EXPECT_TRUE(seen) << "a vxlan port gets the invariant";
}


}  // namespace
}  // namespace lmh::core
