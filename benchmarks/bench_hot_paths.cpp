// CPU cost of the per-packet and per-run hot paths (no root needed):
// frame decoding (every captured frame) and the analysis of a run.
#include <benchmark/benchmark.h>

#include "capture/analysis.h"
#include "capture/packet.h"
#include "reports/html_report.h"

namespace {

using namespace lmh;
using namespace lmh::capture;

std::vector<uint8_t> icmp_echo_tagged() {
  std::vector<uint8_t> f = {0xfa, 0x16, 0x3e, 0, 0, 1, 0xfa, 0x16, 0x3e, 0, 0, 2, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00,
                            0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 198, 18, 0, 1, 198, 18, 0, 10,
                            8, 0, 0, 0, 0x12, 0x34, 0, 1};
  f.resize(102, 0);
  return f;
}

void BM_DecodeIcmpTagged(benchmark::State& state) {
  auto f = icmp_echo_tagged();
  for (auto _ : state) benchmark::DoNotOptimize(decode_frame(f));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeIcmpTagged);

void BM_DecodeRarp(benchmark::State& state) {
  auto f = build_rarp_announce(*parse_mac("fa:16:3e:3a:7b:01"));
  for (auto _ : state) benchmark::DoNotOptimize(decode_frame(f));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRarp);

// A run of N probes at 1 ms with a 300 ms outage in the middle and one
// captured frame per probe at each of 3 points.
void BM_Analyze(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  AnalysisInput in;
  MonoTime t0 = MonoTime{} + std::chrono::hours(1);
  in.origin = in.window_start = t0;
  in.interval = std::chrono::milliseconds(1);
  in.guest_mac = *parse_mac("fa:16:3e:3a:7b:01");
  in.guest_ip = *parse_ipv4("198.18.0.10");
  in.peer_ip = *parse_ipv4("198.18.0.1");
  in.src_fabric_point = "src.fabric_port";
  in.dst_fabric_point = "dst.fabric_port";
  in.resume = t0 + std::chrono::milliseconds(n / 2);
  // Echo requests to the guest's MAC, as a stale fabric forwards them (the
  // stale-forwarding metric examines every one after resume).
  Frame echo = decode_frame(icmp_echo_tagged());
  echo.dst = in.guest_mac;
  for (int i = 0; i < n; ++i) {
    MonoTime sent = t0 + std::chrono::milliseconds(i);
    bool lost = i >= n / 2 && i < n / 2 + 300;
    in.probes.push_back({static_cast<uint32_t>(i), sent, lost ? std::nullopt : std::optional(sent + std::chrono::microseconds(150))});
    echo.icmp_seq = static_cast<uint16_t>(i);
    for (const char* p : {"peer", "src.fabric_port", "dst.fabric_port"}) in.packets.push_back({sent, p, echo});
  }
  in.window_end = t0 + std::chrono::milliseconds(n);
  for (auto _ : state) benchmark::DoNotOptimize(analyze(in));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Analyze)->Range(1 << 10, 1 << 17)->Unit(benchmark::kMillisecond);

// report.html for a default matrix's worth of runs (21 scenarios), each
// with state.range(0) timeline events, 5 announces and a few gaps: what
// every run pays at its end, and `lmh report --html`.
void BM_HtmlReport(benchmark::State& state) {
  lmh::reports::RunReport report;
  report.run_id = "bench";
  for (int s = 0; s < 21; ++s) {
    lmh::reports::ScenarioResult r;
    r.name = "scenario-" + std::to_string(s);
    r.metrics.window_ms = {1000, 9000};
    r.metrics.reply_gaps_ms = {{4000, 4030}, {6000, 6100}};
    static const char* kSources[] = {"conductor", "compute.src", "compute.dst", "neutron", "agent.lb.dst", "guest"};
    for (int i = 0; i < state.range(0); ++i)
      r.timeline.push_back({1000.0 + i * 8000.0 / static_cast<double>(state.range(0)), kSources[i % 6],
                            "event <" + std::to_string(i) + "> with some text", i == 10 ? "guest_paused" : "note", ""});
    for (int a = 1; a <= 5; ++a) r.announces.push_back({a, 4000.0 + 50 * a, {"dst.tap", "dst.uplink", "peer"}});
    report.scenarios.push_back(std::move(r));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string html = lmh::reports::to_html(report);
    bytes = html.size();
    benchmark::DoNotOptimize(html);
  }
  state.counters["html_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_HtmlReport)->Arg(80)->Arg(400)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
