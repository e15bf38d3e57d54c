// --shard's slices, and run_children against a stand-in for the lmh binary
// (a shell script that behaves as `lmh run --index K --part` does: writes
// part-K.json, or fails, or tears down on SIGINT).
#include "harness/run/run_jobs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "harness/system/files.h"
#include "reports/writers.h"

namespace lmh::harness {
namespace {

namespace fs = std::filesystem;

TEST(Shard, ParsesIOfNAndRefusesAnythingElse) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 4);
  for (const char* bad : {"0/3", "4/3", "1/0", "3", "a/b", "/2", "1/", "-1/2", "1/2/3", " 1/2"}) {
    auto b = parse_shard(bad);
    EXPECT_FALSE(b.ok()) << bad;
    if (!b.ok()) {
      EXPECT_NE(b.status().message().find(std::string("'") + bad + "'"), std::string::npos);
    }
  }
}

TEST(Shard, EveryRunIsInExactlyOneShardRoundRobin) {
  for (int n = 1; n <= 5; ++n) {
    std::map<int, int> owners;
    for (int i = 1; i <= n; ++i)
      for (int k = 1; k <= 23; ++k)
        if ((Shard{i, n}).contains(k)) owners[k] += 1;
    for (int k = 1; k <= 23; ++k) EXPECT_EQ(owners[k], 1) << k << " of " << n;
  }
  // Round-robin: shard 2/3 of a 7-run matrix is runs 2 and 5.
  std::vector<int> got;
  for (int k = 1; k <= 7; ++k)
    if ((Shard{2, 3}).contains(k)) got.push_back(k);
  EXPECT_EQ(got, (std::vector<int>{2, 5}));
}

TEST(ChildArgv, RunsTheScenarioAgainAsNumberKIntoAPartFile) {
  ChildRunOptions o;
  o.lmh_binary = "/opt/lmh";
  o.results_root = "/tmp/r";
  o.run_id = "abc";
  o.verbose = true;
  ChildRun run{7, "x", {"s.yaml", "--set", "a=b", "--fault", "p=drop"}};
  EXPECT_EQ(child_argv(o, run), (std::vector<std::string>{"/opt/lmh", "-v", "run", "s.yaml", "--set", "a=b", "--fault",
                                                           "p=drop", "--results", "/tmp/r", "--run-id", "abc",
                                                           "--index", "7", "--part"}));
}

// A fake lmh in a scratch directory: copies template-K.json to part-K.json
// after 'sleep_s', keeping count of how many run at once; run 'fail_number'
// exits 1 with a message and no part; on SIGINT it leaves torn-K.
class RunChildren : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lmh-run-jobs-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "results");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_fake(double sleep_s, int fail_number) {
    const std::string d = dir_.string();
    std::ofstream f(dir_ / "fake-lmh");
    f << "#!/bin/sh\n"
      << "while [ $# -gt 0 ]; do [ \"$1\" = --index ] && K=$2; shift; done\n"
      << "trap 'kill $P 2>/dev/null; touch " << d << "/torn-$K; exit 130' INT\n"
      << "touch " << d << "/running-$K\n"
      << "echo \"$K $(ls " << d << " | grep -c '^running-')\" >> " << d << "/concurrency\n"
      << "if [ \"$K\" = " << fail_number << " ]; then rm " << d << "/running-$K; echo \"boom in run $K\" >&2; exit 1; fi\n"
      << "sleep " << sleep_s << " & P=$!; wait $P\n"
      << "rm " << d << "/running-$K\n"
      << "cp " << d << "/template-$K.json " << d << "/results/part-$K.json\n";
    f.close();
    ::chmod((dir_ / "fake-lmh").c_str(), 0755);
    return (dir_ / "fake-lmh").string();
  }
  std::vector<ChildRun> runs(int n) {
    std::vector<ChildRun> out;
    for (int k = 1; k <= n; ++k) {
      reports::RunReport r;
      r.run_id = "t";
      reports::ScenarioResult s;
      s.name = "scenario-" + std::to_string(k);
      s.verdict = reports::Verdict::kPass;
      s.metrics.downtime_ms = 10.0 * k;
      r.scenarios.push_back(s);
      std::ofstream(dir_ / ("template-" + std::to_string(k) + ".json")) << reports::to_json_text(r);
      out.push_back({k, "run " + std::to_string(k), {"s.yaml"}});
    }
    return out;
  }
  ChildRunOptions options(const std::string& fake, int jobs) {
    ChildRunOptions o;
    o.lmh_binary = fake;
    o.results_root = dir_.string();
    o.run_id = "results";
    o.results_dir = (dir_ / "results").string();
    o.jobs = jobs;
    return o;
  }
  // How many ran when each started, in the order they started.
  std::vector<int> concurrency() {
    std::vector<int> out;
    for (const auto& [k, n] : starts()) out.push_back(n);
    return out;
  }
  std::vector<std::pair<int, int>> starts() {
    std::ifstream f(dir_ / "concurrency");
    std::vector<std::pair<int, int>> out;
    for (int k, n; f >> k >> n;) out.emplace_back(k, n);
    return out;
  }
  fs::path dir_;
};

