// Decoding of hand-built frames (plain, VXLAN- and Geneve-encapsulated), the
// QEMU announce bytes, the VXLAN and Geneve builders, and address parsing.
#include "capture/packet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace lmh::capture {
namespace {

const Mac kGuest = {0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01};
const Mac kPeer = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
const Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr uint32_t kGuestIp = 0xc6120002;  // 198.18.0.2
constexpr uint32_t kPeerIp = 0xc6120001;   // 198.18.0.1

// Appends big-endian fields to a frame under construction.
class Bytes {
 public:
  Bytes& u8(uint8_t v) { b_.push_back(v); return *this; }
  Bytes& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Bytes& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  Bytes& mac(const Mac& m) { b_.insert(b_.end(), m.begin(), m.end()); return *this; }
  Bytes& zeros(size_t n) { b_.insert(b_.end(), n, 0); return *this; }
  std::vector<uint8_t> get() const { return b_; }

 private:
  std::vector<uint8_t> b_;
};

// Returns an Ethernet/IPv4 ARP body with 'op' and the given addresses.
Bytes& arp_body(Bytes& b, uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
  return b.u16(1).u16(0x0800).u8(6).u8(4).u16(op).mac(sha).u32(spa).mac(tha).u32(tpa);
}

// Returns an IPv4 header (no options unless 'option_words') of protocol
// 'proto' carrying 'payload_len' bytes.
Bytes& ipv4_header(Bytes& b, uint8_t proto, uint32_t src, uint32_t dst, size_t payload_len,
                   int option_words = 0) {
  uint8_t ihl = static_cast<uint8_t>(5 + option_words);
  b.u8(static_cast<uint8_t>(0x40 | ihl)).u8(0).u16(static_cast<uint16_t>(ihl * 4 + payload_len));
  b.u16(0x1234).u16(0x4000).u8(64).u8(proto).u16(0).u32(src).u32(dst);
  for (int i = 0; i < option_words; ++i) b.u32(0x01010101);  // NOPs
  return b;
}

// Returns an echo request/reply frame, optionally with VLAN tags
// ('tags' = list of {TPID, TCI}).
std::vector<uint8_t> echo_frame(uint8_t type, uint16_t id, uint16_t seq,
                                std::initializer_list<std::pair<uint16_t, uint16_t>> tags = {},
                                int option_words = 0) {
  Bytes b;
  b.mac(kGuest).mac(kPeer);
  for (auto [tpid, tci] : tags) b.u16(tpid).u16(tci);
  b.u16(0x0800);
  ipv4_header(b, 1, kPeerIp, kGuestIp, 8 + 56, option_words);
  b.u8(type).u8(0).u16(0xbeef).u16(id).u16(seq).zeros(56);
  return b.get();
}

std::vector<uint8_t> arp_frame(uint16_t op, std::initializer_list<std::pair<uint16_t, uint16_t>> tags = {}) {
  Bytes b;
  b.mac(kBroadcast).mac(kPeer);
  for (auto [tpid, tci] : tags) b.u16(tpid).u16(tci);
  b.u16(0x0806);
  arp_body(b, op, kPeer, kPeerIp, Mac{}, kGuestIp);
  return b.get();
}

Frame decode(const std::vector<uint8_t>& bytes) { return decode_frame(bytes); }

// A copy of the first 'n' bytes, so reading past the span lands outside the
// allocation (visible under AddressSanitizer).
Frame decode_prefix(const std::vector<uint8_t>& bytes, size_t n) {
  std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
  return decode_frame(prefix);
}

TEST(MacTest, ParsesAndFormatsLowercase) {
  auto mac = parse_mac("FA:16:3e:00:0A:ff");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(*mac, (Mac{0xfa, 0x16, 0x3e, 0x00, 0x0a, 0xff}));
  EXPECT_EQ(format_mac(*mac), "fa:16:3e:00:0a:ff");
  EXPECT_EQ(format_mac(kBroadcast), "ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(parse_mac(format_mac(kGuest)), kGuest);
}

TEST(MacTest, RejectsMalformed) {
  for (const char* bad : {"", "fa:16:3e:00:00", "fa:16:3e:00:00:01:02", "fa-16-3e-00-00-01",
                          "fa:16:3e:00:00:0g", "fa:16:3e:0:000:01", "fa:16:3e:00:00:1",
                          " fa:16:3e:00:00:01", "fa:16:3e:00:00:01 ", "fa163e000001",
                          "fa:16:3e:00:00:+1", "fa::16:3e:00:00:1"}) {
    EXPECT_FALSE(parse_mac(bad).has_value()) << bad;
  }
}

TEST(Ipv4Test, ParsesIntoHostOrder) {
  EXPECT_EQ(parse_ipv4("198.18.0.1"), 0xc6120001u);
  EXPECT_EQ(parse_ipv4("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(format_ipv4(0xc6120001u), "198.18.0.1");
  EXPECT_EQ(format_ipv4(0xc613ff0au), "198.19.255.10");
}

TEST(Ipv4Test, RejectsMalformed) {
  for (const char* bad : {"", "198.18.0", "198.18.0.1.2", "256.0.0.1", "198.18.0.-1",
                          "a.b.c.d", "198.18.0.1 ", " 198.18.0.1", "198.18.0.1/24", "::1",
                          "198..0.1"}) {
    EXPECT_FALSE(parse_ipv4(bad).has_value()) << bad;
  }
}

TEST(RarpAnnounceTest, MatchesQemuBytes) {
  const std::array<uint8_t, 60> expected = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // dst: broadcast
      0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01,  // src: the guest
      0x80, 0x35,                          // ethertype RARP
      0x00, 0x01,                          // htype Ethernet
      0x08, 0x00,                          // ptype IPv4
      0x06, 0x04,                          // hlen, plen
      0x00, 0x03,                          // op: reverse request
      0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01,  // sha
      0x00, 0x00, 0x00, 0x00,              // spa
      0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01,  // tha
      0x00, 0x00, 0x00, 0x00,              // tpa
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // padding to 60
  };
  EXPECT_EQ(build_rarp_announce(kGuest), expected);
}

TEST(DecodeTest, RarpAnnounce) {
  auto bytes = build_rarp_announce(kGuest);
  Frame f = decode_frame(bytes);
  EXPECT_EQ(f.kind, FrameKind::kRarp);
  EXPECT_EQ(f.dst, kBroadcast);
  EXPECT_EQ(f.src, kGuest);
  EXPECT_EQ(f.ethertype, 0x8035);
  EXPECT_FALSE(f.vlan.has_value());
  EXPECT_EQ(f.arp_op, 3);
  EXPECT_EQ(f.arp_sha, kGuest);
  EXPECT_EQ(f.arp_spa, 0u);
  EXPECT_EQ(f.arp_tpa, 0u);
}

TEST(DecodeTest, UntaggedArpRequestAndReply) {
  Frame req = decode(arp_frame(1));
  EXPECT_EQ(req.kind, FrameKind::kArp);
  EXPECT_EQ(req.ethertype, 0x0806);
  EXPECT_FALSE(req.vlan.has_value());
  EXPECT_EQ(req.dst, kBroadcast);
  EXPECT_EQ(req.src, kPeer);
  EXPECT_EQ(req.arp_op, 1);
  EXPECT_EQ(req.arp_sha, kPeer);
  EXPECT_EQ(req.arp_spa, kPeerIp);
  EXPECT_EQ(req.arp_tpa, kGuestIp);

  Frame reply = decode(arp_frame(2));
  EXPECT_EQ(reply.kind, FrameKind::kArp);
  EXPECT_EQ(reply.arp_op, 2);
}

TEST(DecodeTest, SingleTaggedArpMasksPriorityBits) {
  // TCI 0xa064: PCP 5, DEI 0, VID 100.
  Frame f = decode(arp_frame(1, {{0x8100, 0xa064}}));
  EXPECT_EQ(f.kind, FrameKind::kArp);
  ASSERT_TRUE(f.vlan.has_value());
  EXPECT_EQ(*f.vlan, 100);
  EXPECT_EQ(f.ethertype, 0x0806);
  EXPECT_EQ(f.arp_spa, kPeerIp);
  EXPECT_EQ(f.arp_tpa, kGuestIp);
}

TEST(DecodeTest, DoubleTaggedRecordsOuterVid) {
  Frame f = decode(arp_frame(2, {{0x88a8, 200}, {0x8100, 0x1064}}));
  EXPECT_EQ(f.kind, FrameKind::kArp);
  ASSERT_TRUE(f.vlan.has_value());
  EXPECT_EQ(*f.vlan, 200);
  EXPECT_EQ(f.ethertype, 0x0806);
  EXPECT_EQ(f.arp_op, 2);
  EXPECT_EQ(f.arp_sha, kPeer);
  EXPECT_EQ(f.arp_tpa, kGuestIp);

  Frame q = decode(echo_frame(8, 7, 9, {{0x8100, 10}, {0x8100, 20}}));
  EXPECT_EQ(q.kind, FrameKind::kIcmp);
  EXPECT_EQ(*q.vlan, 10);
  EXPECT_EQ(q.icmp_id, 7);
  EXPECT_EQ(q.icmp_seq, 9);
}

TEST(DecodeTest, TaggedRarp) {
  auto announce = build_rarp_announce(kGuest);
  std::vector<uint8_t> bytes(announce.begin(), announce.begin() + 12);
  for (uint8_t b : {0x81, 0x00, 0x00, 0x2a}) bytes.push_back(b);
  bytes.insert(bytes.end(), announce.begin() + 12, announce.end());
  Frame f = decode(bytes);
  EXPECT_EQ(f.kind, FrameKind::kRarp);
  EXPECT_EQ(*f.vlan, 42);
  EXPECT_EQ(f.arp_op, 3);
  EXPECT_EQ(f.arp_sha, kGuest);
}

TEST(DecodeTest, IcmpEchoRequestAndReply) {
  Frame req = decode(echo_frame(8, 0x4c4d, 0xfffe));
  EXPECT_EQ(req.kind, FrameKind::kIcmp);
  EXPECT_EQ(req.ethertype, 0x0800);
  EXPECT_EQ(req.ip_proto, 1);
  EXPECT_EQ(req.ip_src, kPeerIp);
  EXPECT_EQ(req.ip_dst, kGuestIp);
  EXPECT_EQ(req.icmp_type, 8);
  EXPECT_EQ(req.icmp_id, 0x4c4d);
  EXPECT_EQ(req.icmp_seq, 0xfffe);

  Frame reply = decode(echo_frame(0, 1, 2));
  EXPECT_EQ(reply.kind, FrameKind::kIcmp);
  EXPECT_EQ(reply.icmp_type, 0);
  EXPECT_EQ(reply.icmp_id, 1);
  EXPECT_EQ(reply.icmp_seq, 2);
}

TEST(DecodeTest, IcmpAfterIpOptionsUsesHeaderLength) {
  Frame f = decode(echo_frame(8, 0x0102, 0x0304, {}, 2));
  EXPECT_EQ(f.kind, FrameKind::kIcmp);
  EXPECT_EQ(f.icmp_type, 8);
  EXPECT_EQ(f.icmp_id, 0x0102);
  EXPECT_EQ(f.icmp_seq, 0x0304);
}

TEST(DecodeTest, NonEchoIcmpHasNoIdOrSeq) {
  Bytes b;
  b.mac(kPeer).mac(kGuest).u16(0x0800);
  ipv4_header(b, 1, kGuestIp, kPeerIp, 8);
  b.u8(3).u8(1).u16(0).u16(0x1111).u16(0x2222);  // host unreachable
  Frame f = decode(b.get());
  EXPECT_EQ(f.kind, FrameKind::kIcmp);
  EXPECT_EQ(f.icmp_type, 3);
  EXPECT_EQ(f.icmp_id, 0);
  EXPECT_EQ(f.icmp_seq, 0);
}

TEST(DecodeTest, OtherIpv4) {
  Bytes b;
  b.mac(kPeer).mac(kGuest).u16(0x0800);
  ipv4_header(b, 17, kGuestIp, kPeerIp, 8);
  b.u16(68).u16(67).u16(8).u16(0);
  Frame f = decode(b.get());
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_EQ(f.ip_proto, 17);
  EXPECT_EQ(f.ip_src, kGuestIp);
  EXPECT_EQ(f.ip_dst, kPeerIp);
  EXPECT_EQ(f.src, kGuest);
}

TEST(DecodeTest, Ipv6AndUnknownEthertypes) {
  Bytes v6;
  v6.mac(kPeer).mac(kGuest).u16(0x86dd).u32(0x60000000).u16(0).u8(58).u8(255).zeros(32);
  EXPECT_EQ(decode(v6.get()).kind, FrameKind::kIpv6);

  Bytes lldp;
  lldp.mac(kBroadcast).mac(kGuest).u16(0x88cc).zeros(46);
  Frame f = decode(lldp.get());
  EXPECT_EQ(f.kind, FrameKind::kOther);
  EXPECT_EQ(f.ethertype, 0x88cc);
}

TEST(DecodeTest, ShortHeadersAreTruncated) {
  // The frames are exactly as long as their last decoded field needs; every
  // shorter prefix must be kTruncated and must not read past the span.
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    FrameKind full;
  };
  auto announce = build_rarp_announce(kGuest);
  std::vector<Case> cases = {
      {"arp", arp_frame(1), FrameKind::kArp},
      {"tagged arp", arp_frame(1, {{0x8100, 5}}), FrameKind::kArp},
      {"qinq arp", arp_frame(1, {{0x88a8, 5}, {0x8100, 6}}), FrameKind::kArp},
      {"rarp", std::vector<uint8_t>(announce.begin(), announce.begin() + 42), FrameKind::kRarp},
      {"echo", echo_frame(8, 1, 1), FrameKind::kIcmp},
      {"tagged echo", echo_frame(0, 1, 1, {{0x8100, 5}}), FrameKind::kIcmp},
  };
  for (Case& c : cases) {
    // Cut the echo payload: the decoder needs only the 8-byte ICMP header.
    size_t needed = c.full == FrameKind::kIcmp ? c.bytes.size() - 56 : c.bytes.size();
    c.bytes.resize(needed);
    EXPECT_EQ(decode(c.bytes).kind, c.full) << c.name;
    for (size_t n = 0; n < needed; ++n) {
      EXPECT_EQ(decode_prefix(c.bytes, n).kind, FrameKind::kTruncated) << c.name << " len " << n;
    }
  }
}

TEST(DecodeTest, EveryShortLengthIsSafe) {
  // 0..41 bytes of an untagged echo request: all below the 42 it needs.
  auto frame = echo_frame(8, 1, 1);
  for (size_t n = 0; n <= 41; ++n) {
    Frame f = decode_prefix(frame, n);
    EXPECT_EQ(f.kind, FrameKind::kTruncated) << n;
    if (n >= 12) {
      EXPECT_EQ(f.src, kPeer) << n;
    }
  }
  EXPECT_EQ(decode_prefix(frame, 42).kind, FrameKind::kIcmp);

  // A truncated IPv6 header too.
  Bytes v6;
  v6.mac(kPeer).mac(kGuest).u16(0x86dd).zeros(39);
  EXPECT_EQ(decode(v6.get()).kind, FrameKind::kTruncated);
}

TEST(DecodeTest, IpHeaderLengthBeyondCaptureIsTruncated) {
  auto frame = echo_frame(8, 1, 1, {}, 10);  // 60-byte IPv4 header
  EXPECT_EQ(decode_prefix(frame, 14 + 40).kind, FrameKind::kTruncated);
  EXPECT_EQ(decode(frame).kind, FrameKind::kIcmp);
}

TEST(DecodeTest, BadIpVersionOrHeaderLengthIsOther) {
  auto frame = echo_frame(8, 1, 1);
  frame[14] = 0x44;  // IHL 4: a 16-byte header cannot be
  EXPECT_EQ(decode(frame).kind, FrameKind::kOther);
  frame[14] = 0x65;  // version 6 under ethertype 0x0800
  EXPECT_EQ(decode(frame).kind, FrameKind::kOther);
}

TEST(DecodeTest, LaterFragmentIsNotIcmp) {
  auto frame = echo_frame(8, 1, 1);
  frame[14 + 6] = 0x00;
  frame[14 + 7] = 0x10;  // fragment offset 16 (x8 bytes)
  Frame f = decode(frame);
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_EQ(f.ip_proto, 1);
}

// --- VXLAN -------------------------------------------------------------------

const Mac kNicSrc = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};  // underlay NICs
const Mac kNicDst = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};
constexpr uint32_t kVtepSrc = 0xc6130001;  // 198.19.0.1
constexpr uint32_t kVtepDst = 0xc6130002;  // 198.19.0.2

