// The OVN lab backend for real: a Lab of two ML2/OVN computes (their own
// Open vSwitch, ovn-controller) and OVN's central daemons in a namespace of
// their own. Logical switches and ports are written into the northbound
// database as neutron's OVN driver writes them (ovn-nbctl), and the
// assertions are on what a guest sees: ICMP echo replies between ports on
// the two chassis, through the localnet port and the fabric on a VLAN
// network, through Geneve on a geneve network; and on what an operator
// sees (ovn-sbctl, ovs-vsctl, the fabric's FDB).
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "harness/lab/lab.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;
using lmh::testing::processes_under;
using lmh::testing::reachable;
using lmh::testing::vsctl;

const std::string kNet = "5a2b51e4-9c1d-4f3e-8a55-0d3b7c6e2f10";
const std::string kPort1 = "a1c2e3f4-0000-4000-8000-000000000001";  // on cmp1
const std::string kPort2 = "b1c2e3f4-0000-4000-8000-000000000002";  // on cmp2
const std::string kMac1 = "fa:16:3e:00:01:01";
const std::string kMac2 = "fa:16:3e:00:02:02";
const std::string kIp1 = "10.100.0.1";
const std::string kIp2 = "10.100.0.2";
const int kVlan = 100;

std::string trimmed(const StatusOr<std::string>& out) {
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  std::string s = out.ok() ? *out : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  std::sort(out.begin(), out.end());
  return out;
}

// Two OVN computes, cmp1 (198.19.0.11) and cmp2 (198.19.0.12), and one
// network of 'type' with a port on each: peers p1 and p2, whose taps the
// lab plugs on br-int with their port ids as iface-id.
Topology two_chassis(const std::string& type) {
  Topology t;
  for (int i = 1; i <= 2; ++i) {
    TopologyHost h{.name = "cmp" + std::to_string(i), .backend = core::Backend::kOvn};
    h.tunnel = TopologyTunnel{.local_ip = "198.19.0.1" + std::to_string(i)};
    t.hosts.push_back(h);
  }
  TopologyNetwork n{.id = kNet, .type = type, .physnet = "physnet1", .segmentation_id = kVlan,
                    .cidr = "10.100.0.0/24"};
  if (type == "geneve") {
    n.segmentation_id = 1001;
    n.underlay_vlan = t.underlay.vlan;
  }
  t.networks.push_back(n);
  t.peers.push_back({.name = "p1", .network_id = kNet, .ip = kIp1, .neigh = {}, .host = "cmp1", .port_id = kPort1, .mac = kMac1});
  t.peers.push_back({.name = "p2", .network_id = kNet, .ip = kIp2, .neigh = {}, .host = "cmp2", .port_id = kPort2, .mac = kMac2});
  return t;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

class OvnLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    if (find_program("ovn-controller").empty() || find_program("ovn-northd").empty())
      GTEST_SKIP() << "OVN is not installed (ovn-central, ovn-host)";
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    const std::string dir = "/run/lmh/" + run_id_;
    lab_.reset();
    // Every daemon of the run (ovn-controllers, ovn-northd, the NB and SB
    // ovsdb-servers, each host's and the fabric's Open vSwitch) is gone.
    EXPECT_EQ(processes_under(dir), std::vector<std::string>{});
    EXPECT_EQ(list_named_netns("lmh-" + run_id_), std::vector<std::string>{});
    EXPECT_FALSE(std::filesystem::exists(dir));
  }

  // Builds the lab of 'topology' under a run id of this test; prints how
  // long it took.
  void build(const Topology& topology, const std::string& tag) {
    run_id_ = tag + std::to_string(::getpid() % 100000);
    auto t0 = std::chrono::steady_clock::now();
    auto lab = Lab::build(topology, run_id_, Capabilities{});
    ASSERT_TRUE(lab.ok()) << lab.status().to_string();
    lab_ = std::move(lab).value();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::printf("[ set-up   ] lab of two OVN chassis: %lld ms\n", static_cast<long long>(ms.count()));
    ASSERT_NE(lab_->ovn_central(), nullptr);
  }

  OvnCentral& central() { return *lab_->ovn_central(); }

  // neutron's network: logical switch "neutron-<net>", with, on a provider
  // network, its localnet port "provnet-<net>" (ovn_client.py
  // create_provnet_port); a VIF port per peer, bound to the peer's host.
  // --wait=hv: returns once both chassis have applied it.
  void create_network(bool provider) {
    const std::string ls = "neutron-" + kNet;
    std::vector<std::string> cmd = {"--wait=hv", "ls-add", ls};
    if (provider) {
      const std::string pn = "provnet-" + kNet;
      cmd.insert(cmd.end(), {"--", "lsp-add", ls, pn, "--", "lsp-set-type", pn, "localnet", "--", "lsp-set-addresses",
                             pn, "unknown", "--", "lsp-set-options", pn, "network_name=physnet1", "--", "set",
                             "Logical_Switch_Port", pn, "tag=" + std::to_string(kVlan)});
    }
    using Vif = std::tuple<std::string, std::string, std::string, std::string>;  // port, MAC, IP, host
    for (const auto& [port, mac, ip, host] : {Vif{kPort1, kMac1, kIp1, "cmp1"}, Vif{kPort2, kMac2, kIp2, "cmp2"}}) {
      cmd.insert(cmd.end(), {"--", "lsp-add", ls, port, "--", "lsp-set-addresses", port, mac + " " + ip, "--",
                             "lsp-set-port-security", port, mac + " " + ip, "--", "lsp-set-options", port,
                             "requested-chassis=" + host});
    }
    auto out = central().nbctl(cmd);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    // Each port is up once its chassis claimed it and installed its flows.
    for (const auto& port : {kPort1, kPort2}) {
      EXPECT_TRUE(wait_until(
          [&] { return trimmed(central().nbctl({"get", "Logical_Switch_Port", port, "up"})) == "true"; }, 10s, 20ms))
          << port << " never came up; " << read_file(lab_->state_dir() + "/ovn-cmp1/ovn-controller.log");
    }
  }

  // br-int's ports of 'host' that ovn-controller made for Geneve: "name
  // remote_ip" for each.
  std::vector<std::string> geneve_ports(const std::string& host) {
    LabHost* h = lab_->host(host);
    const std::string db = h->ovs->daemons().db_socket();
    std::vector<std::string> out;
    for (const auto& port : lines(vsctl(db, {"list-ports", "br-int"}))) {
      if (port.rfind("ovn-", 0) != 0) continue;
      if (vsctl(db, {"get", "Interface", port, "type"}) != "geneve") continue;
      out.push_back(port + " " + vsctl(db, {"get", "Interface", port, "options:remote_ip"}));
    }
    return out;
  }

  std::string run_id_;
  std::unique_ptr<Lab> lab_;
};

