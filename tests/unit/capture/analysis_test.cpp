// analyze() on synthetic probe records and packets, with exact numbers.
#include "capture/analysis.h"

#include <gtest/gtest.h>

#include <functional>

namespace lmh::capture {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const Mac kGuest = {0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01};
const Mac kOther = {0xfa, 0x16, 0x3e, 0x00, 0x00, 0x99};
const Mac kPeerMac = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
constexpr uint32_t kGuestIp = 0xc6120002;  // 198.18.0.2
constexpr uint32_t kPeerIp = 0xc6120001;   // 198.18.0.1
constexpr uint32_t kOtherIp = 0xc6120009;

// Run time 0, far from the clock's epoch so negative offsets stay valid.
const MonoTime kT0 = MonoTime(std::chrono::seconds(1000));

MonoTime at_us(int64_t us) { return kT0 + microseconds(us); }
MonoTime at_ms(int64_t ms) { return kT0 + milliseconds(ms); }

// Probes every 5 ms with sent in [from_ms, to_ms], answered 200 us later
// unless 'lost' says otherwise for the send time (in ms).
std::vector<ProbeRecord> probes(int64_t from_ms, int64_t to_ms,
                                std::function<bool(int64_t)> lost = [](int64_t) { return false; }) {
  std::vector<ProbeRecord> out;
  uint32_t seq = 1;
  for (int64_t t = from_ms; t <= to_ms; t += 5) {
    ProbeRecord r;
    r.seq = seq++;
    r.sent = at_ms(t);
    if (!lost(t)) r.replied = at_us(t * 1000 + 200);
    out.push_back(r);
  }
  return out;
}

AnalysisInput base_input() {
  AnalysisInput in;
  in.interval = microseconds(5000);
  in.reply_timeout = milliseconds(1000);
  in.origin = kT0;
  in.window_start = at_ms(0);
  in.window_end = at_ms(1000);
  in.guest_mac = kGuest;
  in.guest_ip = kGuestIp;
  in.peer_ip = kPeerIp;
  in.src_fabric_point = "src.fabric";
  in.dst_fabric_point = "dst.fabric";
  return in;
}

Packet packet(MonoTime t, std::string point, Frame f) { return Packet{t, std::move(point), f}; }

Frame rarp_from(const Mac& src, const Mac& sha) {
  Frame f;
  f.kind = FrameKind::kRarp;
  f.ethertype = 0x8035;
  f.src = src;
  f.arp_op = 3;
  f.arp_sha = sha;
  return f;
}

Frame arp_from_guest(uint16_t op, uint32_t tpa) {
  Frame f;
  f.kind = FrameKind::kArp;
  f.ethertype = 0x0806;
  f.src = kGuest;
  f.arp_op = op;
  f.arp_sha = kGuest;
  f.arp_spa = kGuestIp;
  f.arp_tpa = tpa;
  return f;
}

Frame icmp(const Mac& src, uint8_t type, uint32_t ip_src, uint32_t ip_dst) {
  Frame f;
  f.kind = FrameKind::kIcmp;
  f.ethertype = 0x0800;
  f.src = src;
  f.ip_proto = 1;
  f.ip_src = ip_src;
  f.ip_dst = ip_dst;
  f.icmp_type = type;
  return f;
}

Frame udp_from_guest() {
  Frame f;
  f.kind = FrameKind::kIpv4Other;
  f.ethertype = 0x0800;
  f.src = kGuest;
  f.ip_proto = 17;
  f.ip_src = kGuestIp;
  f.ip_dst = kPeerIp;
  return f;
}

TEST(AnalysisTest, HealthyRun) {
  AnalysisInput in = base_input();
  in.probes = probes(-20, 1020);  // some outside the window on both sides
  Metrics m = analyze(in);
  EXPECT_EQ(m.probes, 201);  // 0, 5, ..., 1000: both ends inclusive
  EXPECT_EQ(m.loss, 0);
  EXPECT_DOUBLE_EQ(m.interval_ms, 5.0);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 5.0);
  EXPECT_DOUBLE_EQ(m.downtime_ms, 0.0);
  EXPECT_FALSE(m.recovered);  // no migration: nothing to recover from
  EXPECT_EQ(m.recovery_cause, "none");
  EXPECT_FALSE(m.recovery_ms.has_value());
  EXPECT_FALSE(m.stale_forwarding_ms.has_value());
  EXPECT_TRUE(m.announces.empty());
}

