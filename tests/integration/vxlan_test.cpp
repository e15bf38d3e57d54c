// VXLAN for real, as neutron's linuxbridge agent drives it: devices in
// unicast mode (l2population), forwarding entries with remote destinations,
// permanent neighbours; traffic over a veth underlay between two namespaces,
// checked with lmh's own ICMP prober.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/netns.h"
#include "harness/lab/lab.h"
#include "harness/system/capabilities.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/sysctl.h"
#include "integration_util.h"

namespace lmh::harness {

// gtest prints records by value, not as bytes (found by argument-dependent
// lookup, hence outside the anonymous namespace).
void PrintTo(const VxlanFdbRecord& r, std::ostream* os) {
  *os << r.mac << " dst " << r.dst_ip << (r.permanent ? " permanent" : " learned");
}

namespace {

using namespace std::chrono_literals;
using lmh::testing::reachable;
using lmh::testing::root_links_at_start;

// Builds the test's endpoints; skips where the kernel has no VXLAN.
#define LMH_MAKE_VTEPS(count)                                                           \
  do {                                                                                  \
    Status made = make_vteps(count);                                                    \
    if (made.code() == StatusCode::kEnvironment) GTEST_SKIP() << made.to_string();      \
    ASSERT_TRUE(made.ok()) << made.to_string();                                         \
  } while (0)

// The test's own run: namespaces "lmh-<id>-…" and the state dir
// /run/lmh/<id> with our pid, so a concurrent `lmh cleanup` (or `lmh run`
// reaping stale runs) leaves them alone.
std::string test_run_id() { return "itestvx" + std::to_string(::getpid() % 1000); }
std::string test_ns(const std::string& what) { return "lmh-" + test_run_id() + "-" + what; }

const std::string kFlood = "00:00:00:00:00:00";

// The root namespace's links now, minus those it had when the tests started
// (nothing here may create a link there).
std::vector<std::string> new_root_links() {
  std::vector<std::string> out;
  auto nl = Netlink::open(-1);
  if (!nl.ok()) return {"cannot open netlink: " + nl.status().to_string()};
  const auto& before = root_links_at_start();
  auto now = (*nl)->list();
  if (!now.ok()) return {"cannot list links: " + now.status().to_string()};
  for (const auto& l : *now)
    if (std::find(before.begin(), before.end(), l) == before.end()) out.push_back(l);
  return out;
}

// The UDP table (/proc/net/udp) of namespace 'netns_fd'.
std::string udp_table(int netns_fd) {
  ScopedNetns in(netns_fd);
  if (!in.ok()) return "";
  std::ifstream f("/proc/thread-self/net/udp");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One tunnel endpoint: a namespace (IPv6 off, so nothing talks unasked)
// whose underlay eth1 holds 10.0.0.<n>/24 and whose vxlan-100 (VNI 100,
// local 10.0.0.<n>, dev eth1, dstport 4789, no group: unicast, as the agent
// makes it with l2population) holds 192.168.100.<n>/24.
struct Vtep {
  NamedNetns ns;
  std::unique_ptr<Netlink> nl;
  std::string underlay_ip;
  std::string overlay_ip;
};

class Vxlan : public ::testing::Test {
 protected:
  void SetUp() override {
    LMH_REQUIRE_ROOT();
    state_dir_ = "/run/lmh/" + test_run_id();
    std::filesystem::create_directories(state_dir_);
    std::ofstream(state_dir_ + "/owner.pid") << ::getpid() << "\n";
  }
  void TearDown() override {
    for (auto& v : vteps_) {
      v.nl.reset();
      v.ns.destroy();
    }
    vteps_.clear();
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
    EXPECT_TRUE(list_named_netns(test_ns("")).empty()) << "a namespace of the test is left";
    EXPECT_EQ(new_root_links(), std::vector<std::string>{}) << "a link was left in the root namespace";
  }

  // Makes 'count' (1 or 2) endpoints, the second joined to the first by the
  // underlay veth.
  Status make_vteps(int count) {
    for (int n = 1; n <= count; ++n) {
      auto ns = NamedNetns::create(test_ns("vtep" + std::to_string(n)));
      if (!ns.ok()) return ns.status();
      (void)write_sysctl(ns->fd(), "net/ipv6/conf/all/disable_ipv6", "1");
      (void)write_sysctl(ns->fd(), "net/ipv6/conf/default/disable_ipv6", "1");
      auto nl = Netlink::open(ns->fd());
      if (!nl.ok()) return nl.status();
      vteps_.push_back({std::move(ns).value(), std::move(nl).value(), "10.0.0." + std::to_string(n),
                        "192.168.100." + std::to_string(n)});
    }
    LMH_RETURN_IF_ERROR(count == 2 ? vteps_[0].nl->create_veth("eth1", "eth1", vteps_[1].ns.fd())
                                   : vteps_[0].nl->create_veth("eth1", "eth1-peer"));
    for (auto& v : vteps_) {
      LMH_RETURN_IF_ERROR(v.nl->add_address("eth1", v.underlay_ip + "/24"));
      LMH_RETURN_IF_ERROR(v.nl->set_up("eth1"));
      LMH_RETURN_IF_ERROR(v.nl->create_vxlan(
          {.name = "vxlan-100", .vni = 100, .local_ip = v.underlay_ip, .underlay = "eth1", .dstport = 4789}));
      LMH_RETURN_IF_ERROR(v.nl->add_address("vxlan-100", v.overlay_ip + "/24"));
      LMH_RETURN_IF_ERROR(v.nl->set_up("vxlan-100"));
    }
    return ok_status();
  }

  std::string state_dir_;
  std::vector<Vtep> vteps_;
};

// With only a flooding entry to the other endpoint, the overlay carries
// traffic (ARP floods to the remote, the reply comes back); without it,
// nothing goes: a forwarding-entry call that did not reach the kernel fails
// one side or the other.
TEST_F(Vxlan, FloodEntryCarriesOverlayTrafficAndDeletingItStopsIt) {
  LMH_MAKE_VTEPS(2);
  Vtep& a = vteps_[0];
  Vtep& b = vteps_[1];
  // The kernel opened the device's socket on UDP 4789 (":12B5" in
  // /proc/net/udp): dstport reached it in network order.
  EXPECT_NE(udp_table(a.ns.fd()).find(":12B5 "), std::string::npos) << udp_table(a.ns.fd());
  // Negative control: no entry, no tunnel.
  EXPECT_FALSE(reachable(a.ns.fd(), b.overlay_ip, 1s)) << "reached the other side without any fdb entry";

  ASSERT_TRUE(a.nl->fdb_append("vxlan-100", kFlood, b.underlay_ip).ok());
  ASSERT_TRUE(b.nl->fdb_append("vxlan-100", kFlood, a.underlay_ip).ok());
  EXPECT_TRUE(reachable(a.ns.fd(), b.overlay_ip)) << "the flooding entries carry no traffic";

  // The kernel learned b's overlay MAC behind b's underlay address (neutron
  // leaves learning at the kernel's default: on).
  auto a_entries = a.nl->fdb_entries("vxlan-100");
  ASSERT_TRUE(a_entries.ok()) << a_entries.status().to_string();
  bool flood_listed = false, learned = false;
  for (const auto& e : *a_entries) {
    flood_listed |= e == VxlanFdbRecord{kFlood, b.underlay_ip, true};
    learned |= e.mac != kFlood && e.dst_ip == b.underlay_ip && !e.permanent;
  }
  EXPECT_TRUE(flood_listed);
  EXPECT_TRUE(learned) << "no learned entry for b's MAC";

  // Without the flooding entry (and without what traffic taught a: the
  // learned entry and the ARP entry), a's ARP request has nowhere to go.
  ASSERT_TRUE(a.nl->fdb_delete("vxlan-100", kFlood, b.underlay_ip).ok());
  for (const auto& e : *a_entries) {
    if (e.permanent) continue;
    ASSERT_TRUE(a.nl->fdb_delete("vxlan-100", e.mac, e.dst_ip).ok());
  }
  ASSERT_TRUE(a.nl->neigh_delete("vxlan-100", b.overlay_ip).ok());
  EXPECT_EQ(a.nl->fdb_entries("vxlan-100").value(), std::vector<VxlanFdbRecord>{});
  EXPECT_FALSE(reachable(a.ns.fd(), b.overlay_ip, 1s)) << "reached the other side after the flood entry went";
}

// Forwarding entries read back: append keeps several flooding destinations,
// replace leaves one destination, delete removes exactly one (mac, dst), and
// a missing one is success. The device sits in a bridge, as the agent's
// does, so the bridge's own entries for it (no destination) are in the dump
// and must stay out of the list.
TEST_F(Vxlan, FdbAppendReplaceAndDeleteReadBack) {
  LMH_MAKE_VTEPS(1);
  Netlink& nl = *vteps_[0].nl;
  ASSERT_TRUE(nl.create_bridge("brq100").ok());
  ASSERT_TRUE(nl.set_master("vxlan-100", "brq100").ok());
  ASSERT_TRUE(nl.set_up("brq100").ok());
  using R = VxlanFdbRecord;
  const std::string vm = "fa:16:3e:00:00:01";
  auto entries = [&] {
    auto e = nl.fdb_entries("vxlan-100");
    EXPECT_TRUE(e.ok()) << e.status().to_string();
    return e.ok() ? *e : std::vector<R>{};
  };
  EXPECT_EQ(entries(), std::vector<R>{});

  ASSERT_TRUE(nl.fdb_append("vxlan-100", kFlood, "10.0.0.2").ok());
  ASSERT_TRUE(nl.fdb_append("vxlan-100", kFlood, "10.0.0.3").ok());
  ASSERT_TRUE(nl.fdb_append("vxlan-100", kFlood, "10.0.0.3").ok());  // again: no duplicate
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.2", true}, {kFlood, "10.0.0.3", true}}));

  // A unicast mac: replace moves its one destination (given in capitals:
  // listed as the kernel spells it).
  ASSERT_TRUE(nl.fdb_replace("vxlan-100", "FA:16:3E:00:00:01", "10.0.0.2").ok());
  ASSERT_TRUE(nl.fdb_replace("vxlan-100", vm, "10.0.0.3").ok());
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.2", true}, {kFlood, "10.0.0.3", true}, {vm, "10.0.0.3", true}}));
  // The kernel keeps one destination per unicast mac: append does nothing.
  ASSERT_TRUE(nl.fdb_append("vxlan-100", vm, "10.0.0.4").ok());
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.2", true}, {kFlood, "10.0.0.3", true}, {vm, "10.0.0.3", true}}));

  // Delete removes exactly one destination of the flooding mac.
  ASSERT_TRUE(nl.fdb_delete("vxlan-100", kFlood, "10.0.0.2").ok());
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.3", true}, {vm, "10.0.0.3", true}}));
  // Missing: a destination of a listed mac, a mac, the device.
  EXPECT_TRUE(nl.fdb_delete("vxlan-100", kFlood, "10.0.0.9").ok());
  EXPECT_TRUE(nl.fdb_delete("vxlan-100", "fa:16:3e:00:00:99", "10.0.0.3").ok());
  EXPECT_TRUE(nl.fdb_delete("vxlan-999", kFlood, "10.0.0.3").ok());
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.3", true}, {vm, "10.0.0.3", true}}));

  // Replace on the flooding mac leaves it one destination (the kernel
  // refuses NLM_F_REPLACE for it: EOPNOTSUPP).
  ASSERT_TRUE(nl.fdb_append("vxlan-100", kFlood, "10.0.0.2").ok());
  ASSERT_TRUE(nl.fdb_append("vxlan-100", kFlood, "10.0.0.4").ok());
  Status flood_replaced = nl.fdb_replace("vxlan-100", kFlood, "10.0.0.5");
  ASSERT_TRUE(flood_replaced.ok()) << flood_replaced.to_string();
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.5", true}, {vm, "10.0.0.3", true}}));
  ASSERT_TRUE(nl.fdb_replace("vxlan-100", kFlood, "10.0.0.5").ok());  // again: unchanged
  EXPECT_EQ(entries(), (std::vector<R>{{kFlood, "10.0.0.5", true}, {vm, "10.0.0.3", true}}));

  // Errors name the operation and the device.
  Status bad = nl.fdb_append("vxlan-100", "fa:16:3e:00:00", "10.0.0.2");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("fdb append fa:16:3e:00:00 dst 10.0.0.2 on vxlan-100"), std::string::npos)
      << bad.message();
  EXPECT_EQ(nl.fdb_replace("vxlan-100", vm, "10.0.0").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nl.fdb_delete("vxlan-999", "fa:16:3e", "10.0.0.2").code(), StatusCode::kInvalidArgument);
  Status missing = nl.fdb_append("vxlan-999", kFlood, "10.0.0.2");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("vxlan-999"), std::string::npos) << missing.message();
  EXPECT_EQ(nl.fdb_entries("vxlan-999").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(nl.create_vxlan({.name = "vxlan-100", .vni = 100}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(nl.create_vxlan({.name = "vxlan-bad", .vni = 1u << 24}).code(), StatusCode::kInvalidArgument);
}

// Permanent neighbours (the agent's ARP responder entries): replace twice
// leaves the last MAC; delete removes it; a missing one is success.
TEST_F(Vxlan, NeighReplaceAndDelete) {
  LMH_MAKE_VTEPS(1);
  Netlink& nl = *vteps_[0].nl;
  using M = std::map<std::string, std::string>;
  ASSERT_TRUE(nl.neigh_replace("vxlan-100", "192.168.100.7", "fa:16:3e:00:00:07").ok());
  EXPECT_EQ(nl.neighbours("vxlan-100").value(), (M{{"192.168.100.7", "fa:16:3e:00:00:07"}}));
  ASSERT_TRUE(nl.neigh_replace("vxlan-100", "192.168.100.7", "fa:16:3e:00:00:08").ok());
  ASSERT_TRUE(nl.neigh_replace("vxlan-100", "192.168.100.9", "fa:16:3e:00:00:09").ok());
  EXPECT_EQ(nl.neighbours("vxlan-100").value(),
            (M{{"192.168.100.7", "fa:16:3e:00:00:08"}, {"192.168.100.9", "fa:16:3e:00:00:09"}}));
  EXPECT_EQ(nl.neighbours("eth1").value(), M{});  // per device
  ASSERT_TRUE(nl.neigh_delete("vxlan-100", "192.168.100.7").ok());
  EXPECT_EQ(nl.neighbours("vxlan-100").value(), (M{{"192.168.100.9", "fa:16:3e:00:00:09"}}));
  EXPECT_TRUE(nl.neigh_delete("vxlan-100", "192.168.100.7").ok());  // already gone
  EXPECT_TRUE(nl.neigh_delete("vxlan-999", "192.168.100.7").ok());  // so is the device
  Status missing = nl.neigh_replace("vxlan-999", "192.168.100.7", "fa:16:3e:00:00:07");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("neigh replace 192.168.100.7 lladdr fa:16:3e:00:00:07 on vxlan-999"),
            std::string::npos)
      << missing.message();
  EXPECT_EQ(nl.neigh_replace("vxlan-100", "192.168.100.300", "fa:16:3e:00:00:07").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(nl.neigh_delete("vxlan-999", "192.168.100").code(), StatusCode::kInvalidArgument);
}

// What core's linuxbridge agent calls, on a lab: two linuxbridge hosts whose
// NICs (the underlay, untagged through the fabric switch) carry vxlan-100,
// made by LabHostNetwork and enslaved to brq100 as the agent does it.
TEST(VxlanLab, HostNetworkTunnelsBetweenLabHostsThroughTheFabric) {
  LMH_REQUIRE_ROOT();
  const std::string run_id = "itestvl" + std::to_string(::getpid() % 1000);
  Topology topology;
  topology.hosts = {{.name = "cmp1"}, {.name = "cmp2"}};
  {
    auto lab = Lab::build(topology, run_id, Capabilities{});
    ASSERT_TRUE(lab.ok()) << lab.status().to_string();
    struct End { LabHost* host; std::string underlay_ip, overlay_ip; };
    std::vector<End> ends = {{(*lab)->host("cmp1"), "10.0.0.1", "192.168.100.1"},
                             {(*lab)->host("cmp2"), "10.0.0.2", "192.168.100.2"}};
    for (const End& e : ends) {
      core::HostNetwork& net = *e.host->net;
      ASSERT_TRUE(e.host->net->netlink().add_address("eth1", e.underlay_ip + "/24").ok());
      core::VxlanDevice vxlan{.name = "vxlan-100", .vni = 100, .local_ip = e.underlay_ip, .group = "",
                              .underlay = "eth1", .dstport = 4789};
      Status made = net.ensure_vxlan_interface(vxlan);
      if (made.code() == StatusCode::kEnvironment) GTEST_SKIP() << made.to_string();
      ASSERT_TRUE(made.ok()) << made.to_string();
      ASSERT_TRUE(net.ensure_vxlan_interface(vxlan).ok());  // exists: nothing to do
      ASSERT_TRUE(net.ensure_bridge("brq100").ok());
      ASSERT_TRUE(net.set_master("vxlan-100", "brq100").ok());
      ASSERT_TRUE(e.host->net->netlink().add_address("brq100", e.overlay_ip + "/24").ok());
    }
    core::HostNetwork& one = *ends[0].host->net;
    core::HostNetwork& two = *ends[1].host->net;
    ASSERT_TRUE(one.fdb_add("vxlan-100", {kFlood, "10.0.0.2"}, true).ok());
    ASSERT_TRUE(two.fdb_add("vxlan-100", {kFlood, "10.0.0.1"}, true).ok());
    // Not appended: the entry replaces the mac's destination.
    ASSERT_TRUE(one.fdb_add("vxlan-100", {"fa:16:3e:00:00:0a", "10.0.0.8"}, false).ok());
    ASSERT_TRUE(one.fdb_add("vxlan-100", {"fa:16:3e:00:00:0a", "10.0.0.9"}, false).ok());
    using E = core::VxlanFdbEntry;
    EXPECT_EQ(one.fdb_entries("vxlan-100").value(),
              (std::vector<E>{{kFlood, "10.0.0.2"}, {"fa:16:3e:00:00:0a", "10.0.0.9"}}));
    ASSERT_TRUE(one.fdb_delete("vxlan-100", {"fa:16:3e:00:00:0a", "10.0.0.9"}).ok());
    ASSERT_TRUE(one.neigh_replace("vxlan-100", "192.168.100.10", "fa:16:3e:00:00:0a").ok());
    EXPECT_EQ(ends[0].host->net->netlink().neighbours("vxlan-100").value(),
              (std::map<std::string, std::string>{{"192.168.100.10", "fa:16:3e:00:00:0a"}}));
    ASSERT_TRUE(one.neigh_delete("vxlan-100", "192.168.100.10").ok());

    ASSERT_TRUE(reachable(ends[0].host->ns.fd(), "10.0.0.2")) << "the underlay carries no traffic";
    EXPECT_TRUE(reachable(ends[0].host->ns.fd(), "192.168.100.2")) << "no traffic through the tunnel";
    ASSERT_TRUE(one.fdb_delete("vxlan-100", {kFlood, "10.0.0.2"}).ok());
    auto left = one.fdb_entries("vxlan-100");
    ASSERT_TRUE(left.ok());
    for (const E& e : *left) EXPECT_NE(e.mac, kFlood);  // only what the kernel learned is left
  }
  EXPECT_TRUE(list_named_netns("lmh-" + run_id).empty());
  EXPECT_FALSE(std::filesystem::exists("/run/lmh/" + run_id));
  EXPECT_EQ(new_root_links(), std::vector<std::string>{});
}

// `lmh doctor`'s vxlan line: probed by creating a device in the scratch
// namespace, which is gone afterwards.
TEST(Capabilities, ProbeReportsVxlanAndRemovesItsScratchNamespace) {
  LMH_REQUIRE_ROOT();
  const std::string scratch = "lmh-probe-" + std::to_string(::getpid());
  Capabilities caps = probe_capabilities(scratch);
  auto it = std::find_if(caps.list.begin(), caps.list.end(), [](const Capability& c) { return c.name == "vxlan"; });
  ASSERT_NE(it, caps.list.end());
  EXPECT_EQ(it->available, caps.vxlan);
  EXPECT_FALSE(it->detail.empty());
  // A kernel with VXLAN (built in, or the module the probe's create loaded)
  // shows it in /sys/module.
  if (std::filesystem::exists("/sys/module/vxlan")) {
    EXPECT_TRUE(caps.vxlan) << it->detail;
  } else {
    EXPECT_FALSE(it->fallback.empty());
  }
  EXPECT_TRUE(list_named_netns(scratch).empty());
  EXPECT_EQ(new_root_links(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::harness