TEST_F(RunChildren, RunsAtMostJobsAtOnceAndReturnsEachResult) {
  const auto all = runs(5);
  std::map<int, reports::ScenarioResult> got;
  Status s = run_children(all, options(write_fake(0.3, 0), 2),
                          [&](const ChildRun& run, reports::ScenarioResult r) { got[run.number] = r; });
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(got.size(), 5u);
  for (int k = 1; k <= 5; ++k) {
    EXPECT_EQ(got[k].name, "scenario-" + std::to_string(k));
    EXPECT_EQ(got[k].verdict, reports::Verdict::kPass);
    EXPECT_DOUBLE_EQ(got[k].metrics.downtime_ms, 10.0 * k);
    EXPECT_FALSE(fs::exists(part_file((dir_ / "results").string(), k))) << "part file left";
    EXPECT_FALSE(fs::exists(dir_ / "results" / (std::to_string(k) + "-lmh.log"))) << "log of a good run left";
  }
  const auto c = concurrency();
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(*std::max_element(c.begin(), c.end()), 2);  // two at once, never three
}

// A real-tier run takes the machine: nothing runs beside it.
TEST_F(RunChildren, AnExclusiveRunRunsAlone) {
  auto all = runs(4);
  all[1].exclusive = true;  // run 2
  Status s = run_children(all, options(write_fake(0.3, 0), 3), [](const ChildRun&, reports::ScenarioResult) {});
  ASSERT_TRUE(s.ok());
  const auto st = starts();
  ASSERT_EQ(st.size(), 4u);
  // 1 starts; 2 waits for it and starts alone; 3 and 4 start after 2, together.
  EXPECT_EQ(st[0], std::make_pair(1, 1));
  EXPECT_EQ(st[1], std::make_pair(2, 1));
  EXPECT_EQ(std::set<int>({st[2].first, st[3].first}), (std::set<int>{3, 4}));
  EXPECT_EQ(std::max(st[2].second, st[3].second), 2);
}

TEST_F(RunChildren, AChildWithoutAResultBecomesAnErrorWithItsLog) {
  const auto all = runs(3);
  std::map<int, reports::ScenarioResult> got;
  Status s = run_children(all, options(write_fake(0.05, 2), 3),
                          [&](const ChildRun& run, reports::ScenarioResult r) { got[run.number] = r; });
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].verdict, reports::Verdict::kPass);
  EXPECT_EQ(got[3].verdict, reports::Verdict::kPass);
  EXPECT_EQ(got[2].verdict, reports::Verdict::kError);
  EXPECT_EQ(got[2].name, "run 2");
  EXPECT_NE(got[2].verdict_reason.find("exited 1"), std::string::npos) << got[2].verdict_reason;
  EXPECT_NE(got[2].verdict_reason.find("boom in run 2"), std::string::npos) << got[2].verdict_reason;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "2-lmh.log"));  // the evidence stays
}

TEST_F(RunChildren, InterruptPassesSigintToRunningChildrenAndStartsNoMore) {
  const auto all = runs(4);
  std::atomic<bool> interrupt{false};
  auto o = options(write_fake(30, 0), 2);
  o.interrupt = &interrupt;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    interrupt = true;
  });
  std::set<int> reported;
  const auto t0 = std::chrono::steady_clock::now();
  Status s = run_children(all, o, [&](const ChildRun& run, reports::ScenarioResult r) {
    reported.insert(run.number);
    EXPECT_EQ(r.verdict, reports::Verdict::kError);
  });
  stopper.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));  // not the children's 30 s
  EXPECT_EQ(reported, (std::set<int>{1, 2}));
  EXPECT_TRUE(fs::exists(dir_ / "torn-1"));
  EXPECT_TRUE(fs::exists(dir_ / "torn-2"));
  EXPECT_EQ(concurrency().size(), 2u);  // 3 and 4 never started
}

}  // namespace
}  // namespace lmh::harness
