// OvnNorthboundIdl against real OVN central databases (OvnCentral) and
// chassis (OvnController over an OvsHost, userspace datapath): what it
// writes is checked with ovn-nbctl / ovn-sbctl, an independent view, and
// what it reports is what ovn-northd and ovn-controller really did.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/ovs/ovn_daemons.h"
#include "harness/ovs/ovn_northbound_idl.h"
#include "harness/ovs/ovs_host.h"
#include "harness/system/namespaces.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;

std::string run_id() { return "zo" + std::to_string(::getpid() % 100000); }
std::string ns_name(const std::string& what) { return "lmh-" + run_id() + "-" + what; }
std::string run_dir() { return "/run/lmh/" + run_id(); }

std::string trimmed(StatusOr<std::string> out) {
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  std::string s = out.ok() ? *out : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string file_text(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

const core::OvnLogicalSwitch kNet1{"neutron-net1", "provnet-net1", "physnet1", 100};

class OvnNorthboundIdlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    std::filesystem::create_directories(run_dir());
    std::ofstream(run_dir() + "/owner.pid") << ::getpid() << "\n";
    NamedNetns& ns = make_ns("central");
    auto c = OvnCentral::start({run_dir() + "/ovn-central", ns.fd()});
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    central = std::move(c).value();
    auto n = OvnNorthboundIdl::connect(central->nb_socket(), central->sb_socket(), 10s);
    ASSERT_TRUE(n.ok()) << n.status().to_string();
    nb = std::move(n).value();
  }
  void TearDown() override {
    nb.reset();
    controllers.clear();
    hosts.clear();
    central.reset();
    namespaces.clear();
    std::filesystem::remove_all(run_dir());
    if (::geteuid() == 0) {
      EXPECT_EQ(lmh::testing::lmh_leftovers(), std::vector<std::string>{}) << "leaked";
    }
  }
  NamedNetns& make_ns(const std::string& what) {
    auto ns = NamedNetns::create(ns_name(what));
    EXPECT_TRUE(ns.ok()) << ns.status().to_string();
    namespaces.push_back(std::move(ns).value());
    return namespaces.back();
  }
  // Host 'name' (a namespace, Open vSwitch, ovn-controller as chassis
  // 'name'), once its chassis is in the southbound database.
  OvsHost* add_chassis(const std::string& name, const std::string& encap_ip) {
    NamedNetns& ns = make_ns(name);
    OvsHost::Options ho;
    ho.state_dir = run_dir() + "/ovs-" + name;
    ho.netns_fd = ns.fd();
    auto h = OvsHost::start(ho);
    EXPECT_TRUE(h.ok()) << h.status().to_string();
    if (!h.ok()) return nullptr;
    hosts.push_back(std::move(h).value());
    OvsHost& host = *hosts.back();
    OvnController::Options o;
    o.state_dir = run_dir() + "/ovn-" + name;
    o.netns_fd = ns.fd();
    o.ovs = &host.database();
    o.ovs_db_socket = host.daemons().db_socket();
    o.ovs_run_dir = host.daemons().run_dir();
    o.sb_remote = "unix:" + central->sb_socket();
    o.chassis = name;
    o.encap_ip = encap_ip;
    auto ctl = OvnController::start(o);
    EXPECT_TRUE(ctl.ok()) << ctl.status().to_string();
    if (!ctl.ok()) return nullptr;
    controllers.push_back(std::move(ctl).value());
    bool registered = wait_until(
        [&] {
          auto out = central->sbctl({"--bare", "--columns=name", "find", "Chassis", "name=" + name});
          return out.ok() && out->find(name) != std::string::npos;
        },
        10s, 20ms);
    EXPECT_TRUE(registered) << "chassis " << name << " never registered: "
                            << file_text(o.state_dir + "/ovn-controller.log");
    return registered ? &host : nullptr;
  }
  // A VIF of port 'lsp' on 'host''s br-int, as libvirt plugs a tap
  // (ovn-fake-multinode's create_fake_vm): an internal port whose
  // interface carries external_ids:iface-id.
  void plug_vif(OvsHost& host, const std::string& ifname, const std::string& lsp) {
    ASSERT_TRUE(host.database().ensure_internal_port("br-int", ifname).ok());
    Status s = host.database().add_port("br-int", ifname, {{"iface-id", lsp}}, std::nullopt);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  // Polls port_state_changes() (every 20 ms, for at most 'timeout') until
  // port 'name''s latest state satisfies 'pred'; every state seen is kept
  // in 'seen'.
  template <typename Pred>
  bool wait_for_state(const std::string& name, Pred pred, std::chrono::milliseconds timeout = 20s) {
    return wait_until(
        [&] {
          for (auto& s : nb->port_state_changes()) {
            seen.push_back(s);
            latest[s.name] = s;
          }
          auto it = latest.find(name);
          return it != latest.end() && pred(it->second);
        },
        timeout, 20ms);
  }
  std::string nbctl(std::vector<std::string> args) { return trimmed(central->nbctl(std::move(args))); }
  std::string sbctl(std::vector<std::string> args) { return trimmed(central->sbctl(std::move(args))); }
  // lsp-get-options of 'port', one key=value a line, in key order
  // (ovn-nbctl prints them in hash order).
  std::string options_of(const std::string& port) {
    std::istringstream in(nbctl({"lsp-get-options", port}));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
    return out;
  }

  std::deque<NamedNetns> namespaces;
  std::unique_ptr<OvnCentral> central;
  std::vector<std::unique_ptr<OvsHost>> hosts;
  std::vector<std::unique_ptr<OvnController>> controllers;
  std::unique_ptr<OvnNorthboundIdl> nb;
  std::vector<core::OvnPortState> seen;
  std::map<std::string, core::OvnPortState> latest;
};

TEST_F(OvnNorthboundIdlTest, EnsureLogicalSwitchCreatesItsLocalnetPortOnce) {
  ASSERT_TRUE(nb->ensure_logical_switch(kNet1).ok());
  EXPECT_EQ(nbctl({"--bare", "--columns=name", "list", "Logical_Switch"}), "neutron-net1");
  EXPECT_EQ(nbctl({"lsp-list", "neutron-net1"}).find("provnet-net1") != std::string::npos, true);
  EXPECT_EQ(nbctl({"lsp-get-type", "provnet-net1"}), "localnet");
  EXPECT_EQ(nbctl({"lsp-get-addresses", "provnet-net1"}), "unknown");
  EXPECT_EQ(nbctl({"lsp-get-options", "provnet-net1"}), "network_name=physnet1");
  // northd turns it into a localnet Port_Binding, with tag_request as tag.
  EXPECT_TRUE(wait_until(
      [&] {
        auto out = central->sbctl({"--bare", "--columns=type", "find", "Port_Binding", "logical_port=provnet-net1"});
        return out.ok() && out->find("localnet") != std::string::npos;
      },
      10s, 20ms));
  EXPECT_EQ(sbctl({"--bare", "--columns=tag", "find", "Port_Binding", "logical_port=provnet-net1"}), "100");

  // Idempotent: a second ensure (even with other settings) changes nothing.
  ASSERT_TRUE(nb->ensure_logical_switch(kNet1).ok());
  core::OvnLogicalSwitch other = kNet1;
  other.tag = 200;
  ASSERT_TRUE(nb->ensure_logical_switch(other).ok());
  EXPECT_EQ(nbctl({"--bare", "--columns=name", "list", "Logical_Switch"}), "neutron-net1");
  EXPECT_EQ(nbctl({"--bare", "--columns=name", "list", "Logical_Switch_Port"}), "provnet-net1");
  EXPECT_EQ(nbctl({"--bare", "--columns=tag_request", "list", "Logical_Switch_Port"}), "100");

  // A geneve network has no localnet port.
  ASSERT_TRUE(nb->ensure_logical_switch({"neutron-net2", "", "", 0}).ok());
  EXPECT_EQ(nbctl({"lsp-list", "neutron-net2"}), "");
  EXPECT_EQ(nb->ensure_logical_switch({"", "", "", 0}).code(), StatusCode::kInvalidArgument);
}

TEST_F(OvnNorthboundIdlTest, PortsAreCreatedReconfiguredAndDeleted) {
  ASSERT_TRUE(nb->ensure_logical_switch(kNet1).ok());
  core::OvnLogicalSwitchPort p{"p1", "neutron-net1", "fa:16:3e:00:00:01", "10.0.0.11", {{"requested-chassis", "h1"}}};
  EXPECT_EQ(nb->create_port({"p0", "neutron-nope", "fa:16:3e:00:00:09", "10.0.0.9", {}}).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(nb->create_port(p).ok());
  EXPECT_EQ(nb->create_port(p).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(nbctl({"lsp-get-addresses", "p1"}), "fa:16:3e:00:00:01 10.0.0.11");
  EXPECT_EQ(nbctl({"lsp-get-port-security", "p1"}), "fa:16:3e:00:00:01 10.0.0.11");
  EXPECT_EQ(nbctl({"lsp-get-options", "p1"}), "requested-chassis=h1");
  EXPECT_EQ(nbctl({"lsp-get-ls", "p1"}).find("neutron-net1") != std::string::npos, true);

  // The whole map is replaced: a key left out disappears.
  ASSERT_TRUE(nb->set_port_options("p1", {{"requested-chassis", "h1,h2"}, {"activation-strategy", "rarp"}}).ok());
  EXPECT_EQ(options_of("p1"), "activation-strategy=rarp\nrequested-chassis=h1,h2");
  ASSERT_TRUE(nb->set_port_options("p1", {{"requested-chassis", "h2"}}).ok());
  EXPECT_EQ(options_of("p1"), "requested-chassis=h2");
  EXPECT_EQ(nb->set_port_options("nope", {}).code(), StatusCode::kNotFound);

  ASSERT_TRUE(nb->delete_port("p1").ok());
  EXPECT_EQ(nbctl({"lsp-list", "neutron-net1"}).find("p1"), std::string::npos);
  EXPECT_EQ(nbctl({"--bare", "--columns=name", "list", "Logical_Switch_Port"}), "provnet-net1");
  EXPECT_TRUE(nb->delete_port("p1").ok()) << "deleting what is gone is ok";
  // A deleted name is free again.
  EXPECT_TRUE(nb->create_port(p).ok());
}

TEST_F(OvnNorthboundIdlTest, BindingFollowsRequestedChassisAcrossTwoHosts) {
  OvsHost* h1 = add_chassis("h1", "198.19.0.11");
  ASSERT_NE(h1, nullptr);
  ASSERT_TRUE(nb->ensure_logical_switch({"neutron-net1", "", "", 0}).ok());
  ASSERT_TRUE(
      nb->create_port({"p1", "neutron-net1", "fa:16:3e:00:00:01", "10.0.0.11", {{"requested-chassis", "h1"}}}).ok());
  ASSERT_NO_FATAL_FAILURE(plug_vif(*h1, "tap-p1", "p1"));

  ASSERT_TRUE(wait_for_state("p1", [](const core::OvnPortState& s) { return s.chassis == "h1" && s.up; }))
      << "last: chassis=" << latest["p1"].chassis << " up=" << latest["p1"].up << "\n"
      << file_text(run_dir() + "/ovn-h1/ovn-controller.log");
  // The binding is reported no later than up (northd derives up from it).
  auto first = [&](auto pred) {
    return std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.name == "p1" && pred(s); }) -
           seen.begin();
  };
  EXPECT_LE(first([](const auto& s) { return s.chassis == "h1"; }), first([](const auto& s) { return s.up; }));
  EXPECT_TRUE(latest["p1"].additional_chassis.empty());
  // Nothing more changes: another call reports nothing for p1.
  for (const auto& s : nb->port_state_changes()) EXPECT_NE(s.name, "p1");

  // Live migration to h2: requested-chassis "h1,h2", and h2's tap exists.
  OvsHost* h2 = add_chassis("h2", "198.19.0.12");
  ASSERT_NE(h2, nullptr);
  ASSERT_TRUE(nb->set_port_options("p1", {{"requested-chassis", "h1,h2"}}).ok());
  ASSERT_NO_FATAL_FAILURE(plug_vif(*h2, "tap-p1", "p1"));
  ASSERT_TRUE(wait_for_state("p1", [](const core::OvnPortState& s) {
    return s.chassis == "h1" && s.additional_chassis == std::vector<std::string>{"h2"};
  })) << "last: chassis=" << latest["p1"].chassis << " additional=" << latest["p1"].additional_chassis.size()
      << "\n"
      << file_text(run_dir() + "/ovn-h2/ovn-controller.log");
  EXPECT_TRUE(latest["p1"].up);

  // Activation on h2: it becomes the main chassis, h1 lets go.
  ASSERT_TRUE(nb->set_port_options("p1", {{"requested-chassis", "h2"}}).ok());
  ASSERT_TRUE(wait_for_state("p1", [](const core::OvnPortState& s) {
    return s.chassis == "h2" && s.additional_chassis.empty() && s.up;
  })) << "last: chassis=" << latest["p1"].chassis << " additional=" << latest["p1"].additional_chassis.size();

  // Deleted: reported once more, with nothing bound.
  ASSERT_TRUE(nb->delete_port("p1").ok());
  core::OvnPortState unbound;
  unbound.name = "p1";
  EXPECT_TRUE(wait_for_state("p1", [&](const core::OvnPortState& s) { return s == unbound; }));
}

TEST(OvnNorthboundIdl, ConnectToAMissingSocketIsUnavailableWithinTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto nb = OvnNorthboundIdl::connect("/nonexistent-lmh/ovnnb_db.sock", "/nonexistent-lmh/ovnsb_db.sock", 300ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(nb.ok());
  EXPECT_EQ(nb.status().code(), StatusCode::kUnavailable) << nb.status().to_string();
  EXPECT_NE(nb.status().message().find("ovnnb_db.sock"), std::string::npos) << nb.status().to_string();
  EXPECT_LT(elapsed, 300ms + 500ms);
}

}  // namespace
}  // namespace lmh::harness
