// Scenario arguments and matrix files (expected verdicts per scenario).
#include "harness/run/matrix_file.h"

#include <gtest/gtest.h>

#include "harness/run/scenario.h"

namespace lmh::harness {
namespace {

TEST(ScenarioArg, BracketsAreOverridesAndShortKeysAreBehaviourSwitches) {
  auto a = parse_scenario_arg("x.yaml[pre_plug_vlan_uplink=true,agent.udp_dstport=4789]");
  EXPECT_EQ(a.file, "x.yaml");
  EXPECT_EQ(a.overrides,
            (std::vector<std::string>{"behaviour.pre_plug_vlan_uplink=true", "agent.udp_dstport=4789"}));
  EXPECT_EQ(parse_scenario_arg("dir/x.yaml").file, "dir/x.yaml");
  EXPECT_TRUE(parse_scenario_arg("dir/x.yaml").overrides.empty());
}

TEST(MatrixFile, EntriesWithVerdictsCommentsAndPathsRelativeToTheFile) {
  auto m = parse_matrix_text("# head\n\npass  a.yaml\nfail b.yaml[pre_plug_vlan_uplink=true]  # seed 001\n"
                             "pass /abs/c.yaml\n",
                             "m.matrix", "/s");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].scenario.file, "/s/a.yaml");
  EXPECT_EQ((*m)[0].expected, reports::Verdict::kPass);
  EXPECT_EQ((*m)[1].expected, reports::Verdict::kFail);
  EXPECT_EQ((*m)[1].scenario.overrides, std::vector<std::string>{"behaviour.pre_plug_vlan_uplink=true"});
  EXPECT_EQ((*m)[1].source, "m.matrix:4");
  EXPECT_EQ((*m)[2].scenario.file, "/abs/c.yaml");
}

TEST(MatrixFile, EachMistakeNamesFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"pass a.yaml\nmaybe b.yaml\n", "m.matrix:2: expected verdict 'maybe': use pass or fail"},
      {"error a.yaml\n", "m.matrix:1: expected verdict 'error': use pass or fail"},
      {"pass\n", "m.matrix:1: 'pass' names no scenario file"},
      {"pass a.yaml b.yaml\n", "m.matrix:1: 'b.yaml' after the scenario"},
      {"pass a.yaml[x=1, y=2]\n", "m.matrix:1: 'y=2]' after the scenario"},
      {"pass a.yaml[x=1\n", "m.matrix:1: 'a.yaml[x=1': overrides must end with ']'"},
      {"# nothing\n", "m.matrix: lists no scenario"},
  };
  for (const auto& c : cases) {
    auto m = parse_matrix_text(c.text, "m.matrix", "");
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find(c.message), std::string::npos) << m.status().message();
  }
}

TEST(MatrixFile, TheDefaultMatrixLoadsAndEveryEntryIsAValidScenario) {
  auto m = load_matrix_file(std::string(LMH_SOURCE_DIR) + "/scenarios/default.matrix");
  ASSERT_TRUE(m.ok()) << m.status().message();
  int fails = 0;
  for (const auto& e : *m) {
    auto sc = load_scenario(e.scenario.file, e.scenario.overrides);
    EXPECT_TRUE(sc.ok()) << e.source << ": " << sc.status().message();
    fails += e.expected == reports::Verdict::kFail;
  }
  // The seed outages as shipped, each with a fixed row that passes.
  EXPECT_GE(fails, 7);
  EXPECT_GT(static_cast<int>(m->size()) - fails, fails);
}

TEST(MatrixFile, AMissingFileIsNotFound) {
  EXPECT_EQ(load_matrix_file("/nonexistent/x.matrix").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(is_matrix_file("a/b.matrix"));
  EXPECT_FALSE(is_matrix_file("a/b.yaml"));
  EXPECT_FALSE(is_matrix_file(".matrix"));
}

}  // namespace
}  // namespace lmh::harness