// What a VTEP at 198.19.0.1 sends to 198.19.0.2 on VNI 1001 to port 4789:
// the peer's echo request (id 0x4c4d, seq 7) to the guest, written out byte
// by byte (checksums computed by hand) so builder and decoder are checked
// against the wire format, not against each other.
const std::vector<uint8_t> kVxlanEcho = {
    0x52, 0x54, 0x00, 0x00, 0x00, 0x02,  // outer dst: the receiving host's NIC
    0x52, 0x54, 0x00, 0x00, 0x00, 0x01,  // outer src
    0x08, 0x00,                          // IPv4
    0x45, 0x00, 0x00, 0x86,              // IHL 5, total length 134
    0x00, 0x00, 0x40, 0x00,              // id 0, DF
    0x40, 0x11, 0xae, 0x3d,              // TTL 64, UDP, header checksum
    0xc6, 0x13, 0x00, 0x01,              // 198.19.0.1
    0xc6, 0x13, 0x00, 0x02,              // 198.19.0.2
    0xd4, 0x31, 0x12, 0xb5,              // UDP 54321 -> 4789
    0x00, 0x72, 0x00, 0x00,              // length 114, no checksum
    0x08, 0x00, 0x00, 0x00,              // VXLAN: I flag, reserved
    0x00, 0x03, 0xe9, 0x00,              // VNI 1001, reserved
    0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01,  // inner dst: the guest
    0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc,  // inner src: the peer
    0x08, 0x00,                          // IPv4
    0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x9c, 0x4d,
    0xc6, 0x12, 0x00, 0x01,              // 198.18.0.1
    0xc6, 0x12, 0x00, 0x02,              // 198.18.0.2
    0x08, 0x00, 0xab, 0xab,              // echo request, checksum
    0x4c, 0x4d, 0x00, 0x07,              // id, seq
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

TunnelOuter outer(uint16_t port, std::optional<uint16_t> vlan = std::nullopt, uint32_t vni = 1001) {
  TunnelOuter t;
  t.src_ip = kVtepSrc;
  t.dst_ip = kVtepDst;
  t.vni = vni;
  t.udp_dst_port = port;
  t.outer_vlan = vlan;
  return t;
}

std::vector<uint8_t> vxlan(const TunnelOuter& t, std::span<const uint8_t> inner) {
  return build_vxlan(t, kNicDst, kNicSrc, inner);
}

TEST(VxlanTest, DecodesTheHandWrittenPacketAsItsInnerEcho) {
  Frame f = decode(kVxlanEcho);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->src_ip, kVtepSrc);
  EXPECT_EQ(f.tunnel->dst_ip, kVtepDst);
  EXPECT_EQ(f.tunnel->vni, 1001u);
  EXPECT_EQ(f.tunnel->udp_dst_port, 4789);
  EXPECT_FALSE(f.tunnel->outer_vlan.has_value());
  EXPECT_EQ(f.tunnel->kind, TunnelKind::kVxlan);
  // Everything else is the inner frame.
  EXPECT_EQ(f.kind, FrameKind::kIcmp);
  EXPECT_EQ(f.dst, kGuest);
  EXPECT_EQ(f.src, kPeer);
  EXPECT_FALSE(f.vlan.has_value());
  EXPECT_EQ(f.ethertype, 0x0800);
  EXPECT_EQ(f.ip_src, kPeerIp);
  EXPECT_EQ(f.ip_dst, kGuestIp);
  EXPECT_EQ(f.ip_proto, 1);
  EXPECT_EQ(f.icmp_type, 8);
  EXPECT_EQ(f.icmp_id, 0x4c4d);
  EXPECT_EQ(f.icmp_seq, 7);
}

