// The capture analysis: analyze() on an AnalysisInput drawn from the fuzz
// bytes (probe records, instants, tunnel endpoints, and packets whose frames
// go through decode_frame), checking what Metrics promises whatever the
// input. Instants lie within tens of seconds of the run's origin, as the
// capture stamps them; the arithmetic on them cannot overflow.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "capture/analysis.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace lmh;

constexpr std::array<const char*, 3> kHosts = {"src", "dst", "by"};
constexpr std::array<const char*, 6> kPoints = {"src.fabric",   "dst.fabric",  "src.underlay",
                                                "dst.underlay", "by.underlay", "dst.tap"};

// An instant from -1 s to 20 s after 'origin', in microseconds.
MonoTime instant(FuzzedDataProvider& in, MonoTime origin) {
  return origin + Micros(in.ConsumeIntegralInRange<int32_t>(-1'000'000, 20'000'000));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  capture::AnalysisInput a;
  a.origin = MonoTime{} + std::chrono::hours(24);
  a.interval = Micros(in.ConsumeIntegralInRange<uint32_t>(0, 1'000'000));
  a.reply_timeout = Millis(in.ConsumeIntegralInRange<uint32_t>(0, 5'000));
  a.window_start = instant(in, a.origin);
  a.window_end = instant(in, a.origin);
  if (in.ConsumeBool()) a.resume = instant(in, a.origin);
  for (int n = in.ConsumeIntegralInRange(0, 5); n > 0; --n) a.announces_sent.push_back(instant(in, a.origin));
  for (auto& byte : a.guest_mac) byte = in.ConsumeIntegral<uint8_t>();
  a.guest_ip = in.ConsumeIntegral<uint32_t>();
  a.peer_ip = in.ConsumeIntegral<uint32_t>();
  a.src_fabric_point = kPoints[0];
  a.dst_fabric_point = kPoints[1];
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) {
    const std::string host = in.PickValueInArray(kHosts);
    // 198.18.0.x, the lab's underlay
    a.tunnel_endpoints.push_back({host, 0xc6120000u | in.ConsumeIntegral<uint8_t>(), host + ".underlay"});
  }
  a.src_host = in.PickValueInArray(kHosts);
  a.dst_host = in.PickValueInArray(kHosts);
  for (int n = in.ConsumeIntegralInRange(0, 64), seq = 0; seq < n; ++seq) {
    capture::ProbeRecord r;
    r.seq = static_cast<uint32_t>(seq);
    r.sent = instant(in, a.origin);
    if (in.ConsumeBool()) r.replied = r.sent + Micros(in.ConsumeIntegralInRange<uint32_t>(0, 2'000'000));
    a.probes.push_back(r);
  }
  while (in.remaining_bytes() > 0) {
    capture::Packet p;
    p.t = instant(in, a.origin);
    p.point = in.PickValueInArray(kPoints);
    const std::vector<uint8_t> frame = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 128));
    p.frame = capture::decode_frame(frame);
    a.packets.push_back(std::move(p));
  }

  const capture::Metrics m = capture::analyze(a);
  fuzz::check(m.probes >= 0 && m.loss >= 0 && m.loss <= m.probes, "loss outside 0..probes");
  fuzz::check(m.max_gap_ms >= 0 && m.downtime_ms >= 0, "negative gap or downtime");
  fuzz::check(m.recovered == m.recovery_ms.has_value(), "recovered without a recovery time, or the reverse");
  fuzz::check(a.resume || (m.recovery_cause == "none" && !m.stale_forwarding_ms), "resume-only metrics without resume");
  fuzz::check(!m.stale_forwarding_ms || *m.stale_forwarding_ms >= 0, "negative stale forwarding");
  for (const auto& [host, ms] : m.stale_forwarding_by_host_ms) fuzz::check(ms >= 0, "negative stale forwarding", host);
  fuzz::check(m.announces.size() == a.announces_sent.size(), "an announce went missing from the metrics");
  return 0;
}
