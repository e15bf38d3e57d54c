// The metrics of DESIGN.md "Capture and measurement", one definition used
// everywhere. Pure function of probe records, captured packets and a few
// instants from the timeline; unit-tested with synthetic input.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/packet.h"
#include "capture/prober.h"

namespace lmh::capture {

// One host's tunnel endpoint as the lab built it: a VXLAN VTEP, or an OVN
// chassis' Geneve endpoint (ovn-encap-ip).
struct TunnelEndpoint {
  std::string host;            // host name, as in AnalysisInput::src_host
  uint32_t local_ip = 0;       // the endpoint's underlay address (local_ip), host order
  std::string underlay_point;  // capture point on the host's underlay interface
};

struct AnalysisInput {
  std::vector<ProbeRecord> probes;
  Micros interval{5000};
  Millis reply_timeout{1000};
  MonoTime origin;        // t = 0 of the run (all *_ms outputs are relative to it)
  MonoTime window_start;  // measurement window
  MonoTime window_end;
  std::optional<MonoTime> resume;        // guest resumed on the destination
  std::vector<MonoTime> announces_sent;  // when the guest emitted each announce
  std::vector<Packet> packets;           // from all capture points
  Mac guest_mac{};
  uint32_t guest_ip = 0;  // host order
  uint32_t peer_ip = 0;
  std::string src_fabric_point;  // capture point names of the fabric ports
  std::string dst_fabric_point;
  // Tunnel networks (VXLAN, or Geneve under OVN): every host's tunnel
  // endpoint (empty otherwise), and the hosts the guest left and resumed
  // on, named as in 'tunnel_endpoints'.
  std::vector<TunnelEndpoint> tunnel_endpoints;
  std::string src_host;
  std::string dst_host;
};

struct AnnounceSighting {
  int seq = 0;       // 1..N in emission order
  double t_ms = 0;   // emission time relative to origin
  // Where it was seen (sorted, each once): the capture point's name for the
  // frame as it is, and "<point>→<remote>" for a VXLAN or Geneve packet
  // carrying it (whatever its VNI), '→' being U+2192 (UTF-8 E2 86 92) and
  // <remote> the host whose tunnel endpoint the outer IPv4 destination is
  // (TunnelEndpoint::host), or that address dotted when no host has it (a
  // multicast group, say). "dst.underlay→bystander": seen at dst.underlay,
  // encapsulated towards bystander's VTEP.
  std::vector<std::string> seen_at;
};

struct Metrics {
  int probes = 0;
  int loss = 0;               // probes without a reply within reply_timeout
  double interval_ms = 0;
  double max_gap_ms = 0;      // longest gap between consecutive replies in the
                              // window; the lead-in from window_start to the
                              // first reply counts, and an unrecovered tail
                              // counts to window_end
  double downtime_ms = 0;     // max_gap_ms - interval_ms (not below 0)
  std::optional<double> recovery_ms;          // resume -> first reply after it
  std::optional<double> stale_forwarding_ms;  // resume -> last frame to the
                                              // guest's MAC the fabric sent to
                                              // the source port, flooded
                                              // copies excluded (0 when none)
  // Tunnel networks (VXLAN or Geneve, whatever the VNI), per host other
  // than the source: resume -> the last frame that host sent (seen at its
  // underlay point with its VTEP as outer source) encapsulated to the
  // source host's VTEP, carrying an inner frame to the guest's MAC; 0 when
  // none. Empty without tunnel endpoints, without resume, or when the
  // source host has no endpoint.
  // Flooded copies do not count: a copy is flooded when the same sender sent
  // the same inner frame (same inner source MAC, kind, IP source, ICMP id
  // and seq, ARP op and sender address) within 1 ms either side to the
  // destination host's VTEP too; head-end replication of an unknown unicast
  // sends every VTEP of the flood list a copy at once, and the guest got
  // one. The destination host itself never tunnels to its own VTEP: for it,
  // a copy to any VTEP but the source's is the witness. A unicast that only
  // the source VTEP got (a stale entry, or a flood list still without the
  // destination) is stale. Inner broadcast and multicast never match the
  // guest's (unicast) MAC.
  std::map<std::string, double> stale_forwarding_by_host_ms;
  bool recovered = false;     // a reply arrived after resume
  // The longest pause between two consecutive probes the prober sent in the
  // window. About one interval on an idle machine; far more when its thread
  // waited to be scheduled (a loaded machine), which slows the lab's own
  // daemons the same way.
  double max_send_gap_ms = 0;
  // The stretches without a reply longer than three intervals (ms since
  // the run's origin, from-to), and the measurement window: what the
  // report's probe strip draws.
  std::vector<std::pair<double, double>> reply_gaps_ms;
  std::pair<double, double> window_ms{0, 0};
  // What re-taught the fabric: "announce", "guest_traffic", "peer_arp"
  // (the peer re-resolved the guest by broadcast ARP), "tunnel_fdb" (a
  // tunnel network: a probe reached the guest through the peer host's
  // tunnel forwarding, rewritten by l2population), "fabric_ageing" (a
  // probe reached the guest by flooding), "unknown" (recovered, but nothing
  // from the guest was captured at the destination port), or "none" when
  // not recovered.
  std::string recovery_cause = "none";
  std::vector<AnnounceSighting> announces;
};

Metrics analyze(const AnalysisInput& in);

// What one capture point (the guest's tap on its final host) saw from
// 'after' on: requests addressed to the guest (ICMP echo requests to its
// IP, ARP requests for its IP) and frames the guest itself sent (source MAC
// the guest's; QEMU's RARP announces do not count: QEMU sends them, not the
// guest). A guest that receives requests and sends nothing is not
// answering: the network delivered, the guest did not reply.
struct TapActivity {
  int requests_to_guest = 0;
  int frames_from_guest = 0;
  std::optional<double> first_request_ms;  // relative to in.origin
  std::optional<double> last_from_guest_ms;
};
TapActivity tap_activity(const AnalysisInput& in, const std::string& point, MonoTime after);

}  // namespace lmh::capture