TEST(VxlanTest, BuilderWritesTheWireFormat) {
  std::vector<uint8_t> inner(kVxlanEcho.begin() + 50, kVxlanEcho.end());
  EXPECT_EQ(build_vxlan(outer(kVxlanPortIana), kNicDst, kNicSrc, inner, 54321), kVxlanEcho);
}

TEST(VxlanTest, BothPortsTaggedOrNot) {
  auto echo = echo_frame(0, 3, 4);
  for (uint16_t port : {kVxlanPortIana, kVxlanPortLinux}) {
    for (std::optional<uint16_t> vlan : {std::optional<uint16_t>(), std::optional<uint16_t>(300)}) {
      TunnelOuter t = outer(port, vlan, 0xabcdef);
      Frame f = decode(vxlan(t, echo));
      ASSERT_TRUE(f.tunnel.has_value()) << port;
      EXPECT_EQ(*f.tunnel, t) << port;
      EXPECT_EQ(f.kind, FrameKind::kIcmp) << port;
      EXPECT_EQ(f.icmp_type, 0) << port;
      EXPECT_EQ(f.icmp_seq, 4) << port;
      EXPECT_FALSE(f.vlan.has_value()) << port;  // the inner frame is untagged
    }
  }
}

TEST(VxlanTest, OuterTagMasksPriorityBits) {
  auto bytes = vxlan(outer(kVxlanPortLinux, 300), echo_frame(8, 1, 1));
  bytes[14] |= 0xa0;  // PCP 5 on VID 300
  Frame f = decode(bytes);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->outer_vlan, 300);
}

