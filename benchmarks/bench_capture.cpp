// Capture on links that appear mid-run (root): how long from a link's
// creation and bring-up until its capture point's pcap handle is open. The
// frames of that window are not lost (the all-links socket has them); the
// number says how long the capture relies on that socket.
// Decoding (no root): frames per second for an echo request as it is and
// inside VXLAN, and the analysis of a run on a VXLAN network.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "capture/analysis.h"
#include "capture/packet.h"
#include "capture/pcap_capture.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"

namespace {

using namespace lmh;
using namespace std::chrono_literals;

bool skip_without_root(benchmark::State& state) {
  if (::geteuid() == 0) return false;
  state.SkipWithError("needs root");
  return true;
}

// Per iteration: a capture on "cb0" started while it does not exist, then
// (timed) create the veth, bring it up, spin until the point is open.
void BM_LinkUpToCaptureOpen(benchmark::State& state) {
  if (skip_without_root(state)) return;
  // A run of its own (owner.pid), so a concurrent `lmh cleanup` keeps it.
  std::string run = "capbench" + std::to_string(::getpid() % 1000);
  std::string dir = "/run/lmh/" + run;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/owner.pid") << ::getpid() << "\n";
  struct RemoveDir { std::string d; ~RemoveDir() { std::error_code ec; std::filesystem::remove_all(d, ec); } } remove_dir{dir};
  auto ns = harness::NamedNetns::create("lmh-" + run + "-ns");
  if (!ns.ok()) { state.SkipWithError(ns.status().to_string().c_str()); return; }
  auto nl = harness::Netlink::open(ns->fd());
  if (!nl.ok()) { state.SkipWithError(nl.status().to_string().c_str()); return; }
  double worst_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto cap = capture::CaptureSession::start({{"point", ns->fd(), "cb0", ""}});
    if (!cap.ok()) { state.SkipWithError(cap.status().to_string().c_str()); return; }
    state.ResumeTiming();
    auto t0 = MonoClock::now();
    if (!(*nl)->create_veth("cb0", "cb1").ok() || !(*nl)->set_up("cb0").ok()) {
      state.SkipWithError("create or bring up the veth");
      return;
    }
    auto deadline = MonoClock::now() + 2s;
    while ((*cap)->opened_points().empty() && MonoClock::now() < deadline) std::this_thread::yield();
    if ((*cap)->opened_points().empty()) { state.SkipWithError("capture never opened"); return; }
    worst_ms = std::max(worst_ms, ms_since(t0, MonoClock::now()));
    state.PauseTiming();
    (*cap)->stop();
    (void)(*nl)->delete_link("cb0");
    state.ResumeTiming();
  }
  state.counters["worst_ms"] = worst_ms;
}
BENCHMARK(BM_LinkUpToCaptureOpen)->Iterations(50)->UseRealTime()->Unit(benchmark::kMicrosecond);

const capture::Mac kGuest = {0xfa, 0x16, 0x3e, 0x3a, 0x7b, 0x01};
const capture::Mac kPeer = {0xfa, 0x16, 0x3e, 0x3a, 0x7b, 0x02};

// The prober's echo request to the guest as the tap sees it: 98 bytes.
std::vector<uint8_t> echo_request() {
  std::vector<uint8_t> f(kGuest.begin(), kGuest.end());
  f.insert(f.end(), kPeer.begin(), kPeer.end());
  f.insert(f.end(), {0x08, 0x00, 0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 198, 18, 0, 1, 198, 18, 0, 10,
                     8, 0, 0, 0, 0x12, 0x34, 0, 1});
  f.resize(98, 0);
  return f;
}

// The outer headers between two VTEPs: untagged to 4789, or 'tagged'
// (underlay VLAN 300) to 8472.
capture::TunnelOuter outer(bool tagged) {
  capture::TunnelOuter t;
  t.src_ip = 0xc6130001;
  t.dst_ip = 0xc6130002;
  t.vni = 1001;
  t.udp_dst_port = tagged ? capture::kVxlanPortLinux : capture::kVxlanPortIana;
  if (tagged) t.outer_vlan = 300;
  return t;
}

void BM_DecodeEchoPlain(benchmark::State& state) {
  auto f = echo_request();
  for (auto _ : state) benchmark::DoNotOptimize(capture::decode_frame(f));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEchoPlain);

void BM_DecodeEchoVxlan(benchmark::State& state) {
  auto inner = echo_request();
  auto f = capture::build_vxlan(outer(state.range(0) != 0), kPeer, kGuest, inner);
  if (!capture::decode_frame(f).tunnel) {
    state.SkipWithError("not decoded as VXLAN");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(capture::decode_frame(f));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEchoVxlan)->ArgName("tagged")->Arg(0)->Arg(1);

// Plain UDP (not VXLAN): what every other UDP frame now costs for the port check.
void BM_DecodeUdpNotVxlan(benchmark::State& state) {
  auto inner = echo_request();
  capture::TunnelOuter t = outer(false);
  t.udp_dst_port = 53;
  auto f = capture::build_vxlan(t, kPeer, kGuest, inner);
  for (auto _ : state) benchmark::DoNotOptimize(capture::decode_frame(f));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeUdpNotVxlan);

// analyze() on a VXLAN run of N probes at 1 ms: each probe captured
// encapsulated at three hosts' underlay points (one of them the sender,
// keeping the source VTEP for half the run), with four tunnel endpoints.
void BM_AnalyzeVxlan(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  capture::AnalysisInput in;
  MonoTime t0 = MonoTime{} + std::chrono::hours(1);
  in.origin = in.window_start = t0;
  in.interval = std::chrono::milliseconds(1);
  in.guest_mac = kGuest;
  in.src_fabric_point = "src.fabric_port";
  in.dst_fabric_point = "dst.fabric_port";
  in.resume = t0 + std::chrono::milliseconds(n / 4);
  in.tunnel_endpoints = {{"src", 0xc6130001, "src.underlay"},
                         {"dst", 0xc6130002, "dst.underlay"},
                         {"bystander", 0xc6130003, "bystander.underlay"},
                         {"other", 0xc6130004, "other.underlay"}};
  in.src_host = "src";
  in.dst_host = "dst";
  capture::Frame echo = capture::decode_frame(echo_request());
  for (int i = 0; i < n; ++i) {
    MonoTime sent = t0 + std::chrono::milliseconds(i);
    in.probes.push_back({static_cast<uint32_t>(i), sent, sent + std::chrono::microseconds(150)});
    echo.icmp_seq = static_cast<uint16_t>(i);
    echo.tunnel = capture::TunnelOuter{0xc6130003, i < n / 2 ? 0xc6130001u : 0xc6130002u, 1001,
                                       capture::kVxlanPortIana, std::nullopt};
    for (const char* p : {"bystander.underlay", "src.underlay", "dst.underlay"}) in.packets.push_back({sent, p, echo});
  }
  in.window_end = t0 + std::chrono::milliseconds(n);
  for (auto _ : state) benchmark::DoNotOptimize(capture::analyze(in));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AnalyzeVxlan)->Range(1 << 10, 1 << 17)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
