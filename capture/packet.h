// Decoded frames as the analysis needs them: Ethernet, 802.1Q, ARP/RARP,
// IPv4, ICMP. Decoding never allocates per field; unknown payloads are kOther.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

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
};

// Decodes one Ethernet frame (as captured, starting at the destination MAC).
Frame decode_frame(std::span<const uint8_t> bytes);

// Builds the self-announce QEMU sends after migration (qemu_announce_self):
// a 60-byte broadcast RARP, ethertype 0x8035, opcode 3, sender and target
// hardware address = 'mac', protocol addresses 0.
std::array<uint8_t, 60> build_rarp_announce(const Mac& mac);

// One frame seen at one capture point, on the monotonic time base.
struct Packet {
  MonoTime t;
  std::string point;  // capture point name, e.g. "dst.tap"
  Frame frame;
};

}  // namespace lmh::capture