TEST(AnalysisTest, OutageInTheMiddle) {
  AnalysisInput in = base_input();
  // Probes sent in [400, 600) lost: replies at 395.2 then 600.2.
  in.probes = probes(0, 1000, [](int64_t t) { return t >= 400 && t < 600; });
  in.resume = at_ms(550);
  Metrics m = analyze(in);
  EXPECT_EQ(m.probes, 201);
  EXPECT_EQ(m.loss, 40);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 205.0);
  EXPECT_DOUBLE_EQ(m.downtime_ms, 200.0);
  EXPECT_TRUE(m.recovered);
  ASSERT_TRUE(m.recovery_ms.has_value());
  EXPECT_NEAR(*m.recovery_ms, 50.2, 1e-9);  // 600.2 - 550
  EXPECT_EQ(m.recovery_cause, "unknown");  // no packets at all
  ASSERT_TRUE(m.stale_forwarding_ms.has_value());
  EXPECT_DOUBLE_EQ(*m.stale_forwarding_ms, 0.0);
}

TEST(AnalysisTest, LeadInBeforeFirstReplyCountsAsAGap) {
  AnalysisInput in = base_input();
  in.probes = probes(0, 1000, [](int64_t t) { return t < 100; });  // unreachable at first
  Metrics m = analyze(in);
  EXPECT_EQ(m.loss, 20);
  EXPECT_NEAR(m.max_gap_ms, 100.2, 1e-9);  // window start -> first reply at 100.2
  EXPECT_NEAR(m.downtime_ms, 95.2, 1e-9);
}

TEST(AnalysisTest, UnrecoveredTailCountsToWindowEnd) {
  AnalysisInput in = base_input();
  in.probes = probes(0, 1000, [](int64_t t) { return t >= 500; });
  in.resume = at_ms(500);
  // A RARP at the destination does not make it recovered.
  in.packets = {packet(at_ms(501), "dst.fabric", rarp_from(kGuest, kGuest))};
  Metrics m = analyze(in);
  EXPECT_EQ(m.probes, 201);
  EXPECT_EQ(m.loss, 101);
  EXPECT_NEAR(m.max_gap_ms, 504.8, 1e-9);  // 1000 - 495.2
  EXPECT_NEAR(m.downtime_ms, 499.8, 1e-9);
  EXPECT_FALSE(m.recovered);
  EXPECT_FALSE(m.recovery_ms.has_value());
  EXPECT_EQ(m.recovery_cause, "none");
}

TEST(AnalysisTest, TailAfterLastReplyOnlyWithLostProbes) {
  AnalysisInput in = base_input();
  // Probing stopped at 700 with every probe answered: the quiet time until
  // window_end is not an outage.
  in.probes = probes(0, 700);
  Metrics m = analyze(in);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 5.0);
  EXPECT_EQ(m.loss, 0);
}

TEST(AnalysisTest, NoRepliesAtAllIsTheWholeWindow) {
  AnalysisInput in = base_input();
  in.window_start = at_ms(100);
  in.window_end = at_ms(900);
  in.probes = probes(0, 1000, [](int64_t) { return true; });
  in.resume = at_ms(300);
  Metrics m = analyze(in);
  EXPECT_EQ(m.probes, 161);  // 100 .. 900
  EXPECT_EQ(m.loss, 161);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 800.0);
  EXPECT_DOUBLE_EQ(m.downtime_ms, 795.0);
  EXPECT_FALSE(m.recovered);
  EXPECT_EQ(m.recovery_cause, "none");
}

TEST(AnalysisTest, LossCountsOnlyTheWindow) {
  AnalysisInput in = base_input();
  in.window_start = at_ms(200);
  in.window_end = at_ms(800);
  // Lost: 100..195 (outside), 300..345 (inside, 10 probes), 850..900 (outside).
  in.probes = probes(0, 1000, [](int64_t t) {
    return (t >= 100 && t < 200) || (t >= 300 && t < 350) || (t >= 850 && t <= 900);
  });
  Metrics m = analyze(in);
  EXPECT_EQ(m.probes, 121);  // 200 .. 800
  EXPECT_EQ(m.loss, 10);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 55.0);  // 295.2 -> 350.2
  EXPECT_DOUBLE_EQ(m.downtime_ms, 50.0);
}

