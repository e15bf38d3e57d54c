// The metrics of DESIGN.md "Capture and measurement", one definition used
// everywhere. Pure function of probe records, captured packets and a few
// instants from the timeline; unit-tested with synthetic input.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capture/packet.h"
#include "capture/prober.h"

namespace lmh::capture {

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
};

struct AnnounceSighting {
  int seq = 0;       // 1..N in emission order
  double t_ms = 0;   // emission time relative to origin
  std::vector<std::string> seen_at;  // capture points that saw it (sorted)
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
  bool recovered = false;     // a reply arrived after resume
  // What re-taught the fabric: "announce", "guest_traffic", "peer_arp"
  // (the peer re-resolved the guest by broadcast ARP), "fabric_ageing" (a
  // probe reached the guest by flooding), "unknown" (recovered, but nothing
  // from the guest was captured at the destination port), or "none" when
  // not recovered.
  std::string recovery_cause = "none";
  std::vector<AnnounceSighting> announces;
};

Metrics analyze(const AnalysisInput& in);

}  // namespace lmh::capture
