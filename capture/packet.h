// Decoded frames as the analysis needs them: Ethernet, 802.1Q, ARP/RARP,
// IPv4, ICMP, and the frame inside a VXLAN packet. Decoding never allocates
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

// The outer headers of a VXLAN packet (RFC 7348) that carried a frame across
// the underlay: outer Ethernet (maybe 802.1Q-tagged) / IPv4 / UDP / VXLAN.
struct TunnelOuter {
  uint32_t src_ip = 0;  // the sending and the receiving VTEP, host order
  uint32_t dst_ip = 0;
  uint32_t vni = 0;     // 24-bit VXLAN network identifier
  uint16_t udp_dst_port = 0;           // kVxlanPortIana or kVxlanPortLinux
  std::optional<uint16_t> outer_vlan;  // underlay 802.1Q VID when tagged

  bool operator==(const TunnelOuter&) const = default;
};

// One decoded frame. When 'tunnel' is set the frame was captured
// VXLAN-encapsulated and every other field describes the INNER frame (so an
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
  // VXLAN: the outer headers; unset for a frame captured as it is.
  std::optional<TunnelOuter> tunnel;
};

// Decodes one Ethernet frame (as captured, starting at the destination MAC).
// An IPv4 UDP packet to kVxlanPortIana or kVxlanPortLinux whose VXLAN header
// has the I flag (VNI valid) is decoded as the frame it carries, one level
// deep (VXLAN inside the inner frame stays kIpv4Other). The other VXLAN flag
// bits are reserved and ignored, as RFC 7348 tells receivers; without the I
// flag the packet is plain UDP (kIpv4Other). Headers cut short at any layer
// are kTruncated; nothing past 'bytes' is read.
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
std::vector<uint8_t> build_vxlan(const TunnelOuter& t, const Mac& outer_dst, const Mac& outer_src,
                                 std::span<const uint8_t> inner, uint16_t udp_src_port = 49152);

// One frame seen at one capture point, on the monotonic time base.
struct Packet {
  MonoTime t;
  std::string point;  // capture point name, e.g. "dst.tap"
  Frame frame;
};

}  // namespace lmh::capture
