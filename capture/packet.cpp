#include "capture/packet.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace lmh::capture {
namespace {

constexpr size_t kEthHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr size_t kArpBody = 28;  // Ethernet/IPv4 ARP and RARP
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kIcmpEchoHeader = 8;
constexpr size_t kUdpHeader = 8;
constexpr size_t kVxlanHeader = 8;
constexpr size_t kGeneveHeader = 8;        // base header, before the options
constexpr size_t kGeneveOptionHeader = 4;  // class, type, length of one TLV
constexpr int kMaxVlanTags = 2;

constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kEthRarp = 0x8035;
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthVlan = 0x8100;   // 802.1Q
constexpr uint16_t kEthQinQ = 0x88a8;   // 802.1ad service tag
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kVxlanFlagVni = 0x08;  // I flag: the VNI field is valid
constexpr uint8_t kGeneveVersion = 0;
constexpr uint8_t kGeneveFlagControl = 0x80;   // O flag: a control message
constexpr uint8_t kGeneveFlagCritical = 0x40;  // C flag: a critical option
constexpr uint8_t kGeneveOptionCritical = 0x80;  // in an option's type
constexpr uint16_t kEthTransparentBridging = 0x6558;  // Geneve's "Ethernet"

// Which frame the decoder is in: a tunnelled packet's inner frame is
// decoded once, never a tunnel inside the tunnel.
enum class Layer { kOuter, kInner };

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

Mac mac_at(const uint8_t* p) {
  Mac m;
  std::memcpy(m.data(), p, m.size());
  return m;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Fills the ARP/RARP fields of 'f' from 'body' ('len' bytes after the
// Ethernet header); kind stays as set by the caller unless the body is short
// or not Ethernet/IPv4.
void decode_arp(const uint8_t* body, size_t len, Frame& f) {
  if (len < kArpBody) {
    f.kind = FrameKind::kTruncated;
    return;
  }
  // Only Ethernet/IPv4 address sizes have the fixed layout read below.
  if (body[4] != 6 || body[5] != 4) {
    f.kind = FrameKind::kOther;
    return;
  }
  f.arp_op = be16(body + 6);
  f.arp_sha = mac_at(body + 8);
  f.arp_spa = be32(body + 14);
  f.arp_tpa = be32(body + 24);
}

void decode_ethernet(const uint8_t* p, size_t n, Layer layer, Frame& f);

bool is_vxlan_port(uint16_t port) { return port == kVxlanPortIana || port == kVxlanPortLinux; }

// Where a tunnel header said its inner frame starts: 'vni' and the length
// of the tunnel header (the Geneve options included).
struct TunnelHeader {
  uint32_t vni = 0;
  size_t length = 0;
};

// Outcome of reading one tunnel header.
enum class TunnelRead {
  kCarried,    // a frame follows the header
  kNotFrame,   // a header that carries no frame for us: plain UDP
  kTruncated,  // the header (options included) is cut short
};

// Reads the VXLAN header 'h' ('len' bytes): kNotFrame without the I flag
// (the VNI means nothing and receivers drop the packet); the other flag bits
// are reserved and ignored.
TunnelRead read_vxlan(const uint8_t* h, size_t len, TunnelHeader& out) {
  if (len < kVxlanHeader) return TunnelRead::kTruncated;
  if ((h[0] & kVxlanFlagVni) == 0) return TunnelRead::kNotFrame;
  out = {be32(h + 4) >> 8, kVxlanHeader};
  return TunnelRead::kCarried;
}

// Reads the Geneve header 'h' ('len' bytes), RFC 8926: kNotFrame for another
// version, a control message (O flag: endpoints must not forward its
// payload) or a payload other than Ethernet; kTruncated when the base header
// or its Opt Len words of options run past 'len'. The options are skipped
// unread, critical ones included: the capture only watches.
TunnelRead read_geneve(const uint8_t* h, size_t len, TunnelHeader& out) {
  if (len < kGeneveHeader) return TunnelRead::kTruncated;
  const uint8_t version = h[0] >> 6;
  const size_t options = size_t{h[0] & 0x3fu} * 4;
  if (version != kGeneveVersion || (h[1] & kGeneveFlagControl) != 0 || be16(h + 2) != kEthTransparentBridging)
    return TunnelRead::kNotFrame;
  if (len < kGeneveHeader + options) return TunnelRead::kTruncated;
  out = {be32(h + 4) >> 8, kGeneveHeader + options};
  return TunnelRead::kCarried;
}

// Decodes the UDP datagram 'udp' ('len' bytes) of the outer IPv4 packet
// already in 'f': a VXLAN or Geneve packet replaces 'f' by its inner frame
// with 'tunnel' set; any other datagram leaves 'f' as kIpv4Other.
// kTruncated when the destination port, or a tunnel header, is cut short.
void decode_udp(const uint8_t* udp, size_t len, Frame& f) {
  if (len < 4) {  // the destination port is unknown
    f.kind = FrameKind::kTruncated;
    return;
  }
  const uint16_t port = be16(udp + 2);
  TunnelKind kind;
  if (is_vxlan_port(port)) {
    kind = TunnelKind::kVxlan;
  } else if (port == kGenevePort) {
    kind = TunnelKind::kGeneve;
  } else {
    return;
  }
  if (len < kUdpHeader) {
    f.kind = FrameKind::kTruncated;
    return;
  }
  const uint8_t* header = udp + kUdpHeader;
  const size_t header_len = len - kUdpHeader;
  TunnelHeader h;
  const TunnelRead read = kind == TunnelKind::kVxlan ? read_vxlan(header, header_len, h)
                                                     : read_geneve(header, header_len, h);
  switch (read) {
    case TunnelRead::kCarried:
      break;
    case TunnelRead::kNotFrame:
      return;
    case TunnelRead::kTruncated:
      f.kind = FrameKind::kTruncated;
      return;
  }
  TunnelOuter outer;
  outer.src_ip = f.ip_src;
  outer.dst_ip = f.ip_dst;
  outer.vni = h.vni;
  outer.udp_dst_port = port;
  outer.outer_vlan = f.vlan;
  outer.kind = kind;
  f = Frame{};
  decode_ethernet(header + h.length, header_len - h.length, Layer::kInner, f);
  f.tunnel = outer;
}

// Fills the IPv4 (and ICMP) fields of 'f' from 'ip' ('len' bytes); on the
// outer layer a VXLAN or Geneve packet becomes its inner frame (decode_udp).
void decode_ipv4(const uint8_t* ip, size_t len, Layer layer, Frame& f) {
  if (len < kIpv4MinHeader) {
    f.kind = FrameKind::kTruncated;
    return;
  }
  size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < kIpv4MinHeader) {
    f.kind = FrameKind::kOther;
    return;
  }
  if (len < ihl) {
    f.kind = FrameKind::kTruncated;
    return;
  }
  f.ip_proto = ip[9];
  f.ip_src = be32(ip + 12);
  f.ip_dst = be32(ip + 16);
  f.kind = FrameKind::kIpv4Other;
  // A non-first fragment carries no ICMP or UDP header.
  bool first_fragment = (be16(ip + 6) & 0x1fff) == 0;
  if (!first_fragment) return;
  if (f.ip_proto == kIpProtoUdp && layer == Layer::kOuter) {
    decode_udp(ip + ihl, len - ihl, f);
    return;
  }
  if (f.ip_proto != kIpProtoIcmp) return;

  const uint8_t* icmp = ip + ihl;
  size_t icmp_len = len - ihl;
  if (icmp_len < 4) {
    f.kind = FrameKind::kTruncated;
    return;
  }
  f.icmp_type = icmp[0];
  bool echo = f.icmp_type == 0 || f.icmp_type == 8;
  if (echo) {
    if (icmp_len < kIcmpEchoHeader) {
      f.kind = FrameKind::kTruncated;
      return;
    }
    f.icmp_id = be16(icmp + 4);
    f.icmp_seq = be16(icmp + 6);
  }
  f.kind = FrameKind::kIcmp;
}

// Decodes the Ethernet frame 'p' ('n' bytes) into 'f' (a fresh Frame).
void decode_ethernet(const uint8_t* p, size_t n, Layer layer, Frame& f) {
  if (n >= 6) f.dst = mac_at(p);
  if (n >= 12) f.src = mac_at(p + 6);
  if (n < kEthHeader) {
    f.kind = FrameKind::kTruncated;
    return;
  }
  size_t off = 12;
  f.ethertype = be16(p + off);
  off += 2;
  for (int tags = 0; tags < kMaxVlanTags && (f.ethertype == kEthVlan || f.ethertype == kEthQinQ);
       ++tags) {
    if (n < off + kVlanTag) {
      f.kind = FrameKind::kTruncated;
      return;
    }
    if (tags == 0) f.vlan = be16(p + off) & 0x0fff;
    f.ethertype = be16(p + off + 2);
    off += kVlanTag;
  }

  const uint8_t* body = p + off;
  size_t len = n - off;
  switch (f.ethertype) {
    case kEthArp:
      f.kind = FrameKind::kArp;
      decode_arp(body, len, f);
      break;
    case kEthRarp:
      f.kind = FrameKind::kRarp;
      decode_arp(body, len, f);
      break;
    case kEthIpv4:
      decode_ipv4(body, len, layer, f);
      break;
    case kEthIpv6:
      f.kind = len < kIpv6Header ? FrameKind::kTruncated : FrameKind::kIpv6;
      break;
    default:
      f.kind = FrameKind::kOther;
      break;
  }
}

// Returns the ones' complement sum of 'n' bytes at 'p' folded to 16 bits,
// complemented: the IPv4 header checksum.
uint16_t ip_checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += be16(p + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Returns outer Ethernet (802.1Q-tagged when 't.outer_vlan') / IPv4 / UDP as
// build_vxlan describes them, then 'header_len' zero bytes for the caller's
// tunnel header, then 'inner'.
std::vector<uint8_t> build_tunnelled(const TunnelOuter& t, const Mac& outer_dst, const Mac& outer_src,
                                     size_t header_len, std::span<const uint8_t> inner, uint16_t udp_src_port) {
  const size_t eth = kEthHeader + (t.outer_vlan ? kVlanTag : 0);
  const size_t udp_len = kUdpHeader + header_len + inner.size();
  const size_t ip_len = kIpv4MinHeader + udp_len;
  std::vector<uint8_t> buf(eth + ip_len, 0);
  uint8_t* p = buf.data();
  std::memcpy(p, outer_dst.data(), 6);
  std::memcpy(p + 6, outer_src.data(), 6);
  if (t.outer_vlan) {
    put16(p + 12, kEthVlan);
    put16(p + 14, static_cast<uint16_t>(*t.outer_vlan & 0x0fff));
  }
  put16(p + eth - 2, kEthIpv4);
  uint8_t* ip = p + eth;
  ip[0] = 0x45;
  put16(ip + 2, static_cast<uint16_t>(ip_len));
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = kIpProtoUdp;
  put32(ip + 12, t.src_ip);
  put32(ip + 16, t.dst_ip);
  put16(ip + 10, ip_checksum(ip, kIpv4MinHeader));
  uint8_t* udp = ip + kIpv4MinHeader;
  put16(udp, udp_src_port);
  put16(udp + 2, t.udp_dst_port);
  put16(udp + 4, static_cast<uint16_t>(udp_len));
  if (!inner.empty()) std::memcpy(udp + kUdpHeader + header_len, inner.data(), inner.size());
  return buf;
}

}  // namespace

std::optional<Mac> parse_mac(const std::string& text) {
  // Exactly six two-digit hex groups separated by ':'.
  if (text.size() != 17) return std::nullopt;
  Mac mac;
  for (size_t i = 0; i < mac.size(); ++i) {
    size_t pos = i * 3;
    if (i > 0 && text[pos - 1] != ':') return std::nullopt;
    int hi = hex_value(text[pos]);
    int lo = hex_value(text[pos + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return mac;
}

std::string format_mac(const Mac& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                mac[3], mac[4], mac[5]);
  return buf;
}

std::optional<uint32_t> parse_ipv4(const std::string& text) {
  // inet_pton accepts only the strict four-part dotted-decimal form.
  in_addr addr{};
  if (::inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string format_ipv4(uint32_t host_order) {
  in_addr addr{};
  addr.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN];
  if (::inet_ntop(AF_INET, &addr, buf, sizeof buf) == nullptr) return "";
  return buf;
}

Frame decode_frame(std::span<const uint8_t> bytes) {
  Frame f;
  decode_ethernet(bytes.data(), bytes.size(), Layer::kOuter, f);
  return f;
}

std::array<uint8_t, 60> build_rarp_announce(const Mac& mac) {
  // Same bytes as QEMU's announce_self_create(); the tail stays zero padding.
  std::array<uint8_t, 60> buf{};
  uint8_t* p = buf.data();
  std::memset(p, 0xff, 6);
  std::memcpy(p + 6, mac.data(), 6);
  put16(p + 12, kEthRarp);
  put16(p + 14, 1);         // hardware type: Ethernet
  put16(p + 16, kEthIpv4);  // protocol type: IPv4
  p[18] = 6;
  p[19] = 4;
  put16(p + 20, 3);  // reverse request
  std::memcpy(p + 22, mac.data(), 6);
  std::memcpy(p + 32, mac.data(), 6);
  return buf;
}

std::vector<uint8_t> build_vxlan(const TunnelOuter& t, const Mac& outer_dst, const Mac& outer_src,
                                 std::span<const uint8_t> inner, uint16_t udp_src_port) {
  std::vector<uint8_t> buf = build_tunnelled(t, outer_dst, outer_src, kVxlanHeader, inner, udp_src_port);
  uint8_t* vxlan = buf.data() + buf.size() - inner.size() - kVxlanHeader;
  vxlan[0] = kVxlanFlagVni;
  put32(vxlan + 4, (t.vni & 0xffffff) << 8);
  return buf;
}

std::vector<uint8_t> build_geneve(const TunnelOuter& t, const Mac& outer_dst, const Mac& outer_src,
                                  std::span<const uint8_t> inner, std::span<const uint8_t> options,
                                  uint16_t udp_src_port) {
  const size_t header_len = kGeneveHeader + options.size();
  std::vector<uint8_t> buf = build_tunnelled(t, outer_dst, outer_src, header_len, inner, udp_src_port);
  uint8_t* geneve = buf.data() + buf.size() - inner.size() - header_len;
  geneve[0] = static_cast<uint8_t>(kGeneveVersion << 6 | ((options.size() / 4) & 0x3f));
  // Open vSwitch sets C when any option's type has the critical bit.
  bool critical = false;
  for (size_t off = 0; off + kGeneveOptionHeader <= options.size();
       off += kGeneveOptionHeader + size_t{options[off + 3] & 0x1fu} * 4)
    critical = critical || (options[off + 2] & kGeneveOptionCritical) != 0;
  geneve[1] = critical ? kGeneveFlagCritical : 0;
  put16(geneve + 2, kEthTransparentBridging);
  put32(geneve + 4, (t.vni & 0xffffff) << 8);
  if (!options.empty()) std::memcpy(geneve + kGeneveHeader, options.data(), options.size());
  return buf;
}

}  // namespace lmh::capture
