// Statistics and tables of repeated runs (lmh flake).
#include "reports/repeated_runs.h"

#include <gtest/gtest.h>

namespace lmh::reports {
namespace {

TEST(Summarize, NoValuesIsNothing) { EXPECT_FALSE(summarize({}).has_value()); }

TEST(Summarize, OddCountMedianIsTheMiddleValueWhateverTheOrder) {
  auto s = summarize({50, 10, 30});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 3);
  EXPECT_DOUBLE_EQ(s->min, 10);
  EXPECT_DOUBLE_EQ(s->median, 30);
  EXPECT_DOUBLE_EQ(s->max, 50);
}

TEST(Summarize, EvenCountMedianIsTheMeanOfTheMiddleTwo) {
  EXPECT_DOUBLE_EQ(summarize({4, 1, 3, 2})->median, 2.5);
}

TEST(Summarize, P95IsTheNearestRank) {
  std::vector<double> thirty;
  for (int i = 1; i <= 30; ++i) thirty.push_back(i);
  // ceil(0.95 * 30) = 29: the 29th smallest, not the largest.
  EXPECT_DOUBLE_EQ(summarize(thirty)->p95, 29);
  std::vector<double> ten;
  for (int i = 1; i <= 10; ++i) ten.push_back(i * 10);
  EXPECT_DOUBLE_EQ(summarize(ten)->p95, 100);  // ceil(9.5) = 10
  EXPECT_DOUBLE_EQ(summarize({7})->p95, 7);
}

RepeatedEntry entry(Verdict expected, std::vector<Verdict> verdicts) {
  RepeatedEntry e{"cold", "emulated", expected, {}};
  int round = 0;
  for (Verdict v : verdicts)
    e.runs.push_back({++round, v, v == Verdict::kPass ? "" : "why " + std::to_string(round), 100.0 * round,
                      v == Verdict::kError ? std::nullopt : std::optional<double>(10.0 * round), 9000, ""});
  return e;
}

TEST(RepeatedEntry, ErrorsAreCountedApartFromUnexpectedVerdicts) {
  auto e = entry(Verdict::kFail, {Verdict::kFail, Verdict::kPass, Verdict::kError, Verdict::kFail});
  EXPECT_EQ(e.count(Verdict::kFail), 2);
  EXPECT_EQ(e.count(Verdict::kPass), 1);
  EXPECT_EQ(e.count(Verdict::kError), 1);
  EXPECT_EQ(e.unexpected(), 1);  // the pass; the error is not a verdict
}

TEST(RepeatedTable, FiguresLeaveOutErroredRunsAndEachSurpriseIsListedWithItsReason) {
  auto e = entry(Verdict::kFail, {Verdict::kFail, Verdict::kPass, Verdict::kError});
  e.runs[1].evidence = "result.json scenario 1, 2-*";
  std::string t = repeated_table({e});
  // Downtimes 100 and 200 (the errored run's 300 is no measurement).
  EXPECT_NE(t.find("100.0/150.0/200.0/200.0"), std::string::npos) << t;
  EXPECT_NE(t.find("cold run 2: pass (no reason given); evidence result.json scenario 1, 2-*"), std::string::npos) << t;
  EXPECT_NE(t.find("cold run 3: error (why 3)"), std::string::npos) << t;
  EXPECT_EQ(t.find("cold run 1:"), std::string::npos) << t;  // as expected: not listed
  EXPECT_NE(t.find("1 entries, 3 runs: 1 unexpected verdicts (0 on an overloaded machine), 1 errors"),
            std::string::npos) << t;
}

TEST(RepeatedTable, UnexpectedVerdictsOnAnOverloadedMachineAreCountedApart) {
  auto e = entry(Verdict::kPass, {Verdict::kFail, Verdict::kFail, Verdict::kPass, Verdict::kError});
  e.runs[0].overloaded = true;
  e.runs[2].overloaded = true;  // as expected: counted in LOADED only
  e.runs[3].overloaded = true;  // an error: not an unexpected verdict
  EXPECT_EQ(e.overloaded(), 3);
  std::string t = repeated_table({e});
  EXPECT_NE(t.find("2 unexpected verdicts (1 on an overloaded machine), 1 errors"), std::string::npos) << t;
}

TEST(RepeatedTable, RunsThatNeverRecoveredAreCounted) {
  auto e = entry(Verdict::kFail, {Verdict::kFail, Verdict::kFail});
  e.runs[0].recovery_ms.reset();
  std::string t = repeated_table({e});
  EXPECT_NE(t.find("20.0/20.0/20.0/20.0 +1 none"), std::string::npos) << t;
}

TEST(RepeatedJson, ReadsBackWhatItWrote) {
  auto a = entry(Verdict::kFail, {Verdict::kFail, Verdict::kPass, Verdict::kError});
  a.runs[1].evidence = "result.json scenario 1, 2-*";
  a.runs[1].overloaded = true;
  auto b = entry(Verdict::kPass, {Verdict::kPass});
  b.name = "warm";
  b.tier = "libvirt";
  std::string text = repeated_json("r1", {a, b});
  auto back = repeated_from_json(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].name, "cold");
  EXPECT_EQ((*back)[0].expected, Verdict::kFail);
  ASSERT_EQ((*back)[0].runs.size(), 3u);
  EXPECT_EQ((*back)[0].runs[1].verdict, Verdict::kPass);
  EXPECT_EQ((*back)[0].runs[1].evidence, "result.json scenario 1, 2-*");
  EXPECT_TRUE((*back)[0].runs[1].overloaded);
  EXPECT_FALSE((*back)[0].runs[0].overloaded);
  EXPECT_DOUBLE_EQ((*back)[0].runs[1].downtime_ms, 200);
  EXPECT_FALSE((*back)[0].runs[2].recovery_ms.has_value());
  EXPECT_EQ((*back)[1].tier, "libvirt");
  EXPECT_EQ(repeated_json("r1", *back), text);
}

TEST(RepeatedJson, ATruncatedFileNamesWhatIsWrong) {
  auto r = repeated_from_json(R"({"run_id": "x", "entries": [{"name": "a", "tier": "emulated"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected"), std::string::npos) << r.status().message();
  EXPECT_FALSE(repeated_from_json("{").ok());
}

}  // namespace
}  // namespace lmh::reports
