#include "reports/bench_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lmh::reports {
namespace {

RepeatedEntry entry(const std::string& name, std::vector<double> downtimes, std::vector<std::optional<double>> recoveries) {
  RepeatedEntry e{name, "emulated", Verdict::kPass, {}};
  for (size_t i = 0; i < downtimes.size(); ++i)
    e.runs.push_back({static_cast<int>(i) + 1, Verdict::kPass, "", downtimes[i], recoveries[i], 9000, ""});
  return e;
}

TEST(BenchJson, IsGoogleBenchmarkJsonWithEveryRunAndTheAggregates) {
  auto e = entry("ovs-vlan-live", {30, 34, 31, 90}, {20, 22, std::nullopt, 25});
  e.runs.push_back({5, Verdict::kError, "daemon died", 0, std::nullopt, 100, ""});  // measured nothing
  const auto doc = nlohmann::json::parse(bench_google_json({e}, {"2026-12-01T00:00:00Z", "h", 2, {0.5, 0.4, 0.3}}));
  EXPECT_EQ(doc["context"]["num_cpus"], 2);
  EXPECT_EQ(doc["context"]["host_name"], "h");
  std::vector<double> iterations;
  std::map<std::string, double> aggregates;
  for (const auto& b : doc["benchmarks"]) {
    EXPECT_EQ(b["time_unit"], "ms");
    EXPECT_EQ(b["real_time"], b["cpu_time"]);
    if (b["run_name"] != "ovs-vlan-live/downtime_ms") continue;
    EXPECT_EQ(b["repetitions"], 4);
    if (b["run_type"] == "iteration") iterations.push_back(b["real_time"]);
    else aggregates[b["aggregate_name"]] = b["real_time"];
  }
  EXPECT_EQ(iterations, (std::vector<double>{30, 34, 31, 90}));  // the errored run left out
  EXPECT_DOUBLE_EQ(aggregates["median"], 32.5);
  EXPECT_DOUBLE_EQ(aggregates["mean"], 46.25);
  EXPECT_DOUBLE_EQ(aggregates["min"], 30);
  EXPECT_DOUBLE_EQ(aggregates["max"], 90);
  EXPECT_DOUBLE_EQ(aggregates["p95"], 90);
  EXPECT_NEAR(aggregates["stddev"], 29.2161, 1e-3);  // sample standard deviation
  // Recovery: only the runs that recovered.
  int recovery_iterations = 0;
  for (const auto& b : doc["benchmarks"])
    recovery_iterations += b["run_name"] == "ovs-vlan-live/recovery_ms" && b["run_type"] == "iteration";
  EXPECT_EQ(recovery_iterations, 3);
}

TEST(BenchTable, ShowsMedianP95MinMaxAndSpreadPerScenario) {
  const std::string t = bench_table({entry("ovn-live", {30, 40, 35}, {10, 12, 11})});
  EXPECT_NE(t.find("SCENARIO"), std::string::npos) << t;
  EXPECT_NE(t.find("ovn-live"), std::string::npos) << t;
  // downtime: median 35, p95 40, min 30, max 40, spread 10
  EXPECT_NE(t.find("    35.0     40.0     30.0     40.0     10.0"), std::string::npos) << t;
}

TEST(Baseline, ARegressionIsAMedianAboveTheToleranceAndOnlyThat) {
  const auto before = bench_google_json({entry("a", {30, 30, 30}, {10, 10, 10}), entry("b", {50, 50, 50}, {5, 5, 5})}, {});
  // a: +10 % (within 15 %); b: +30 % regression; its recovery faster.
  const auto now = std::vector<RepeatedEntry>{entry("a", {33, 33, 33}, {10, 10, 10}), entry("b", {65, 65, 65}, {4, 4, 4}),
                                              entry("c", {1, 1, 1}, {1, 1, 1})};
  auto c = compare_to_baseline(now, before, 15);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->regressions.size(), 1u);
  EXPECT_EQ(c->regressions[0].name, "b/downtime_ms");
  EXPECT_DOUBLE_EQ(c->regressions[0].baseline_ms, 50);
  EXPECT_DOUBLE_EQ(c->regressions[0].now_ms, 65);
  EXPECT_DOUBLE_EQ(c->regressions[0].change_pct, 30);
  EXPECT_EQ(c->compared.size(), 4u);
  EXPECT_EQ(c->not_in_baseline, (std::vector<std::string>{"c/downtime_ms", "c/recovery_ms"}));
  EXPECT_TRUE(compare_to_baseline(now, before, 35)->regressions.empty());
}

TEST(Baseline, ReadsIterationsWithoutAggregatesAndOtherTimeUnits) {
  const std::string plain = R"({"benchmarks": [
      {"name": "a/downtime_ms", "run_type": "iteration", "real_time": 20000, "time_unit": "us"},
      {"name": "a/downtime_ms", "run_type": "iteration", "real_time": 40000000, "time_unit": "ns"}]})";
  auto c = compare_to_baseline({entry("a", {31, 31}, {std::nullopt, std::nullopt})}, plain, 0);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->compared.size(), 1u);
  EXPECT_DOUBLE_EQ(c->compared[0].baseline_ms, 30);  // median of 20 and 40 ms
  EXPECT_TRUE(c->regressions.size() == 1u);
  EXPECT_FALSE(compare_to_baseline({}, "[1,2]", 10).ok());
  EXPECT_FALSE(compare_to_baseline({}, "{\"context\": {}}", 10).ok());
  EXPECT_FALSE(compare_to_baseline({}, "not json", 10).ok());
}

}  // namespace
}  // namespace lmh::reports
