// Capture on links that appear mid-run (root): how long from a link's
// creation and bring-up until its capture point's pcap handle is open. The
// frames of that window are not lost (the all-links socket has them); the
// number says how long the capture relies on that socket.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

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

}  // namespace

BENCHMARK_MAIN();