TEST_F(OvnLabTest, TwoChassisOnAVlanNetworkReachEachOtherThroughTheLocalnetPortAndTheFabric) {
  build(two_chassis("vlan"), "zov");
  // Both chassis registered, each with its Geneve endpoint and physnet1 on br-ex.
  EXPECT_EQ(lines(trimmed(central().sbctl({"--bare", "--columns=name", "list", "Chassis"}))),
            (std::vector<std::string>{"cmp1", "cmp2"}));
  EXPECT_EQ(lines(trimmed(central().sbctl(
                {"--format=csv", "--data=bare", "--no-headings", "--columns=chassis_name,type,ip", "list", "Encap"}))),
            (std::vector<std::string>{"cmp1,geneve,198.19.0.11", "cmp2,geneve,198.19.0.12"}));
  EXPECT_NE(trimmed(central().sbctl({"--bare", "--columns=other_config", "find", "Chassis", "name=cmp1"}))
                .find("physnet1:br-ex"),
            std::string::npos);
  // ovn-controller took br-int: fail_mode secure and datapath netdev.
  const std::string db1 = lab_->host("cmp1")->ovs->daemons().db_socket();
  EXPECT_EQ(vsctl(db1, {"get", "Bridge", "br-int", "fail_mode"}), "secure");
  EXPECT_EQ(vsctl(db1, {"get", "Bridge", "br-int", "datapath_type"}), "netdev");
  // No neutron OVS agent bridges or patch ports: br-ex is a plain switch.
  EXPECT_EQ(lines(vsctl(db1, {"list-br"})), (std::vector<std::string>{"br-ex", "br-int"}));
  EXPECT_EQ(vsctl(db1, {"get", "Bridge", "br-ex", "fail_mode"}), "standalone");
  EXPECT_EQ(lines(vsctl(db1, {"list-ports", "br-ex"})), std::vector<std::string>{"eth1"});

  // Before neutron's writes br-int forwards nothing: the taps are plugged
  // but no logical port claims them.
  const int p1 = lab_->peer_ns("p1").fd();
  EXPECT_FALSE(reachable(p1, kIp2, 1s)) << "br-int forwarded without logical ports";
  create_network(/*provider=*/true);
  EXPECT_TRUE(reachable(p1, kIp2, 10s)) << "no echo reply from p2 on cmp2";
  // It crossed the fabric in the network's VLAN, from cmp1's NIC.
  EXPECT_EQ(lab_->fabric().port_of(kMac1, kVlan).value(), Lab::fabric_nic_port("cmp1"));
  EXPECT_EQ(lab_->fabric().port_of(kMac2, kVlan).value(), Lab::fabric_nic_port("cmp2"));
  // ovn-controller patched br-int to br-ex for physnet1 ...
  const std::string patches = vsctl(db1, {"list-ports", "br-ex"});
  EXPECT_NE(patches.find("patch-provnet-" + kNet + "-to-br-int"), std::string::npos) << patches;
  // ... and made a Geneve port to the other chassis, as every ML2/OVN
  // compute has (live migration tunnels a port bound to two chassis).
  EXPECT_EQ(geneve_ports("cmp1"), (std::vector<std::string>{"ovn-cmp2-0 \"198.19.0.12\""}));
  EXPECT_EQ(geneve_ports("cmp2"), (std::vector<std::string>{"ovn-cmp1-0 \"198.19.0.11\""}));
}

