// Decoded frames as the analysis needs them: Ethernet, 802.1Q, ARP/RARP,
// IPv4, ICMP, and the frame inside a VXLAN or Geneve packet. Decoding never allocates
// per field; unknown payloads are kOther.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/time.h"

namespace lmh::capture {

using Mac = std::array<uint8_t, 6>;

// Parses "fa:16:3e:00:00:01"; nullopt when malformed.
std::optional<Mac> parse_mac(const std::string& text);
std::string format_mac(const Mac& mac);
// Parses dotted IPv4 into host byte order; nullopt when malformed.
std::optional<uint32_t> parse_ipv4(const std::string& text);
std::string format_ipv4(uint32_t host_order);

enum class FrameKind { kArp, kRarp, kIcmp, kIpv4Other, kIpv6, kOther, kTruncated };

// VXLAN's UDP destination ports: the IANA port (Open vSwitch's default) and
// the Linux kernel's default, which neutron's linuxbridge agent keeps unless
// its udp_dstport is set.
inline constexpr uint16_t kVxlanPortIana = 4789;
inline constexpr uint16_t kVxlanPortLinux = 8472;
// Geneve's UDP destination port (RFC 8926), which OVN's chassis tunnel with.
inline constexpr uint16_t kGenevePort = 6081;

// Which encapsulation carried a frame across the underlay.
enum class TunnelKind {
  kVxlan,   // RFC 7348, UDP kVxlanPortIana or kVxlanPortLinux
  kGeneve,  // RFC 8926, UDP kGenevePort, protocol type 0x6558 (Ethernet)
};

// The outer headers of a VXLAN or Geneve packet that carried a frame across
// the underlay: outer Ethernet (maybe 802.1Q-tagged) / IPv4 / UDP / VXLAN or
// Geneve (with its options).
struct TunnelOuter {
  uint32_t src_ip = 0;  // the sending and the receiving tunnel endpoint, host order
  uint32_t dst_ip = 0;
  // 24-bit network identifier. VXLAN under neutron: the network's
  // segmentation id. Geneve under OVN: the logical datapath's tunnel key,
  // which OVN allocates and which is not the segmentation id.
  uint32_t vni = 0;
  uint16_t udp_dst_port = 0;           // kVxlanPortIana, kVxlanPortLinux or kGenevePort
  std::optional<uint16_t> outer_vlan;  // underlay 802.1Q VID when tagged
  TunnelKind kind = TunnelKind::kVxlan;

  bool operator==(const TunnelOuter&) const = default;
};

// One decoded frame. When 'tunnel' is set the frame was captured
// VXLAN- or Geneve-encapsulated and every other field describes the INNER frame (so an
// announce or a probe reads the same inside a tunnel as outside); 'tunnel'
// holds the outer headers. A kind of kTruncated with 'tunnel' set means the
// inner frame ended early.
struct Frame {
  FrameKind kind = FrameKind::kOther;
  Mac dst{};
  Mac src{};
  std::optional<uint16_t> vlan;  // 802.1Q VID when tagged
  uint16_t ethertype = 0;        // inner ethertype after any tag
  // ARP / RARP (opcode 1 request, 2 reply, 3 reverse request, 4 reverse reply)
  uint16_t arp_op = 0;
  Mac arp_sha{};
  uint32_t arp_spa = 0;  // host order
  uint32_t arp_tpa = 0;
  // IPv4
  uint32_t ip_src = 0;  // host order
  uint32_t ip_dst = 0;
  uint8_t ip_proto = 0;
  // ICMP
  uint8_t icmp_type = 0;  // 8 echo request, 0 echo reply
  uint16_t icmp_id = 0;
  uint16_t icmp_seq = 0;
  // VXLAN or Geneve: the outer headers; unset for a frame captured as it is.
  std::optional<TunnelOuter> tunnel;
};

// Decodes one Ethernet frame (as captured, starting at the destination MAC).
// An IPv4 UDP packet to kVxlanPortIana or kVxlanPortLinux whose VXLAN header
// has the I flag (VNI valid) is decoded as the frame it carries, one level
// deep (VXLAN inside the inner frame stays kIpv4Other). The other VXLAN flag
// bits are reserved and ignored, as RFC 7348 tells receivers; without the I
// flag the packet is plain UDP (kIpv4Other).
// An IPv4 UDP packet to kGenevePort is decoded the same way when its Geneve
// header has version 0, the O (control) flag clear and protocol type 0x6558
// (Transparent Ethernet Bridging); the inner frame starts after the Opt Len
// words of options, which are skipped unread (the C flag too: OVN's own
// option is marked critical). Any other version, a control message or another
// protocol type leaves the packet plain UDP (kIpv4Other).
// Headers cut short at any layer, Geneve options running past the packet
// among them, are kTruncated; nothing past 'bytes' is read.
Frame decode_frame(std::span<const uint8_t> bytes);

// Builds the self-announce QEMU sends after migration (qemu_announce_self):
// a 60-byte broadcast RARP, ethertype 0x8035, opcode 3, sender and target
// hardware address = 'mac', protocol addresses 0.
std::array<uint8_t, 60> build_rarp_announce(const Mac& mac);

// Builds the VXLAN packet a VTEP sends to carry 'inner' (an Ethernet frame
// from its destination MAC on), for tests and benchmarks: outer Ethernet
// 'outer_src' -> 'outer_dst' with an 802.1Q tag when 't.outer_vlan', IPv4
// t.src_ip -> t.dst_ip (TTL 64, DF, header checksum), UDP from
// 'udp_src_port' to t.udp_dst_port with checksum 0 (as Linux sends by
// default), VXLAN flags 0x08 and t.vni (low 24 bits).
// 't.kind' is not read: the packet is VXLAN whatever it says.
std::vector<uint8_t> build_vxlan(const TunnelOuter& t, const Mac& outer_dst, const Mac& outer_src,
                                 std::span<const uint8_t> inner, uint16_t udp_src_port = 49152);

// Builds the Geneve packet a tunnel endpoint sends to carry 'inner', with
// the same outer headers as build_vxlan, then the Geneve base header
// (version 0, Opt Len = options.size() / 4, O flag clear, C flag set when an
// option's type has its critical bit 0x80 as Open vSwitch sets it, protocol
// type 0x6558, t.vni) and 'options' (TLVs, written as given; their size
// must be a multiple of 4 and at most 252 bytes). 't.kind' is not read.
std::vector<uint8_t> build_geneve(const TunnelOuter& t, const Mac& outer_dst, const Mac& outer_src,
                                  std::span<const uint8_t> inner, std::span<const uint8_t> options = {},
                                  uint16_t udp_src_port = 49152);

// One frame seen at one capture point, on the monotonic time base.
struct Packet {
  MonoTime t;
  std::string point;  // capture point name, e.g. "dst.tap"
  Frame frame;
};

}  // namespace lmh::capture
