// The lab's kernel objects for real: namespaces, veths, bridges, enslave,
// idempotent deletes; the OVS fabric's VLAN separation, learning and FDB.
#include <gtest/gtest.h>

#include <fstream>

#include "capture/pcap_capture.h"
#include "capture/prober.h"
#include "harness/ovs/ovs_fabric.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;

// The test's own run id: namespaces "lmh-<id>-…" and state dir /run/lmh/<id>
// agree, so a concurrent `lmh cleanup` sees them as one live run.
std::string test_run_id() { return "itest" + std::to_string(::getpid() % 1000); }
std::string test_ns(const std::string& what) { return "lmh-" + test_run_id() + "-" + what; }

TEST(Namespaces, CreateIsVisibleAndDestroyRemovesItAndItsLinks) {
  LMH_REQUIRE_ROOT();
  std::string name = test_ns("a");
  {
    auto ns = NamedNetns::create(name);
    ASSERT_TRUE(ns.ok()) << ns.status().to_string();
    EXPECT_EQ(list_named_netns(name).size(), 1u);
    auto again = NamedNetns::create(name);
    EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
    auto nl = Netlink::open(ns->fd());
    ASSERT_TRUE(nl.ok());
    EXPECT_TRUE((*nl)->exists("lo"));
  }
  EXPECT_TRUE(list_named_netns(name).empty());
  EXPECT_TRUE(delete_named_netns(name).ok());  // already gone is success
}