TEST_F(OvnLabTest, TwoChassisOnAGeneveNetworkReachEachOtherThroughTheTunnel) {
  build(two_chassis("geneve"), "zog");
  create_network(/*provider=*/false);
  const int p1 = lab_->peer_ns("p1").fd();
  EXPECT_TRUE(reachable(p1, kIp2, 10s)) << "no echo reply from p2 on cmp2";
  EXPECT_TRUE(reachable(lab_->peer_ns("p2").fd(), kIp1, 5s)) << "no echo reply from p1 on cmp1";
  // The fabric carried only the underlay: the ports' MACs stayed inside
  // Geneve, the endpoints' crossed in the underlay's VLAN.
  auto fdb = lab_->fabric().fdb();
  ASSERT_TRUE(fdb.ok()) << fdb.status().to_string();
  for (const FdbEntry& e : *fdb) {
    EXPECT_NE(e.mac, kMac1) << "vlan " << e.vlan;
    EXPECT_NE(e.mac, kMac2) << "vlan " << e.vlan;
  }
  const std::string br_ex_mac = lab_->host("cmp1")->net->netlink().mac_of("br-ex").value();
  EXPECT_EQ(lab_->fabric().port_of(br_ex_mac, 4000).value(), Lab::fabric_nic_port("cmp1"));
  EXPECT_EQ(geneve_ports("cmp1"), (std::vector<std::string>{"ovn-cmp2-0 \"198.19.0.12\""}));
}

// What a killed run leaves of an OVN lab (its daemons outliving their
// owner, as ones re-parented away from lmh would) `lmh cleanup` kills:
// ovn-controllers, ovn-northd, the NB and SB ovsdb-servers, with the hosts'
// and the fabric's Open vSwitch.
TEST_F(OvnLabTest, CleanupKillsTheOvnDaemonsOfARunWhoseOwnerIsGone) {
  build(two_chassis("vlan"), "zoc");
  const std::string dir = lab_->state_dir();
  ASSERT_FALSE(processes_under(dir).empty());
  // The owner "died": a pid that was ours and is reaped.
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  std::ofstream(dir + "/owner.pid", std::ios::trunc) << gone << "\n";
  auto c = run_command({LMH_BINARY, "cleanup"}, 60s);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->exit_code, 0) << c->err;
  for (const char* daemon : {"(ovn-northd)", "(ovn-controller)", "(ovsdb-server)", "(ovs-vswitchd)"})
    EXPECT_NE(c->out.find(daemon), std::string::npos) << daemon << "\n" << c->out;
  // Both chassis' controllers, and five ovsdb-servers: NB, SB, and the
  // Open vSwitch of cmp1, cmp2 and the fabric.
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = c->out.find(what); at != std::string::npos; at = c->out.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("(ovn-controller)"), 2u) << c->out;
  EXPECT_EQ(count("(ovsdb-server)"), 5u) << c->out;
  EXPECT_NE(c->out.find("removed namespace lmh-" + run_id_ + "-ovn"), std::string::npos) << c->out;
  EXPECT_EQ(processes_under(dir), std::vector<std::string>{});
  EXPECT_EQ(list_named_netns("lmh-" + run_id_), std::vector<std::string>{});
  // The lab's own teardown then finds everything gone, and is fine with it.
  lab_.reset();
}

}  // namespace
}  // namespace lmh::harness
