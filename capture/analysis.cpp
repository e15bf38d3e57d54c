#include "capture/analysis.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace lmh::capture {
namespace {

using std::chrono::milliseconds;

// How far an announce sighting may be from its emission: capture stamps
// can precede the recorded emission slightly, and the frame crosses a few
// hops; announces are at least 50 ms apart so windows never overlap.
constexpr auto kAnnounceBefore = milliseconds(2);
constexpr auto kAnnounceAfter = milliseconds(40);

double to_ms(MonoTime::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Returns the reply time of 'r' when it counts as a reply: within
// 'timeout' of sending (the prober already drops later ones; this keeps the
// definition in one place for hand-made records too).
std::optional<MonoTime> valid_reply(const ProbeRecord& r, Millis timeout) {
  if (!r.replied || *r.replied - r.sent > timeout) return std::nullopt;
  return r.replied;
}

// The send times of the probes sent in the window, sorted.
std::vector<MonoTime> window_sends(const AnalysisInput& in) {
  std::vector<MonoTime> sends;
  for (const ProbeRecord& r : in.probes)
    if (r.sent >= in.window_start && r.sent <= in.window_end) sends.push_back(r.sent);
  std::sort(sends.begin(), sends.end());
  return sends;
}

// Returns the longest gap between consecutive replies of the probes sent in
// the window, plus the tail to 'window_end' when probes after the last reply
// went unanswered (an outage that never ended). The lead-in from
// 'window_start' to the first reply is not a gap.
// A gap counts only from when the prober had a probe on its way: when its
// thread was not scheduled for a while (a loaded machine), no probe was
// sent and no reply could come, which says nothing about the network. So a
// gap after reply A starts at the later of A and one interval before the
// next probe sent after A. A reply that is late while probes went out on
// time (a paused guest whose queue is answered after it resumes) still
// counts in full.
// 'sends' are the window's send times, sorted (window_sends).
// Every stretch of the window without a reply: between consecutive replies
// (from one interval before the next probe sent after the earlier reply, so
// a pause of the prober itself is not the guest's), the lead-in from the
// window's start to the first reply (a guest that did not answer from the
// start was not reachable, whatever the reason), and an unrecovered tail to
// the window's end.
std::vector<std::pair<MonoTime, MonoTime>> reply_gaps(const AnalysisInput& in, const std::vector<MonoTime>& sends) {
  std::vector<MonoTime> replies;
  std::vector<MonoTime> unanswered;
  for (const ProbeRecord& r : in.probes) {
    if (r.sent < in.window_start || r.sent > in.window_end) continue;
    if (auto t = valid_reply(r, in.reply_timeout)) {
      replies.push_back(*t);
    } else {
      unanswered.push_back(r.sent);
    }
  }
  if (replies.empty()) return {{in.window_start, std::max(in.window_end, in.window_start)}};

  std::sort(replies.begin(), replies.end());
  std::vector<std::pair<MonoTime, MonoTime>> gaps;
  gaps.emplace_back(std::min(in.window_start, replies.front()), replies.front());
  for (size_t i = 1; i < replies.size(); ++i) {
    MonoTime from = replies[i - 1];
    if (auto next = std::upper_bound(sends.begin(), sends.end(), from); next != sends.end())
      from = std::max(from, *next - std::chrono::duration_cast<MonoTime::duration>(in.interval));
    gaps.emplace_back(std::min(from, replies[i]), replies[i]);
  }
  MonoTime last = replies.back();
  bool lost_tail = std::any_of(unanswered.begin(), unanswered.end(),
                               [&](MonoTime sent) { return sent > last; });
  if (lost_tail) gaps.emplace_back(last, std::max(in.window_end, last));
  return gaps;
}

// Returns the first packet (by time) at 'point' after 'after' that satisfies
// 'pred', or nullptr.
template <typename Pred>
const Packet* first_after(const std::vector<Packet>& packets, const std::string& point,
                          MonoTime after, Pred pred) {
  const Packet* best = nullptr;
  for (const Packet& p : packets) {
    if (p.point != point || p.t <= after || !pred(p.frame)) continue;
    if (best == nullptr || p.t < best->t) best = &p;
  }
  return best;
}

// Names what made the destination fabric port learn the guest: the first
// frame from the guest's MAC seen there after 'resume'.
std::string recovery_cause(const AnalysisInput& in, MonoTime resume) {
  const Packet* first = first_after(in.packets, in.dst_fabric_point, resume,
                                    [&](const Frame& f) { return f.src == in.guest_mac; });
  // Replies came back, yet nothing from the guest was seen at the
  // destination's fabric port: the capture cannot say why.
  if (first == nullptr) return "unknown";
  const Frame& f = first->frame;
  switch (f.kind) {
    case FrameKind::kRarp:
      return "announce";
    case FrameKind::kArp:
      if (f.arp_op == 2 && f.arp_tpa == in.peer_ip) return "peer_arp";
      return "guest_traffic";
    case FrameKind::kIcmp:
      // An echo reply first: the request reached the guest unasked. On a
      // tunnel network the peer's host sent it through its tunnel
      // forwarding (l2population's entry for the destination, or its
      // flooding entries); on a VLAN the fabric flooded it.
      if (f.icmp_type == 0) return in.tunnel_endpoints.empty() ? "fabric_ageing" : "tunnel_fdb";
      return "guest_traffic";
    default:
      return "guest_traffic";
  }
}

bool is_guest_announce(const Frame& f, const Mac& guest) {
  return f.kind == FrameKind::kRarp && (f.src == guest || f.arp_sha == guest);
}

// Whether 'a' and 'b' are copies of one frame: the fields that tell a probe
// or an ARP check from the next one.
bool same_frame(const Frame& a, const Frame& b) {
  return a.kind == b.kind && a.icmp_id == b.icmp_id && a.icmp_seq == b.icmp_seq && a.arp_op == b.arp_op &&
         a.arp_spa == b.arp_spa && a.ip_src == b.ip_src;
}

// How far apart head-end replication sends the copies of one flooded frame.
constexpr auto kFloodCopies = milliseconds(1);

// U+2192 RIGHTWARDS ARROW in UTF-8, between a point and a tunnel's remote.
constexpr char kTowards[] = "\xE2\x86\x92";

const TunnelEndpoint* endpoint_of_host(const AnalysisInput& in, const std::string& host) {
  for (const TunnelEndpoint& e : in.tunnel_endpoints)
    if (e.host == host) return &e;
  return nullptr;
}

// Returns the name of where 'p' was seen, for AnnounceSighting::seen_at:
// its point, and for a VXLAN or Geneve packet "<point>→<remote host or
// address>".
std::string sighting(const AnalysisInput& in, const Packet& p) {
  if (!p.frame.tunnel) return p.point;
  const uint32_t remote = p.frame.tunnel->dst_ip;
  for (const TunnelEndpoint& e : in.tunnel_endpoints)
    if (e.local_ip == remote) return p.point + kTowards + e.host;
  return p.point + kTowards + format_ipv4(remote);
}

// Returns how long after 'resume' host 'sender' last tunnelled a frame to the
// guest's MAC to the source VTEP 'src' that was not a flooded copy (see
// Metrics::stale_forwarding_by_host_ms); 'dst' is the destination host's
// endpoint, nullptr when it has none.
MonoTime::duration stale_tunnel_forwarding(const AnalysisInput& in, MonoTime resume,
                                           const TunnelEndpoint& sender, const TunnelEndpoint& src,
                                           const TunnelEndpoint* dst) {
  const bool sender_is_dst = dst == &sender;
  // The witnesses of flooding: the same sender's copies to the destination
  // VTEP (from the destination itself, to any VTEP but the source's).
  auto witness_vtep = [&](uint32_t ip) {
    if (ip == src.local_ip) return false;
    return sender_is_dst || (dst != nullptr && ip == dst->local_ip);
  };
  std::vector<const Packet*> to_src;
  std::vector<const Packet*> witnesses;
  for (const Packet& p : in.packets) {
    const Frame& f = p.frame;
    if (!f.tunnel || p.point != sender.underlay_point || f.tunnel->src_ip != sender.local_ip ||
        f.dst != in.guest_mac)
      continue;
    if (f.tunnel->dst_ip == src.local_ip) {
      if (p.t > resume) to_src.push_back(&p);
    } else if (witness_vtep(f.tunnel->dst_ip)) {
      witnesses.push_back(&p);
    }
  }
  std::sort(witnesses.begin(), witnesses.end(), [](const Packet* a, const Packet* b) { return a->t < b->t; });
  auto flooded = [&](const Packet& p) {
    auto it = std::lower_bound(witnesses.begin(), witnesses.end(), p.t - kFloodCopies,
                               [](const Packet* q, MonoTime t) { return q->t < t; });
    for (; it != witnesses.end() && (*it)->t <= p.t + kFloodCopies; ++it)
      if ((*it)->frame.src == p.frame.src && same_frame((*it)->frame, p.frame)) return true;
    return false;
  };
  MonoTime::duration stale = MonoTime::duration::zero();
  for (const Packet* p : to_src)
    if (p->t - resume > stale && !flooded(*p)) stale = p->t - resume;
  return stale;
}

// Fills Metrics::stale_forwarding_by_host_ms: every host but the source,
// when the source host has a tunnel endpoint.
std::map<std::string, double> stale_forwarding_by_host(const AnalysisInput& in, MonoTime resume) {
  std::map<std::string, double> out;
  const TunnelEndpoint* src = endpoint_of_host(in, in.src_host);
  if (src == nullptr) return out;
  const TunnelEndpoint* dst = endpoint_of_host(in, in.dst_host);
  for (const TunnelEndpoint& e : in.tunnel_endpoints) {
    if (&e == src) continue;
    out[e.host] = to_ms(stale_tunnel_forwarding(in, resume, e, *src, dst));
  }
  return out;
}

}  // namespace

Metrics analyze(const AnalysisInput& in) {
  Metrics m;
  m.interval_ms = std::chrono::duration<double, std::milli>(in.interval).count();

  for (const ProbeRecord& r : in.probes) {
    if (r.sent < in.window_start || r.sent > in.window_end) continue;
    ++m.probes;
    if (!valid_reply(r, in.reply_timeout)) ++m.loss;
  }
  const std::vector<MonoTime> sends = window_sends(in);
  // The report draws the gaps worth seeing: more than three intervals.
  for (const auto& [from, to] : reply_gaps(in, sends)) {
    const double gap_ms = to_ms(to - from);
    m.max_gap_ms = std::max(m.max_gap_ms, gap_ms);
    if (gap_ms > 3 * m.interval_ms)
      m.reply_gaps_ms.emplace_back(to_ms(from - in.origin), to_ms(to - in.origin));
  }
  m.window_ms = {to_ms(in.window_start - in.origin), to_ms(in.window_end - in.origin)};
  for (size_t i = 1; i < sends.size(); ++i) m.max_send_gap_ms = std::max(m.max_send_gap_ms, to_ms(sends[i] - sends[i - 1]));
  m.downtime_ms = std::max(0.0, m.max_gap_ms - m.interval_ms);

  if (in.resume) {
    const MonoTime resume = *in.resume;
    std::optional<MonoTime> first_reply;
    for (const ProbeRecord& r : in.probes) {
      auto t = valid_reply(r, in.reply_timeout);
      if (t && *t > resume && (!first_reply || *t < *first_reply)) first_reply = t;
    }
    m.recovered = first_reply.has_value();
    if (m.recovered) m.recovery_ms = to_ms(*first_reply - resume);

    // Stale forwarding: frames addressed to the guest's MAC (probes, the
    // peer's unicast ARP checks) that the fabric still sent to the source
    // port. A copy also seen at the destination port at the same moment was
    // flooded (unknown destination), not forwarded by a stale entry.
    // Frames to the guest at the destination port, by time: each candidate
    // looks only at its +-5 ms window (binary search), not at every packet.
    std::vector<const Packet*> at_dst;
    for (const Packet& q : in.packets)
      if (q.point == in.dst_fabric_point && q.frame.dst == in.guest_mac) at_dst.push_back(&q);
    std::sort(at_dst.begin(), at_dst.end(), [](const Packet* a, const Packet* b) { return a->t < b->t; });
    auto flooded = [&](const Packet& p) {
      const MonoTime lo = p.t - std::chrono::milliseconds(5), hi = p.t + std::chrono::milliseconds(5);
      auto it = std::lower_bound(at_dst.begin(), at_dst.end(), lo,
                                 [](const Packet* q, MonoTime t) { return q->t <= t; });
      for (; it != at_dst.end() && (*it)->t < hi; ++it)
        if (same_frame((*it)->frame, p.frame)) return true;
      return false;
    };
    MonoTime::duration stale = MonoTime::duration::zero();
    for (const Packet& p : in.packets) {
      if (p.point == in.src_fabric_point && p.t > resume && p.frame.dst == in.guest_mac &&
          p.t - resume > stale && !flooded(p)) {
        stale = p.t - resume;
      }
    }
    m.stale_forwarding_ms = to_ms(stale);
    m.stale_forwarding_by_host_ms = stale_forwarding_by_host(in, resume);
    m.recovery_cause = m.recovered ? recovery_cause(in, resume) : "none";
  }

  for (size_t i = 0; i < in.announces_sent.size(); ++i) {
    const MonoTime sent = in.announces_sent[i];
    AnnounceSighting s;
    s.seq = static_cast<int>(i + 1);
    s.t_ms = ms_since(in.origin, sent);
    std::set<std::string> points;
    for (const Packet& p : in.packets) {
      if (p.t >= sent - kAnnounceBefore && p.t < sent + kAnnounceAfter &&
          is_guest_announce(p.frame, in.guest_mac)) {
        points.insert(sighting(in, p));
      }
    }
    s.seen_at.assign(points.begin(), points.end());
    m.announces.push_back(std::move(s));
  }
  return m;
}

TapActivity tap_activity(const AnalysisInput& in, const std::string& point, MonoTime after) {
  TapActivity a;
  auto ms = [&](MonoTime t) { return std::chrono::duration<double, std::milli>(t - in.origin).count(); };
  for (const auto& p : in.packets) {
    if (p.point != point || p.t < after || p.frame.tunnel) continue;
    const Frame& f = p.frame;
    if (f.src == in.guest_mac) {
      if (f.kind == FrameKind::kRarp) continue;
      ++a.frames_from_guest;
      a.last_from_guest_ms = ms(p.t);
      continue;
    }
    const bool echo_request = f.kind == FrameKind::kIcmp && f.icmp_type == 8 && f.ip_dst == in.guest_ip;
    const bool arp_request = f.kind == FrameKind::kArp && f.arp_op == 1 && f.arp_tpa == in.guest_ip;
    if (!echo_request && !arp_request) continue;
    if (!a.first_request_ms) a.first_request_ms = ms(p.t);
    ++a.requests_to_guest;
  }
  return a;
}

}  // namespace lmh::capture