TEST(AnalysisTest, ReplyLaterThanTimeoutIsLoss) {
  AnalysisInput in = base_input();
  in.probes = probes(0, 1000);
  in.probes[10].replied = in.probes[10].sent + milliseconds(1001);  // sent at 50
  Metrics m = analyze(in);
  EXPECT_EQ(m.loss, 1);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 10.0);  // 45.2 -> 55.2
}

TEST(AnalysisTest, RecoveryIsFirstReplyAfterResume) {
  AnalysisInput in = base_input();
  in.probes = probes(0, 1000, [](int64_t t) { return t >= 200 && t < 400; });
  in.resume = at_ms(300);
  Metrics m = analyze(in);
  EXPECT_TRUE(m.recovered);
  ASSERT_TRUE(m.recovery_ms.has_value());
  EXPECT_NEAR(*m.recovery_ms, 100.2, 1e-9);
  EXPECT_DOUBLE_EQ(m.max_gap_ms, 205.0);
}

// A frame addressed to the guest's MAC (what a stale fabric entry forwards).
Frame to_guest(Frame f, uint16_t seq = 0) {
  f.dst = kGuest;
  f.icmp_seq = seq;
  return f;
}

TEST(AnalysisTest, StaleForwardingIsLastFrameToGuestMacOnSourceFabricNotFlooded) {
  AnalysisInput in = base_input();
  in.probes = probes(0, 1000);
  in.resume = at_ms(300);
  Frame peer_arp_check;  // the peer's unicast ARP probe for the guest
  peer_arp_check.kind = FrameKind::kArp;
  peer_arp_check.src = kPeerMac;
  peer_arp_check.arp_op = 1;
  peer_arp_check.arp_spa = kPeerIp;
  peer_arp_check.arp_tpa = kGuestIp;
  in.packets = {
      packet(at_ms(250), "src.fabric", to_guest(icmp(kPeerMac, 8, kPeerIp, kGuestIp), 1)),  // before resume
      packet(at_ms(310), "src.fabric", to_guest(icmp(kPeerMac, 8, kPeerIp, kGuestIp), 2)),
      packet(at_ms(340), "src.fabric", to_guest(icmp(kPeerMac, 8, kPeerIp, kGuestIp), 3)),
      packet(at_ms(385), "src.fabric", to_guest(peer_arp_check)),                         // counted
      packet(at_ms(390), "src.fabric", icmp(kGuest, 0, kGuestIp, kPeerIp)),               // not to the guest
      packet(at_ms(396), "src.tap", to_guest(icmp(kPeerMac, 8, kPeerIp, kGuestIp), 5)),   // other point
      // Flooded: the same frame reaches both ports (unknown unicast).
      packet(at_ms(420), "src.fabric", to_guest(icmp(kPeerMac, 8, kPeerIp, kGuestIp), 6)),
      packet(at_us(420'300), "dst.fabric", to_guest(icmp(kPeerMac, 8, kPeerIp, kGuestIp), 6)),
  };
  Metrics m = analyze(in);
  ASSERT_TRUE(m.stale_forwarding_ms.has_value());
  EXPECT_DOUBLE_EQ(*m.stale_forwarding_ms, 85.0);
}

// Recovery cause for a recovered run whose destination fabric port saw
// 'packets'; resume is at 300 ms.
std::string cause_with(std::vector<Packet> packets) {
  AnalysisInput in = base_input();
  in.probes = probes(0, 1000, [](int64_t t) { return t >= 250 && t < 350; });
  in.resume = at_ms(300);
  in.packets = std::move(packets);
  Metrics m = analyze(in);
  EXPECT_TRUE(m.recovered);
  return m.recovery_cause;
}

TEST(AnalysisTest, RecoveryCauseAnnounce) {
  EXPECT_EQ(cause_with({
                // Ignored: before resume, at another point, from another MAC.
                packet(at_ms(299), "dst.fabric", udp_from_guest()),
                packet(at_ms(300), "dst.fabric", udp_from_guest()),  // not after resume
                packet(at_us(300'100), "dst.tap", udp_from_guest()),
                packet(at_us(300'200), "dst.fabric", icmp(kPeerMac, 8, kPeerIp, kGuestIp)),
                packet(at_us(300'500), "dst.fabric", rarp_from(kGuest, kGuest)),
                packet(at_ms(301), "dst.fabric", udp_from_guest()),
            }),
            "announce");
}

TEST(AnalysisTest, RecoveryCausePeerArp) {
  EXPECT_EQ(cause_with({packet(at_ms(320), "dst.fabric", arp_from_guest(2, kPeerIp))}),
            "peer_arp");
}

TEST(AnalysisTest, RecoveryCauseArpReplyToSomeoneElseIsGuestTraffic) {
  EXPECT_EQ(cause_with({packet(at_ms(320), "dst.fabric", arp_from_guest(2, kOtherIp))}),
            "guest_traffic");
}

TEST(AnalysisTest, RecoveryCauseGuestArpRequest) {
  EXPECT_EQ(cause_with({packet(at_ms(320), "dst.fabric", arp_from_guest(1, kPeerIp))}),
            "guest_traffic");
}

TEST(AnalysisTest, RecoveryCauseGuestUdp) {
  EXPECT_EQ(cause_with({packet(at_ms(320), "dst.fabric", udp_from_guest())}), "guest_traffic");
}

TEST(AnalysisTest, RecoveryCauseEchoReplyFirstIsFabricAgeing) {
  EXPECT_EQ(cause_with({
                packet(at_ms(350), "dst.fabric", icmp(kGuest, 0, kGuestIp, kPeerIp)),
                packet(at_ms(360), "dst.fabric", rarp_from(kGuest, kGuest)),
            }),
            "fabric_ageing");
}

TEST(AnalysisTest, RecoveryCauseNothingFromGuestIsUnknown) {
  EXPECT_EQ(cause_with({packet(at_ms(320), "dst.fabric", rarp_from(kOther, kOther))}),
            "unknown");
}

TEST(AnalysisTest, RecoveryCauseUsesEarliestPacketEvenIfUnsorted) {
  EXPECT_EQ(cause_with({
                packet(at_ms(330), "dst.fabric", rarp_from(kGuest, kGuest)),
                packet(at_ms(310), "dst.fabric", arp_from_guest(2, kPeerIp)),
            }),
            "peer_arp");
}

TEST(AnalysisTest, AnnounceSightings) {
  AnalysisInput in = base_input();
  in.origin = kT0 - milliseconds(50);  // t_ms is relative to origin, not window
  in.probes = probes(0, 1000);
  in.announces_sent = {at_ms(300), at_ms(400), at_ms(600)};
  in.packets = {
      // Announce 1, sent at 300.
      packet(at_us(300'100), "dst.tap", rarp_from(kGuest, kGuest)),
      packet(at_us(300'300), "dst.tap", rarp_from(kGuest, kGuest)),  // same point again
      packet(at_us(298'100), "dst.uplink", rarp_from(kGuest, kGuest)),  // 1.9 ms early
      packet(at_us(297'900), "src.fabric", rarp_from(kGuest, kGuest)),  // 2.1 ms early
      packet(at_ms(340), "dst.fabric", rarp_from(kGuest, kGuest)),      // window is half-open
      packet(at_us(300'500), "peer", rarp_from(kOther, kOther)),        // another VM
      packet(at_ms(301), "src.tap", rarp_from(kOther, kGuest)),         // sha is the guest
      packet(at_us(300'200), "src.uplink", arp_from_guest(1, kPeerIp)), // ARP, not RARP
      // Announce 2, sent at 400.
      packet(at_us(439'999), "dst.fabric", rarp_from(kGuest, kGuest)),
      packet(at_us(400'050), "dst.tap", rarp_from(kGuest, kGuest)),
      // Announce 3 seen nowhere.
  };
  Metrics m = analyze(in);
  ASSERT_EQ(m.announces.size(), 3u);
  EXPECT_EQ(m.announces[0].seq, 1);
  EXPECT_DOUBLE_EQ(m.announces[0].t_ms, 350.0);
  EXPECT_EQ(m.announces[0].seen_at,
            (std::vector<std::string>{"dst.tap", "dst.uplink", "src.tap"}));
  EXPECT_EQ(m.announces[1].seq, 2);
  EXPECT_DOUBLE_EQ(m.announces[1].t_ms, 450.0);
  EXPECT_EQ(m.announces[1].seen_at, (std::vector<std::string>{"dst.fabric", "dst.tap"}));
  EXPECT_EQ(m.announces[2].seq, 3);
  EXPECT_DOUBLE_EQ(m.announces[2].t_ms, 650.0);
  EXPECT_TRUE(m.announces[2].seen_at.empty());
}

}  // namespace
}  // namespace lmh::capture
