// What OvsHost and OvsdbIdlDatabase decide before touching Open vSwitch
// (no root, no daemons): option validation, neutron's patch port names, the
// errors of requests the lab cannot serve, and that the IDL gives up on a
// server that is not there within its timeout instead of hanging.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "harness/ovs/ovs_host.h"
#include "harness/ovs/ovsdb_idl.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;

TEST(OvsHostOptions, RejectsMappingsThatCannotBeBuilt) {
  OvsHost::Options o;
  o.state_dir = "/nonexistent/lmh-unit";
  o.bridge_mappings = {{"provider", "br-int"}};
  EXPECT_EQ(OvsHost::start(o).status().code(), StatusCode::kInvalidArgument);
  o.bridge_mappings = {{"provider", "br-ex"}};
  o.nic_for_bridge = {{"br-phys", "eth1"}};
  auto s = OvsHost::start(o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("br-phys"), std::string::npos) << s.to_string();
}

TEST(OvsdbIdlDatabase, NamesPatchPortsAsNeutron) {
  PhysnetBridge p = neutron_physnet_bridge("br-ex");
  EXPECT_EQ(p.bridge, "br-ex");
  EXPECT_EQ(p.int_patch_port, "int-br-ex");
  EXPECT_EQ(p.phys_patch_port, "phy-br-ex");
}

OvsdbIdlDatabase::Options unreachable_db() {
  OvsdbIdlDatabase::Options o;
  o.db_socket = "/nonexistent/lmh-unit-" + std::to_string(::getpid()) + "/db.sock";
  o.run_dir = "/nonexistent";
  o.physnets = {{"provider", neutron_physnet_bridge("br-ex")}};
  o.timeout = 300ms;
  return o;
}