TEST(VxlanTest, AnnounceAndArpInsideTaggedOuter) {
  auto announce = build_rarp_announce(kGuest);
  Frame rarp = decode(vxlan(outer(kVxlanPortLinux, 42), announce));
  EXPECT_EQ(rarp.kind, FrameKind::kRarp);
  EXPECT_EQ(rarp.dst, kBroadcast);
  EXPECT_EQ(rarp.src, kGuest);
  EXPECT_EQ(rarp.arp_op, 3);
  EXPECT_EQ(rarp.arp_sha, kGuest);
  ASSERT_TRUE(rarp.tunnel.has_value());
  EXPECT_EQ(rarp.tunnel->outer_vlan, 42);
  EXPECT_EQ(rarp.tunnel->udp_dst_port, kVxlanPortLinux);

  Frame arp = decode(vxlan(outer(kVxlanPortIana), arp_frame(2)));
  EXPECT_EQ(arp.kind, FrameKind::kArp);
  EXPECT_EQ(arp.arp_op, 2);
  EXPECT_EQ(arp.arp_spa, kPeerIp);
  EXPECT_EQ(arp.arp_tpa, kGuestIp);
  EXPECT_TRUE(arp.tunnel.has_value());
}

TEST(VxlanTest, InnerTagIsTheFramesVlan) {
  Frame f = decode(vxlan(outer(kVxlanPortIana, 7), arp_frame(1, {{0x8100, 100}})));
  EXPECT_EQ(f.kind, FrameKind::kArp);
  EXPECT_EQ(f.vlan, 100);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->outer_vlan, 7);
}