TEST(Netlink, VethBridgeEnslaveAcrossNamespacesAndIdempotentDelete) {
  LMH_REQUIRE_ROOT();
  auto a = NamedNetns::create(test_ns("a"));
  auto b = NamedNetns::create(test_ns("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  auto na = std::move(Netlink::open(a->fd())).value();
  auto nb = std::move(Netlink::open(b->fd())).value();
  ASSERT_TRUE(na->create_veth("tapcfcfd97b-b5", "vif-a", b->fd()).ok());
  EXPECT_TRUE(na->exists("tapcfcfd97b-b5"));
  EXPECT_FALSE(na->exists("vif-a"));
  EXPECT_TRUE(nb->exists("vif-a"));
  EXPECT_EQ(na->create_veth("tapcfcfd97b-b5", "x", -1).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(na->create_bridge("brq0fe9c836-58").ok());
  ASSERT_TRUE(na->set_master("tapcfcfd97b-b5", "brq0fe9c836-58").ok());
  EXPECT_EQ(*na->master_of("tapcfcfd97b-b5"), "brq0fe9c836-58");
  ASSERT_TRUE(na->release("tapcfcfd97b-b5").ok());
  EXPECT_EQ(*na->master_of("tapcfcfd97b-b5"), "");
  ASSERT_TRUE(na->set_mac("tapcfcfd97b-b5", "fe:16:3e:3a:7b:01").ok());
  auto taps = na->list("tap");
  ASSERT_TRUE(taps.ok());
  EXPECT_EQ(*taps, std::vector<std::string>{"tapcfcfd97b-b5"});
  EXPECT_EQ(na->create_bridge("this-name-is-too-long").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(na->delete_link("tapcfcfd97b-b5").ok());
  EXPECT_FALSE(nb->exists("vif-a"));  // the pair went together
  EXPECT_TRUE(na->delete_link("tapcfcfd97b-b5").ok());  // already gone is success
}

// Two peers per VLAN on the OVS fabric: traffic stays inside its VLAN, the
// fabric learns per VLAN, and the FDB names ports.
TEST(OvsFabric, SeparatesVlansLearnsAndShowsFdb) {
  LMH_REQUIRE_ROOT();
  std::string dir = "/run/lmh/" + test_run_id();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/owner.pid") << ::getpid() << "\n";
  // Removed however the test ends (an ASSERT returns early).
  struct RemoveDir { std::string d; ~RemoveDir() { std::filesystem::remove_all(d); } } remove_dir{dir};
  {
    auto fab_ns = NamedNetns::create(test_ns("fab"));
    ASSERT_TRUE(fab_ns.ok());
    auto fabric = OvsFabric::start({dir, fab_ns->fd(), "fabric", 20});
    ASSERT_TRUE(fabric.ok()) << fabric.status().to_string();
    auto fnl = std::move(Netlink::open(fab_ns->fd())).value();
    struct End { std::string name; int vlan; std::string ip; };
    std::vector<End> ends = {{"a100", 100, "198.18.0.1"}, {"b100", 100, "198.18.0.2"}, {"c200", 200, "198.18.0.3"}};
    std::vector<NamedNetns> nss;
    for (const auto& e : ends) {
      auto ns = NamedNetns::create(test_ns(e.name));
      ASSERT_TRUE(ns.ok());
      auto nl = std::move(Netlink::open(ns->fd())).value();
      ASSERT_TRUE(nl->create_veth("eth0", e.name, fab_ns->fd()).ok());
      ASSERT_TRUE(nl->add_address("eth0", e.ip + "/24").ok());
      ASSERT_TRUE(nl->set_up("eth0").ok());
      ASSERT_TRUE(fnl->set_up(e.name).ok());
      ASSERT_TRUE((*fabric)->add_access_port(e.name, e.vlan).ok());
      nss.push_back(std::move(ns).value());
    }
    // c200 captures everything it receives while a100 pings b100 and c200.
    auto cap = capture::CaptureSession::start({{"c200", nss[2].fd(), "eth0", ""}});
    ASSERT_TRUE(cap.ok());
    ASSERT_TRUE(wait_until([&] { return !(*cap)->opened_points().empty(); }, 2s));
    // Positive control: c200's own ARP for an address in VLAN 200 must be
    // captured, so an empty capture below means separation, not a dead capture.
    capture::ProbeConfig c200_own{nss[2].fd(), "198.18.0.9", 100ms, 200ms, 0};
    auto own = std::move(capture::Prober::start(c200_own)).value();
    capture::ProbeConfig same{nss[0].fd(), "198.18.0.2", 10ms, 500ms, 0};
    capture::ProbeConfig other{nss[0].fd(), "198.18.0.3", 10ms, 500ms, 0};
    auto p1 = std::move(capture::Prober::start(same)).value();
    auto p2 = std::move(capture::Prober::start(other)).value();
    std::this_thread::sleep_for(1s);
    p1->stop();
    p2->stop();
    own->stop();
    (*cap)->stop();
    bool saw_own_arp = false;
    for (const auto& pkt : (*cap)->packets())
      saw_own_arp |= pkt.frame.kind == capture::FrameKind::kArp && capture::format_ipv4(pkt.frame.arp_spa) == "198.18.0.3";
    EXPECT_TRUE(saw_own_arp) << "the capture at c200 saw nothing at all";
    int same_replies = 0, other_replies = 0;
    for (const auto& r : p1->records()) same_replies += r.replied.has_value();
    for (const auto& r : p2->records()) other_replies += r.replied.has_value();
    EXPECT_GT(same_replies, 80);   // ~100 probes in VLAN 100
    EXPECT_EQ(other_replies, 0);   // VLAN 200 is unreachable from VLAN 100
    for (const auto& pkt : (*cap)->packets()) {
      EXPECT_NE(capture::format_ipv4(pkt.frame.arp_spa), "198.18.0.1") << "a VLAN 100 ARP reached VLAN 200";
      EXPECT_NE(capture::format_ipv4(pkt.frame.ip_src), "198.18.0.1") << "a VLAN 100 packet reached VLAN 200";
    }
    auto fdb = (*fabric)->fdb();
    ASSERT_TRUE(fdb.ok()) << fdb.status().to_string();
    std::set<std::pair<std::string, int>> ports;
    for (const auto& e : *fdb) ports.insert({e.port, e.vlan});
    EXPECT_TRUE(ports.count({"a100", 100}));
    EXPECT_TRUE(ports.count({"b100", 100}));
    EXPECT_FALSE(ports.count({"a100", 200}));
    EXPECT_TRUE((*fabric)->healthy());
  }
  EXPECT_TRUE(list_named_netns(test_ns("")).empty());
}

}  // namespace
}  // namespace lmh::harness