TEST(OvsdbIdlDatabase, RefusesTranslationsItCannotProgram) {
  OvsdbIdlDatabase db(unreachable_db());
  EXPECT_EQ(db.provision_local_vlan(1, "elsewhere", "vlan", 100).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.provision_local_vlan(1, "provider", "vxlan", 100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.provision_local_vlan(0, "provider", "vlan", 100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.provision_local_vlan(1, "provider", "vlan", 4095).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.reclaim_local_vlan(1, "elsewhere", "vlan", 100).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.add_port("br-int", "tap0", {}, 4096).code(), StatusCode::kInvalidArgument);
}

// Without br-tun every tunnel call fails as a state error, not by
// reaching for a bridge that is not there.
TEST(OvsdbIdlDatabase, TunnelCallsNeedATunnelBridge) {
  OvsdbIdlDatabase db(unreachable_db());
  const auto no_bridge = StatusCode::kFailedPrecondition;
  EXPECT_EQ(db.provision_local_vlan(1, "", "vxlan", 100).code(), no_bridge);
  EXPECT_EQ(db.reclaim_local_vlan(1, "", "vxlan", 100).code(), no_bridge);
  EXPECT_EQ(db.add_tunnel_port({"vxlan-c613000c", "198.19.0.12", "198.19.0.11"}).code(), no_bridge);
  EXPECT_EQ(db.delete_tunnel_port("vxlan-c613000c").code(), no_bridge);
  EXPECT_EQ(db.set_flood_to_tunnels(1, 100, {"vxlan-c613000c"}).code(), no_bridge);
  EXPECT_EQ(db.set_flood_to_tunnels(1, 100, {}).code(), no_bridge);
  EXPECT_EQ(db.install_unicast_to_tunnel(1, 100, "vxlan-c613000c", "fa:16:3e:00:00:01").code(), no_bridge);
  EXPECT_EQ(db.delete_unicast_to_tunnel(1, "fa:16:3e:00:00:01").code(), no_bridge);
  EXPECT_EQ(db.install_arp_responder(1, "10.0.0.1", "fa:16:3e:00:00:01").code(), no_bridge);
  EXPECT_EQ(db.delete_arp_responder(1, "10.0.0.1").code(), no_bridge);
  EXPECT_EQ(db.install_tunnel_base_flows().code(), no_bridge);
}

// Malformed requests are refused before anything is sent: with a tunnel
// bridge configured but no server, a request that got through would fail
// as kUnavailable (the IDL) or kInternal (ovs-ofctl), never
// kInvalidArgument.
TEST(OvsdbIdlDatabase, RefusesMalformedTunnelRequestsBeforeSendingThem) {
  OvsdbIdlDatabase::Options o = unreachable_db();
  o.tunnel = TunnelBridge{};
  OvsdbIdlDatabase db(o);
  const auto bad = StatusCode::kInvalidArgument;
  const std::string mac = "fa:16:3e:00:00:01";
  const std::string port = "vxlan-c613000c";
  for (int lvid : {0, 4095, -1}) {
    EXPECT_EQ(db.provision_local_vlan(lvid, "", "vxlan", 100).code(), bad) << lvid;
    EXPECT_EQ(db.reclaim_local_vlan(lvid, "", "vxlan", 100).code(), bad) << lvid;
    EXPECT_EQ(db.set_flood_to_tunnels(lvid, 100, {port}).code(), bad) << lvid;
    EXPECT_EQ(db.install_unicast_to_tunnel(lvid, 100, port, mac).code(), bad) << lvid;
    EXPECT_EQ(db.delete_unicast_to_tunnel(lvid, mac).code(), bad) << lvid;
    EXPECT_EQ(db.install_arp_responder(lvid, "10.0.0.1", mac).code(), bad) << lvid;
    EXPECT_EQ(db.delete_arp_responder(lvid, "10.0.0.1").code(), bad) << lvid;
  }
  for (int vni : {0, 1 << 24, -5}) {
    EXPECT_EQ(db.provision_local_vlan(1, "", "vxlan", vni).code(), bad) << vni;
    EXPECT_EQ(db.reclaim_local_vlan(1, "", "vxlan", vni).code(), bad) << vni;
    EXPECT_EQ(db.set_flood_to_tunnels(1, vni, {}).code(), bad) << vni;
    EXPECT_EQ(db.install_unicast_to_tunnel(1, vni, port, mac).code(), bad) << vni;
  }
  // A vxlan network has no physical network.
  EXPECT_EQ(db.provision_local_vlan(1, "provider", "vxlan", 100).code(), bad);
  EXPECT_EQ(db.reclaim_local_vlan(1, "provider", "vxlan", 100).code(), bad);
  for (std::string m : {"fa:16:3e:00:00", "fa:16:3e:00:00:0g", "fa-16-3e-00-00-01", "fa:16:3e:00:00:01:02",
                        "0x:16:3e:00:00:01", " a:16:3e:00:00:01", ""}) {
    EXPECT_EQ(db.install_unicast_to_tunnel(1, 100, port, m).code(), bad) << m;
    EXPECT_EQ(db.delete_unicast_to_tunnel(1, m).code(), bad) << m;
    EXPECT_EQ(db.install_arp_responder(1, "10.0.0.1", m).code(), bad) << m;
  }
  for (std::string ip : {"10.0.0", "10.0.0.256", "fe80::1", "", "10.0.0.1,in_port"}) {
    EXPECT_EQ(db.install_arp_responder(1, ip, mac).code(), bad) << ip;
    EXPECT_EQ(db.delete_arp_responder(1, ip).code(), bad) << ip;
    EXPECT_EQ(db.add_tunnel_port({port, ip, "198.19.0.11"}).code(), bad) << ip;
    EXPECT_EQ(db.add_tunnel_port({port, "198.19.0.12", ip}).code(), bad) << ip;
  }
  // Port names end up in flow text: nothing ovs-ofctl would read as syntax
  // or as another port (a number, a reserved name).
  for (std::string name : {"", "vxlan-c613000c123", "a,b", "vx:1", "vx 1", "vx(1)", "in_port=1", "12", "LOCAL",
                           "normal", "In_Port"}) {
    EXPECT_EQ(db.add_tunnel_port({name, "198.19.0.12", "198.19.0.11"}).code(), bad) << name;
    EXPECT_EQ(db.delete_tunnel_port(name).code(), bad) << name;
    EXPECT_EQ(db.set_flood_to_tunnels(1, 100, {port, name}).code(), bad) << name;
    EXPECT_EQ(db.install_unicast_to_tunnel(1, 100, name, mac).code(), bad) << name;
  }
  for (int dst_port : {0, 65536})
    EXPECT_EQ(db.add_tunnel_port({port, "198.19.0.12", "198.19.0.11", dst_port}).code(), bad) << dst_port;

  // Well-formed, the same calls go out and find no server.
  EXPECT_EQ(db.add_tunnel_port({port, "198.19.0.12", "198.19.0.11"}).code(), StatusCode::kUnavailable);
  EXPECT_NE(db.install_arp_responder(1, "10.0.0.1", "FA:16:3E:00:00:01").code(), bad);
  EXPECT_NE(db.provision_local_vlan(4094, "", "vxlan", (1 << 24) - 1).code(), bad);
}

TEST(OvsHostOptions, RejectsTunnelEndpointsThatCannotBeBuilt) {
  OvsHost::Options o;
  o.state_dir = "/nonexistent/lmh-unit";
  o.bridge_mappings = {{"provider", "br-ex"}};
  auto refused = [&](OvsHost::Options::TunnelEndpoint t) {
    o.tunnel = t;
    return OvsHost::start(o).status().code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused({.local_ip = "198.19.0"}));
  EXPECT_TRUE(refused({.local_ip = "198.19.0.11", .prefix_length = "24"}));
  EXPECT_TRUE(refused({.local_ip = "198.19.0.11", .prefix_length = "/33"}));
  EXPECT_TRUE(refused({.local_ip = "198.19.0.11", .vlan = 4095}));
  EXPECT_TRUE(refused({.local_ip = "198.19.0.11", .bridge = "br-phys"}));  // no physnet maps to it
  EXPECT_TRUE(refused({.local_ip = "198.19.0.11", .bridge = "br-int"}));
}

TEST(OvsdbIdlDatabase, GivesUpOnAnAbsentServerWithinItsTimeout) {
  OvsdbIdlDatabase db(unreachable_db());
  auto t0 = std::chrono::steady_clock::now();
  Status write = db.ensure_bridge("br-int", "netdev");
  auto read = db.list_ports("br-int");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(write.code(), StatusCode::kUnavailable) << write.to_string();
  EXPECT_NE(write.message().find("db.sock"), std::string::npos) << write.to_string();
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(db.bridge_exists("br-int"));
  EXPECT_GE(took, 550ms);  // each call waited its 300 ms
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace lmh::harness