TEST(VxlanTest, OtherUdpPortsStayUdp) {
  for (uint16_t port : {uint16_t{4790}, uint16_t{53}, uint16_t{8473}}) {
    Frame f = decode(vxlan(outer(port), echo_frame(8, 1, 1)));
    EXPECT_EQ(f.kind, FrameKind::kIpv4Other) << port;
    EXPECT_FALSE(f.tunnel.has_value()) << port;
    EXPECT_EQ(f.ip_proto, 17) << port;
    EXPECT_EQ(f.ip_src, kVtepSrc) << port;
    EXPECT_EQ(f.ip_dst, kVtepDst) << port;
    EXPECT_EQ(f.dst, kNicDst) << port;
  }
}

TEST(VxlanTest, FlagsWithoutVniValidAreNotVxlan) {
  constexpr size_t kFlags = 14 + 20 + 8;
  auto bytes = kVxlanEcho;
  for (uint8_t flags : {uint8_t{0x00}, uint8_t{0x80}, uint8_t{0xf7}}) {
    bytes[kFlags] = flags;
    Frame f = decode(bytes);
    EXPECT_EQ(f.kind, FrameKind::kIpv4Other) << int{flags};
    EXPECT_FALSE(f.tunnel.has_value()) << int{flags};
    EXPECT_EQ(f.ip_dst, kVtepDst) << int{flags};
  }
  // Reserved bits (flags and the bytes around the VNI) are ignored.
  bytes[kFlags] = 0xff;
  bytes[kFlags + 1] = bytes[kFlags + 3] = bytes[kFlags + 7] = 0x5a;
  Frame f = decode(bytes);
  EXPECT_EQ(f.kind, FrameKind::kIcmp);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->vni, 1001u);
}

TEST(VxlanTest, LaterFragmentHasNoUdpHeader) {
  auto bytes = kVxlanEcho;
  bytes[14 + 7] = 0x10;  // fragment offset 16: bytes 34.. are not a UDP header
  Frame f = decode(bytes);
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_FALSE(f.tunnel.has_value());
}

TEST(VxlanTest, OuterIpOptionsUseHeaderLength) {
  Bytes b;
  b.mac(kNicDst).mac(kNicSrc).u16(0x0800);
  auto announce = build_rarp_announce(kGuest);
  ipv4_header(b, 17, kVtepSrc, kVtepDst, 16 + announce.size(), 3);
  b.u16(1234).u16(kVxlanPortLinux).u16(static_cast<uint16_t>(16 + announce.size())).u16(0);
  b.u32(0x08000000).u32(77 << 8);
  std::vector<uint8_t> bytes = b.get();
  bytes.insert(bytes.end(), announce.begin(), announce.end());
  Frame f = decode(bytes);
  EXPECT_EQ(f.kind, FrameKind::kRarp);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->vni, 77u);
}

TEST(VxlanTest, OneLevelOnly) {
  // A guest's own VXLAN packet inside the tenant network is the inner frame.
  auto guest_vxlan = vxlan(outer(kVxlanPortIana, std::nullopt, 5), echo_frame(8, 1, 1));
  TunnelOuter t = outer(kVxlanPortIana, std::nullopt, 1001);
  t.src_ip = 0x0a000001;
  Frame f = decode(vxlan(t, guest_vxlan));
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_EQ(f.ip_proto, 17);
  EXPECT_EQ(f.ip_src, kVtepSrc);  // the inner packet's addresses
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(*f.tunnel, t);
}

TEST(VxlanTest, MalformedInnerIsOtherWithTheTunnel) {
  auto bytes = kVxlanEcho;
  bytes[50 + 14] = 0x65;  // inner IP version 6 under ethertype 0x0800
  Frame f = decode(bytes);
  EXPECT_EQ(f.kind, FrameKind::kOther);
  EXPECT_TRUE(f.tunnel.has_value());
}

