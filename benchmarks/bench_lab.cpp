// Lab and scenario costs on real namespaces (root): lab set-up, boot and
// teardown, one whole scenario's wall time, and the prober's false loss on a
// healthy path (peer -> OVS fabric -> eth1.100 -> brq -> tap -> guest).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include "capture/analysis.h"
#include "capture/prober.h"
#include "harness/lab/lab.h"
#include "harness/run/runner.h"
#include "harness/run/scenario.h"
#include "harness/system/capabilities.h"

namespace {

using namespace lmh;
using namespace std::chrono_literals;

const harness::Capabilities& caps() {
  static harness::Capabilities c = harness::probe_capabilities("lmh-probe-" + std::to_string(::getpid()));
  return c;
}

std::string scenario_file(const std::string& name) { return std::string(LMH_SOURCE_DIR) + "/scenarios/" + name; }

bool skip_without_root(benchmark::State& state) {
  if (::geteuid() == 0) return false;
  state.SkipWithError("needs root");
  return true;
}

// Lab up (namespaces, OVS fabric, hosts), guests booted and ACTIVE, teardown:
// two linuxbridge hosts on a VLAN, three linuxbridge hosts on VXLAN (one
// tunnel endpoint each), three OVS hosts on VXLAN (each its own ovsdb-server,
// ovs-vswitchd, br-int, br-ex and br-tun), and the OVS/OVN pairs below.
void BM_LabSetupBootTeardown(benchmark::State& state, std::string file) {
  if (skip_without_root(state)) return;
  auto sc = harness::load_scenario(scenario_file(file));
  if (!sc.ok()) { state.SkipWithError(sc.status().to_string().c_str()); return; }
  double setup = 0, boot = 0, teardown = 0;
  for (auto _ : state) {
    auto t0 = MonoClock::now();
    auto session = harness::ScenarioSession::create(*sc, caps(), "bench" + std::to_string(state.iterations()));
    if (!session.ok()) { state.SkipWithError(session.status().to_string().c_str()); return; }
    auto t1 = MonoClock::now();
    Status s = (*session)->boot(nullptr);
    if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
    auto t2 = MonoClock::now();
    session->reset();
    auto t3 = MonoClock::now();
    setup += ms_since(t0, t1);
    boot += ms_since(t1, t2);
    teardown += ms_since(t2, t3);
  }
  double n = static_cast<double>(state.iterations());
  state.counters["lab_setup_ms"] = setup / n;
  state.counters["boot_ms"] = boot / n;
  state.counters["teardown_ms"] = teardown / n;
}
BENCHMARK_CAPTURE(BM_LabSetupBootTeardown, lb_vlan_2_hosts, std::string("lb-vlan-warm-destination.yaml"))
    ->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LabSetupBootTeardown, lb_vxlan_3_hosts, std::string("lb-vxlan-live.yaml"))
    ->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LabSetupBootTeardown, ovs_vxlan_3_hosts, std::string("ovs-vxlan-live.yaml"))
    ->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
// ML2/OVS and ML2/OVN on the same two-host VLAN topology; OVN also on Geneve
// with three chassis (central databases, ovn-northd, an ovn-controller per
// chassis, each registered in the southbound database before boot).
BENCHMARK_CAPTURE(BM_LabSetupBootTeardown, ovs_vlan_2_hosts, std::string("ovs-vlan-live.yaml"))
    ->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LabSetupBootTeardown, ovn_vlan_2_chassis, std::string("ovn-live.yaml"))
    ->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LabSetupBootTeardown, ovn_geneve_3_chassis, std::string("ovn-geneve-live.yaml"))
    ->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

// One scenario from lab up to teardown, as `lmh run` does it.
void BM_ScenarioWallTime(benchmark::State& state, std::string file, std::vector<std::string> sets) {
  if (skip_without_root(state)) return;
  auto sc = harness::load_scenario(scenario_file(file), sets);
  harness::RunOptions opt{"bnch", "/tmp/lmh-bench-results", nullptr, false, {}};
  double downtime = 0, wall = 0;
  for (auto _ : state) {
    auto r = harness::run_scenario(*sc, caps(), opt, static_cast<int>(state.iterations()));
    if (!r.ok() || r->verdict == lmh::reports::Verdict::kError) { state.SkipWithError("scenario errored"); return; }
    downtime = r->metrics.downtime_ms;
    wall = r->wall_ms;
  }
  state.counters["downtime_ms"] = downtime;
  state.counters["wall_ms"] = wall;
}
BENCHMARK_CAPTURE(BM_ScenarioWallTime, warm, std::string("lb-vlan-warm-destination.yaml"), std::vector<std::string>{})
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScenarioWallTime, cold_as_shipped, std::string("lb-vlan-cold-destination.yaml"), std::vector<std::string>{})
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScenarioWallTime, cold_fixed, std::string("lb-vlan-cold-destination.yaml"),
                  std::vector<std::string>{"behaviour.pre_plug_vlan_uplink=true"})
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// False loss: probes lost on a healthy path with nothing migrating.
// Args: interval in ms, duration in s.
void BM_ProberFalseLoss(benchmark::State& state) {
  if (skip_without_root(state)) return;
  auto sc = harness::load_scenario(scenario_file("lb-vlan-warm-destination.yaml"));
  auto session = harness::ScenarioSession::create(*sc, caps(), "benchp");
  if (!session.ok()) { state.SkipWithError(session.status().to_string().c_str()); return; }
  if (Status s = (*session)->boot(nullptr); !s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
  capture::Metrics m;
  for (auto _ : state) {
    capture::ProbeConfig pc{(*session)->lab().peer_ns().fd(), sc->guest.ip, std::chrono::milliseconds(state.range(0)), 1000ms, 0};
    auto prober = capture::Prober::start(pc);
    if (!prober.ok()) { state.SkipWithError(prober.status().to_string().c_str()); return; }
    const MonoTime start = MonoClock::now();
    // The agents keep polling meanwhile, as in a real run.
    (void)(*session)->loop().run_for(std::chrono::seconds(state.range(1)));
    const MonoTime end = MonoClock::now();
    (*prober)->stop();
    // The same metrics definition as every scenario run.
    capture::AnalysisInput in;
    in.probes = (*prober)->records();
    in.interval = pc.interval;
    in.reply_timeout = pc.reply_timeout;
    in.origin = in.window_start = start;
    in.window_end = end;
    m = capture::analyze(in);
  }
  state.counters["probes"] = m.probes;
  state.counters["lost"] = m.loss;
  state.counters["false_loss_ppm"] = m.probes ? 1e6 * m.loss / m.probes : 0;
  state.counters["max_gap_ms"] = m.max_gap_ms;
}
BENCHMARK(BM_ProberFalseLoss)->Args({1, 30})->Args({5, 30})->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
