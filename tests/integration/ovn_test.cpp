// OVN's daemons for real, in lab namespaces: the central databases and
// ovn-northd, and ovn-controller as a chassis over a host's own Open
// vSwitch (userspace datapath). Checked through the databases themselves
// (ovn-nbctl, ovn-sbctl), as an operator would.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/ovs/ovn_daemons.h"
#include "harness/ovs/ovs_host.h"
#include "harness/system/namespaces.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;

std::string run_id() { return "zn" + std::to_string(::getpid() % 100000); }
std::string ns_name(const std::string& what) { return "lmh-" + run_id() + "-" + what; }
std::string run_dir() { return "/run/lmh/" + run_id(); }

bool alive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  return !stat.empty() && stat.find(") Z") == std::string::npos;
}

std::string trimmed(StatusOr<std::string> out) {
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  std::string s = out.ok() ? *out : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class OvnDaemonsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    std::filesystem::create_directories(run_dir());
    std::ofstream(run_dir() + "/owner.pid") << ::getpid() << "\n";
  }
  void TearDown() override {
    controller.reset();
    host.reset();
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

  std::deque<NamedNetns> namespaces;
  std::unique_ptr<OvnCentral> central;
  std::unique_ptr<OvsHost> host;
  std::unique_ptr<OvnController> controller;
};

TEST_F(OvnDaemonsTest, NorthdTranslatesTheNorthboundIntoTheSouthbound) {
  NamedNetns& ns = make_ns("central");
  auto c = OvnCentral::start({run_dir() + "/ovn-central", ns.fd()});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  central = std::move(c).value();
  EXPECT_TRUE(central->healthy());
  EXPECT_EQ(trimmed(central->sbctl({"--bare", "--columns=external_ids", "list", "Datapath_Binding"})), "");
  ASSERT_TRUE(central->nbctl({"ls-add", "net1"}).ok());
  // northd makes a datapath for the logical switch.
  EXPECT_TRUE(wait_until(
      [&] {
        auto out = central->sbctl({"--bare", "--columns=external_ids", "list", "Datapath_Binding"});
        return out.ok() && out->find("name=net1") != std::string::npos;
      },
      10s, 20ms));
  const pid_t northd = central->northd_pid();
  central->stop();
  EXPECT_FALSE(central->healthy());
  EXPECT_FALSE(alive(northd));
}

TEST_F(OvnDaemonsTest, ControllerRegistersItsChassisWithAGeneveEncap) {
  NamedNetns& cns = make_ns("central");
  NamedNetns& hns = make_ns("h1");
  auto c = OvnCentral::start({run_dir() + "/ovn-central", cns.fd()});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  central = std::move(c).value();
  OvsHost::Options ho;
  ho.state_dir = run_dir() + "/ovs-h1";
  ho.netns_fd = hns.fd();
  auto h = OvsHost::start(ho);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  host = std::move(h).value();

  OvnController::Options o;
  o.state_dir = run_dir() + "/ovn-h1";
  o.netns_fd = hns.fd();
  o.ovs = &host->database();
  o.ovs_db_socket = host->daemons().db_socket();
  o.ovs_run_dir = host->daemons().run_dir();
  o.sb_remote = "unix:" + central->sb_socket();
  o.chassis = "h1";
  o.encap_ip = "198.19.0.11";
  o.bridge_mappings = "physnet1:br-ex";
  auto ctl = OvnController::start(o);
  ASSERT_TRUE(ctl.ok()) << ctl.status().to_string();
  controller = std::move(ctl).value();
  ASSERT_TRUE(wait_until(
      [&] {
        auto out = central->sbctl({"--bare", "--columns=name", "list", "Chassis"});
        return out.ok() && out->find("h1") != std::string::npos;
      },
      10s, 20ms))
      << "the chassis never registered: " << [&] {
           std::ifstream f(o.state_dir + "/ovn-controller.log");
           return std::string((std::istreambuf_iterator<char>(f)), {});
         }();
  EXPECT_EQ(trimmed(central->sbctl({"--bare", "--columns=hostname", "list", "Chassis"})), "h1");
  EXPECT_EQ(trimmed(central->sbctl({"--bare", "--columns=type", "list", "Encap"})), "geneve");
  EXPECT_EQ(trimmed(central->sbctl({"--bare", "--columns=ip", "list", "Encap"})), "198.19.0.11");
  EXPECT_NE(trimmed(central->sbctl({"--bare", "--columns=other_config", "list", "Chassis"})).find("physnet1:br-ex"),
            std::string::npos);
  EXPECT_TRUE(controller->healthy());
  const pid_t pid = controller->pid();
  controller->stop();
  EXPECT_FALSE(controller->healthy());
  EXPECT_FALSE(alive(pid));
}

TEST(OvnDaemons, ControllerWithoutItsHostsOpenVswitchIsRefused) {
  OvnController::Options o;
  o.state_dir = "/nonexistent-lmh-test";
  EXPECT_EQ(OvnController::start(o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-lmh-test"));
}

}  // namespace
}  // namespace lmh::harness