TEST(VxlanTest, TruncatedAtEveryLayerBoundary) {
  // Cut anywhere before the inner echo header ends, a VXLAN packet is
  // kTruncated; the tunnel is known once the whole VXLAN header is there.
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    size_t outer;  // outer Ethernet + IPv4 + UDP + VXLAN
  };
  auto echo = echo_frame(8, 1, 2);
  echo.resize(echo.size() - 56);  // the decoder needs the 8-byte ICMP header only
  auto announce = build_rarp_announce(kGuest);
  std::vector<uint8_t> rarp(announce.begin(), announce.begin() + 42);
  std::vector<Case> cases = {
      {"untagged echo 4789", vxlan(outer(kVxlanPortIana), echo), 50},
      {"tagged echo 8472", vxlan(outer(kVxlanPortLinux, 100), echo), 54},
      {"tagged rarp 4789", vxlan(outer(kVxlanPortIana, 100), rarp), 54},
      {"untagged tagged-inner echo 8472", vxlan(outer(kVxlanPortLinux), echo_frame(8, 1, 2, {{0x8100, 9}})), 50},
  };
  cases.back().bytes.resize(cases.back().bytes.size() - 56);
  for (const Case& c : cases) {
    Frame full = decode(c.bytes);
    EXPECT_NE(full.kind, FrameKind::kTruncated) << c.name;
    EXPECT_TRUE(full.tunnel.has_value()) << c.name;
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      Frame f = decode_prefix(c.bytes, n);
      EXPECT_EQ(f.kind, FrameKind::kTruncated) << c.name << " len " << n;
      EXPECT_EQ(f.tunnel.has_value(), n >= c.outer) << c.name << " len " << n;
    }
  }
  // The boundaries by name (untagged): outer Ethernet, IPv4, UDP port, UDP
  // header, VXLAN header, inner Ethernet, inner IPv4.
  const auto& untagged = cases[0].bytes;
  for (size_t n : {size_t{13}, size_t{33}, size_t{37}, size_t{41}, size_t{49}}) {
    Frame f = decode_prefix(untagged, n);
    EXPECT_EQ(f.kind, FrameKind::kTruncated) << n;
    EXPECT_FALSE(f.tunnel.has_value()) << n;
  }
  for (size_t n : {size_t{50}, size_t{63}, size_t{83}, size_t{91}}) {
    Frame f = decode_prefix(untagged, n);
    EXPECT_EQ(f.kind, FrameKind::kTruncated) << n;
    ASSERT_TRUE(f.tunnel.has_value()) << n;
    EXPECT_EQ(f.tunnel->vni, 1001u) << n;
  }
  EXPECT_EQ(decode_prefix(untagged, 92).kind, FrameKind::kIcmp);
  // Once the inner Ethernet header is there, its addresses are too.
  EXPECT_EQ(decode_prefix(untagged, 64).dst, kGuest);
  EXPECT_EQ(decode_prefix(untagged, 64).src, kPeer);
}

TEST(VxlanTest, UdpToOtherPortCutInItsHeaderIsUdp) {
  // Port known (4 bytes of UDP header): plain UDP as before; port unknown:
  // truncated, since it might have been VXLAN.
  auto bytes = vxlan(outer(53), echo_frame(8, 1, 1));
  EXPECT_EQ(decode_prefix(bytes, 14 + 20 + 4).kind, FrameKind::kIpv4Other);
  EXPECT_EQ(decode_prefix(bytes, 14 + 20 + 3).kind, FrameKind::kTruncated);
}

// --- Geneve ------------------------------------------------------------------

// What OVN's chassis at 198.19.0.1 sends to the one at 198.19.0.2 for
// logical datapath 5: the same echo request as kVxlanEcho, in Geneve with
// OVN's one option (class 0x0102, type 0x80, critical, 4 bytes: logical
// ingress port 1, egress port 2), written out byte by byte.
const std::vector<uint8_t> kGeneveEcho = {
    0x52, 0x54, 0x00, 0x00, 0x00, 0x02,  // outer dst: the receiving host's NIC
    0x52, 0x54, 0x00, 0x00, 0x00, 0x01,  // outer src
    0x08, 0x00,                          // IPv4
    0x45, 0x00, 0x00, 0x8e,              // IHL 5, total length 142
    0x00, 0x00, 0x40, 0x00,              // id 0, DF
    0x40, 0x11, 0xae, 0x35,              // TTL 64, UDP, header checksum
    0xc6, 0x13, 0x00, 0x01,              // 198.19.0.1
    0xc6, 0x13, 0x00, 0x02,              // 198.19.0.2
    0xd4, 0x31, 0x17, 0xc1,              // UDP 54321 -> 6081
    0x00, 0x7a, 0x00, 0x00,              // length 122, no checksum
    0x02, 0x40, 0x65, 0x58,              // Geneve: version 0, 2 option words, C; Ethernet
    0x00, 0x00, 0x05, 0x00,              // VNI 5 (OVN's datapath key), reserved
    0x01, 0x02, 0x80, 0x01,              // option: class 0x0102, type 0x80, 1 word
    0x00, 0x01, 0x00, 0x02,              // logical ingress port 1, egress port 2
    0xfa, 0x16, 0x3e, 0x00, 0x00, 0x01,  // inner dst: the guest
    0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc,  // inner src: the peer
    0x08, 0x00,                          // IPv4
    0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x9c, 0x4d,
    0xc6, 0x12, 0x00, 0x01,              // 198.18.0.1
    0xc6, 0x12, 0x00, 0x02,              // 198.18.0.2
    0x08, 0x00, 0xab, 0xab,              // echo request, checksum
    0x4c, 0x4d, 0x00, 0x07,              // id, seq
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
constexpr size_t kGeneveBase = 14 + 20 + 8;        // where the Geneve header starts, untagged
constexpr size_t kGeneveInner = kGeneveBase + 16;  // where the inner frame starts in kGeneveEcho

// OVN's option TLV: class 0x0102, type 0x80, 4 bytes of logical port keys.
const std::vector<uint8_t> kOvnOption = {0x01, 0x02, 0x80, 0x01, 0x00, 0x01, 0x00, 0x02};

TunnelOuter geneve_outer(std::optional<uint16_t> vlan = std::nullopt, uint32_t vni = 5) {
  TunnelOuter t = outer(kGenevePort, vlan, vni);
  t.kind = TunnelKind::kGeneve;
  return t;
}

std::vector<uint8_t> geneve(const TunnelOuter& t, std::span<const uint8_t> inner,
                            std::span<const uint8_t> options = kOvnOption) {
  return build_geneve(t, kNicDst, kNicSrc, inner, options);
}

TEST(GeneveTest, DecodesTheHandWrittenPacketAsItsInnerEcho) {
  Frame f = decode(kGeneveEcho);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->kind, TunnelKind::kGeneve);
  EXPECT_EQ(f.tunnel->src_ip, kVtepSrc);
  EXPECT_EQ(f.tunnel->dst_ip, kVtepDst);
  EXPECT_EQ(f.tunnel->vni, 5u);
  EXPECT_EQ(f.tunnel->udp_dst_port, 6081);
  EXPECT_FALSE(f.tunnel->outer_vlan.has_value());
  // Everything else is the inner frame, after the option.
  EXPECT_EQ(f.kind, FrameKind::kIcmp);
  EXPECT_EQ(f.dst, kGuest);
  EXPECT_EQ(f.src, kPeer);
  EXPECT_FALSE(f.vlan.has_value());
  EXPECT_EQ(f.ethertype, 0x0800);
  EXPECT_EQ(f.ip_src, kPeerIp);
  EXPECT_EQ(f.ip_dst, kGuestIp);
  EXPECT_EQ(f.icmp_type, 8);
  EXPECT_EQ(f.icmp_id, 0x4c4d);
  EXPECT_EQ(f.icmp_seq, 7);
}

