// What OvsHost and OvsdbIdlDatabase decide before touching Open vSwitch
// (no root, no daemons): option validation, neutron's patch port names, the
// errors of requests the lab cannot serve, and that the IDL and the
// OpenFlow connection give up on a server that is not there, or does not
// answer, within their timeout instead of hanging.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "harness/ovs/openflow.h"
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
// as kUnavailable (the IDL, or the OpenFlow connection), never
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

// Flows go nowhere without a switch: kUnavailable at once, a malformed
// flow too (as with ovs-ofctl, which asks the switch for its port names
// before it can tell a name it does not know from a mistake).
TEST(OpenFlowConnection, FindsNoSwitchWhereNoneListens) {
  const std::string target = "unix:/nonexistent/lmh-unit-" + std::to_string(::getpid()) + "/br-int.mgmt";
  OpenFlowConnection of(target, 300ms);
  auto t0 = std::chrono::steady_clock::now();
  Status add = of.add_flow("table=0,priority=0,actions=NORMAL");
  Status del = of.delete_flows("table=0,in_port=patch-int", true);
  Status bad = of.add_flow("table=0,priority=1,foo=bar,actions=drop");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms);
  EXPECT_EQ(add.code(), StatusCode::kUnavailable) << add.to_string();
  EXPECT_NE(add.message().find(target), std::string::npos) << add.to_string();
  EXPECT_EQ(del.code(), StatusCode::kUnavailable) << del.to_string();
  EXPECT_EQ(bad.code(), StatusCode::kUnavailable) << bad.to_string();

  OvsdbIdlDatabase db(unreachable_db());
  Status base = db.install_base_flows();
  EXPECT_EQ(base.code(), StatusCode::kUnavailable) << base.to_string();
  EXPECT_NE(base.message().find("flow on br-int"), std::string::npos) << base.to_string();
}

// A "switch" on a unix socket that accepts one connection and then only
// reads. With 'hello' it first says an OpenFlow 1.5 hello, so the
// handshake completes and the requests go unanswered; without, it says
// nothing at all.
class SilentSwitch {
 public:
  explicit SilentSwitch(bool hello) {
    dir_ = "/tmp/lmh-unit-" + std::to_string(::getpid()) + "-of";
    ::mkdir(dir_.c_str(), 0700);
    path_ = dir_ + "/br-int.mgmt";
    ::unlink(path_.c_str());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    thread_ = std::thread([this, hello] { serve(hello); });
  }
  ~SilentSwitch() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes an accept() no one came to
    thread_.join();
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string target() const { return "unix:" + path_; }

 private:
  void serve(bool hello) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    // OFPT_HELLO: version 0x06, type 0, length 8, xid 1.
    const unsigned char msg[8] = {0x06, 0, 0, 8, 0, 0, 0, 1};
    if (hello) {
      EXPECT_EQ(::write(fd, msg, sizeof msg), 8);
    }
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) continue;  // until the client hangs up
    ::close(fd);
  }

  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::thread thread_;
};

TEST(OpenFlowConnection, GivesUpOnASilentSwitchWithinItsTimeout) {
  for (bool hello : {false, true}) {
    SilentSwitch sw(hello);
    OpenFlowConnection of(sw.target(), 300ms);
    auto t0 = std::chrono::steady_clock::now();
    Status s = of.add_flow("table=0,priority=0,actions=NORMAL");
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << hello << " " << s.to_string();
    EXPECT_NE(s.message().find("300 ms"), std::string::npos) << s.to_string();
    EXPECT_GE(took, 290ms) << hello;
    EXPECT_LT(took, 2s) << hello;
  }
}

}  // namespace
}  // namespace lmh::harness
