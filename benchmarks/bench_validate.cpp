// validate-cloud's planning: reading a cloud's files with oslo.config's
// rules and building every cell's scenario (what runs before any lab).
#include <benchmark/benchmark.h>

#include "harness/run/validate_cloud.h"

namespace {

const std::string kClouds = std::string(LMH_SOURCE_DIR) + "/tests/data/clouds/";

// The mixed kolla cloud (two classes, three network types: 10 cells).
void BM_PlanMixedCloud(benchmark::State& state) {
  lmh::harness::ValidateOptions o;
  o.release = "rocky";
  o.target_release = "yoga";
  o.controller_dir = kClouds + "seed000-mixed-rocky/controller";
  o.compute_dirs = {kClouds + "seed000-mixed-rocky/lb-1", kClouds + "seed000-mixed-rocky/ovs-1"};
  size_t cells = 0;
  for (auto _ : state) {
    auto plan = lmh::harness::plan_cloud_validation(o);
    if (!plan.ok()) state.SkipWithError(plan.status().message().c_str());
    cells = plan.ok() ? plan->cells.size() : 0;
    benchmark::DoNotOptimize(plan);
  }
  state.counters["cells"] = static_cast<double>(cells);
}
BENCHMARK(BM_PlanMixedCloud)->Unit(benchmark::kMillisecond);

// One oslo.config file of realistic size (nova.conf with 400 options).
void BM_ParseOsloIni(benchmark::State& state) {
  std::string text = "[DEFAULT]\n";
  for (int i = 0; i < 200; ++i) text += "option_" + std::to_string(i) + " = value " + std::to_string(i) + "\n";
  text += "[libvirt]\n";
  for (int i = 0; i < 200; ++i) text += "# comment\nkey" + std::to_string(i) + ": $option_" + std::to_string(i) + "\n";
  for (auto _ : state) {
    auto ini = lmh::harness::parse_oslo_ini(text, "nova.conf");
    benchmark::DoNotOptimize(ini);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseOsloIni);

}  // namespace

BENCHMARK_MAIN();