TEST(GeneveTest, BuilderWritesTheWireFormat) {
  std::vector<uint8_t> inner(kGeneveEcho.begin() + kGeneveInner, kGeneveEcho.end());
  EXPECT_EQ(build_geneve(geneve_outer(), kNicDst, kNicSrc, inner, kOvnOption, 54321), kGeneveEcho);
  // Without options: Opt Len 0, no C flag, the inner frame right after.
  auto bare = build_geneve(geneve_outer(), kNicDst, kNicSrc, inner, {}, 54321);
  ASSERT_EQ(bare.size(), kGeneveEcho.size() - kOvnOption.size());
  EXPECT_EQ(bare[kGeneveBase], 0x00);
  EXPECT_EQ(bare[kGeneveBase + 1], 0x00);
  EXPECT_TRUE(std::equal(inner.begin(), inner.end(), bare.begin() + kGeneveBase + 8));
}

TEST(GeneveTest, AnnounceAndEchoWithAndWithoutOptions) {
  auto announce = build_rarp_announce(kGuest);
  auto echo = echo_frame(0, 3, 4);
  // Two options of which the second is OVN's: the inner frame follows all.
  std::vector<uint8_t> two = {0x01, 0x03, 0x01, 0x02, 1, 2, 3, 4, 5, 6, 7, 8};
  two.insert(two.end(), kOvnOption.begin(), kOvnOption.end());
  const std::vector<std::vector<uint8_t>> option_sets = {{}, kOvnOption, two};
  for (const auto& options : option_sets) {
    for (std::optional<uint16_t> vlan : {std::optional<uint16_t>(), std::optional<uint16_t>(300)}) {
      const std::string where = std::to_string(options.size()) + " option bytes, " + (vlan ? "tagged" : "untagged");
      TunnelOuter t = geneve_outer(vlan, 0xabcdef);
      Frame rarp = decode(geneve(t, announce, options));
      ASSERT_TRUE(rarp.tunnel.has_value()) << where;
      EXPECT_EQ(*rarp.tunnel, t) << where;
      EXPECT_EQ(rarp.kind, FrameKind::kRarp) << where;
      EXPECT_EQ(rarp.dst, kBroadcast) << where;
      EXPECT_EQ(rarp.src, kGuest) << where;
      EXPECT_EQ(rarp.arp_op, 3) << where;
      EXPECT_EQ(rarp.arp_sha, kGuest) << where;

      Frame f = decode(geneve(t, echo, options));
      ASSERT_TRUE(f.tunnel.has_value()) << where;
      EXPECT_EQ(*f.tunnel, t) << where;
      EXPECT_EQ(f.kind, FrameKind::kIcmp) << where;
      EXPECT_EQ(f.icmp_type, 0) << where;
      EXPECT_EQ(f.icmp_id, 3) << where;
      EXPECT_EQ(f.icmp_seq, 4) << where;
      EXPECT_EQ(f.ip_src, kPeerIp) << where;
    }
  }
  Frame arp = decode(geneve(geneve_outer(), arp_frame(2, {{0x8100, 100}})));
  EXPECT_EQ(arp.kind, FrameKind::kArp);
  EXPECT_EQ(arp.vlan, 100);
  EXPECT_EQ(arp.arp_spa, kPeerIp);
  ASSERT_TRUE(arp.tunnel.has_value());
  EXPECT_EQ(arp.tunnel->kind, TunnelKind::kGeneve);
}

TEST(GeneveTest, FlagsAndReservedBitsOtherThanControlAreIgnored) {
  auto bytes = kGeneveEcho;
  bytes[kGeneveBase + 1] = 0x3f;  // C clear, reserved bits set
  bytes[kGeneveBase + 7] = 0xa5;  // reserved byte after the VNI
  Frame f = decode(bytes);
  EXPECT_EQ(f.kind, FrameKind::kIcmp);
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(f.tunnel->vni, 5u);
}

TEST(GeneveTest, MalformedOrNotEthernetStaysUdp) {
  struct Case {
    const char* name;
    size_t offset;                // into the Geneve header
    std::vector<uint8_t> values;  // written from there on
  };
  const Case cases[] = {
      {"version 1", 0, {0x42}},
      {"version 2", 0, {0x82}},
      {"version 3", 0, {0xc2}},
      {"control message (O)", 1, {0xc0}},
      {"protocol 0x0800 (IPv4)", 2, {0x08, 0x00}},
      {"protocol 0x6559", 2, {0x65, 0x59}},
      {"protocol 0x0000", 2, {0x00, 0x00}},
  };
  for (const Case& c : cases) {
    auto bytes = kGeneveEcho;
    std::copy(c.values.begin(), c.values.end(), bytes.begin() + static_cast<long>(kGeneveBase + c.offset));
    Frame f = decode(bytes);
    EXPECT_EQ(f.kind, FrameKind::kIpv4Other) << c.name;
    EXPECT_FALSE(f.tunnel.has_value()) << c.name;
    EXPECT_EQ(f.ip_proto, 17) << c.name;
    EXPECT_EQ(f.ip_dst, kVtepDst) << c.name;
    EXPECT_EQ(f.dst, kNicDst) << c.name;
  }
}

TEST(GeneveTest, OptionsLongerThanThePacketAreTruncated) {
  // 50 bytes after the base header: OVN's option (8) and an ARP (42). An
  // Opt Len of 13 words (52 bytes) or more runs past the packet.
  auto bytes = geneve(geneve_outer(), arp_frame(1));
  ASSERT_EQ(bytes.size(), kGeneveBase + 8 + 8 + 42);
  for (uint8_t words : {uint8_t{13}, uint8_t{20}, uint8_t{63}}) {
    auto b = bytes;
    b[kGeneveBase] = words;
    Frame f = decode(b);
    EXPECT_EQ(f.kind, FrameKind::kTruncated) << int{words};
    EXPECT_FALSE(f.tunnel.has_value()) << int{words};
  }
  // Options that end within the packet leave an inner frame too short to
  // decode: the tunnel is known, the frame is cut short.
  for (uint8_t words : {uint8_t{11}, uint8_t{12}}) {  // 6 and 2 bytes of inner frame
    auto b = bytes;
    b[kGeneveBase] = words;
    Frame f = decode(b);
    EXPECT_EQ(f.kind, FrameKind::kTruncated) << int{words};
    ASSERT_TRUE(f.tunnel.has_value()) << int{words};
    EXPECT_EQ(f.tunnel->kind, TunnelKind::kGeneve) << int{words};
  }
}

TEST(GeneveTest, TruncatedAtEveryLayerBoundary) {
  auto echo = echo_frame(8, 1, 2);
  echo.resize(echo.size() - 56);  // the decoder needs the 8-byte ICMP header only
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    size_t outer;  // outer Ethernet + IPv4 + UDP + Geneve with its options
  };
  std::vector<Case> cases = {
      {"untagged echo, OVN option", geneve(geneve_outer(), echo), kGeneveBase + 16},
      {"tagged echo, OVN option", geneve(geneve_outer(100), echo), kGeneveBase + 4 + 16},
      {"untagged echo, no option", geneve(geneve_outer(), echo, {}), kGeneveBase + 8},
  };
  for (const Case& c : cases) {
    Frame full = decode(c.bytes);
    EXPECT_EQ(full.kind, FrameKind::kIcmp) << c.name;
    EXPECT_TRUE(full.tunnel.has_value()) << c.name;
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      Frame f = decode_prefix(c.bytes, n);
      EXPECT_EQ(f.kind, FrameKind::kTruncated) << c.name << " len " << n;
      EXPECT_EQ(f.tunnel.has_value(), n >= c.outer) << c.name << " len " << n;
    }
  }
}

TEST(GeneveTest, VxlanAndGeneveHeadersOnlyOnTheirOwnPorts) {
  // A VXLAN header on 6081 reads as Geneve protocol type 0: not a frame. A
  // Geneve header on 4789 has no I flag (0x08 in its first byte): not a frame.
  TunnelOuter to_geneve_port = outer(kGenevePort);
  Frame f = decode(vxlan(to_geneve_port, echo_frame(8, 1, 1)));
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_FALSE(f.tunnel.has_value());
  TunnelOuter to_vxlan_port = geneve_outer();
  to_vxlan_port.udp_dst_port = kVxlanPortIana;
  f = decode(geneve(to_vxlan_port, echo_frame(8, 1, 1)));
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_FALSE(f.tunnel.has_value());
  for (uint16_t port : {uint16_t{6080}, uint16_t{6082}}) {
    TunnelOuter t = geneve_outer();
    t.udp_dst_port = port;
    f = decode(geneve(t, echo_frame(8, 1, 1)));
    EXPECT_EQ(f.kind, FrameKind::kIpv4Other) << port;
    EXPECT_FALSE(f.tunnel.has_value()) << port;
  }
}

TEST(GeneveTest, OneLevelOnly) {
  auto guest_geneve = geneve(geneve_outer(std::nullopt, 9), echo_frame(8, 1, 1));
  TunnelOuter t = geneve_outer();
  t.src_ip = 0x0a000001;
  Frame f = decode(geneve(t, guest_geneve));
  EXPECT_EQ(f.kind, FrameKind::kIpv4Other);
  EXPECT_EQ(f.ip_proto, 17);
  EXPECT_EQ(f.ip_src, kVtepSrc);  // the inner packet's addresses
  ASSERT_TRUE(f.tunnel.has_value());
  EXPECT_EQ(*f.tunnel, t);
}

}  // namespace
}  // namespace lmh::capture
