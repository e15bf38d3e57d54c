#include "harness/run/known_breaks.h"

#include <gtest/gtest.h>

namespace lmh::harness {
namespace {

TEST(KnownBreaks, ParsesFaultAndInvariantPerLineWithComments) {
  auto k = parse_known_breaks(
      "# nova leaves the migration queued when the cast is lost\n"
      "rpc.cast.live_migration=drop migration_terminal   # LP#0000\n"
      "\n"
      "agent.lb.scan=* vif_wired\n",
      "x.expect");
  ASSERT_TRUE(k.ok()) << k.status().message();
  ASSERT_EQ(k->size(), 2u);
  EXPECT_EQ((*k)[0].point, "rpc.cast.live_migration");
  EXPECT_EQ((*k)[0].action, "drop");
  EXPECT_EQ((*k)[0].invariant, "migration_terminal");
  EXPECT_EQ((*k)[0].source, "x.expect:2");
  EXPECT_EQ((*k)[1].action, "*");
  EXPECT_EQ((*k)[1].source, "x.expect:4");
}

TEST(KnownBreaks, BadLinesNameFileLineAndWhatIsWrong) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"ok\n", "x.expect:1: expected 'POINT=ACTION INVARIANT'"},
      {"a=b c d\n", "x.expect:1: expected 'POINT=ACTION INVARIANT'"},
      {"\nrpc.cast.live_migration migration_terminal\n", "x.expect:2: 'rpc.cast.live_migration': expected POINT=ACTION"},
      {"agent.lb.scna=* vif_wired\n", "x.expect:1: unknown fault point 'agent.lb.scna' (did you mean 'agent.lb.scan'?)"},
      {"rpc.cast.live_migration=duplicate one_host\n", "x.expect:1: "},
      {"rpc.cast.live_migration=drop migration_terminus\n", "x.expect:1: unknown invariant 'migration_terminus'"},
  };
  for (const auto& c : cases) {
    auto k = parse_known_breaks(c.text, "x.expect");
    ASSERT_FALSE(k.ok()) << c.text;
    EXPECT_EQ(k.status().message().rfind(c.want, 0), 0u) << k.status().message();
  }
  EXPECT_FALSE(load_known_breaks("/nonexistent/x.expect").ok());
}

TEST(KnownBreaks, GateFailsOnANewBreakAndOnAListedOneThatNoLongerBreaks) {
  auto known = parse_known_breaks(
      "rpc.cast.live_migration=drop migration_terminal\n"
      "agent.lb.scan=* vif_wired\n"
      "l2pop.fdb_add=drop one_host\n",  // not run in this matrix: neither stale nor used
      "k");
  ASSERT_TRUE(known.ok());
  std::vector<FaultRunInvariants> runs = {
      {"rpc.cast.live_migration", "drop", {{"one_host", true}, {"migration_terminal", false}}},
      {"agent.lb.scan", "delay:500", {{"vif_wired", false}}},
      {"agent.lb.scan", "drop", {{"vif_wired", false}}},
  };
  BreakGate g = gate_breaks(*known, runs);
  EXPECT_TRUE(g.passed());
  EXPECT_EQ(g.expected.size(), 3u);
  EXPECT_TRUE(g.unexpected.empty());
  EXPECT_TRUE(g.stale.empty());

  // A break nobody listed.
  runs.push_back({"neutron.binding.activate", "fail", {{"binding_host", false}}});
  g = gate_breaks(*known, runs);
  EXPECT_FALSE(g.passed());
  EXPECT_EQ(g.unexpected, std::vector<std::string>{"neutron.binding.activate=fail: binding_host"});

  // The listed break is fixed: the list must say so.
  runs.pop_back();
  runs[0].invariants[1].second = true;
  g = gate_breaks(*known, runs);
  EXPECT_FALSE(g.passed());
  ASSERT_EQ(g.stale.size(), 1u);
  EXPECT_EQ(g.stale[0].rfind("k:1: rpc.cast.live_migration=drop migration_terminal", 0), 0u) << g.stale[0];

  // A wildcard stays true while any of its actions still breaks.
  runs[0].invariants[1].second = false;
  runs[1].invariants[0].second = true;
  EXPECT_TRUE(gate_breaks(*known, runs).passed());
}

// The shipped list parses (a typo in it would fail the matrix with exit 2).
TEST(KnownBreaks, TheShippedListOfTheWarmDestinationParses) {
  auto k = load_known_breaks(std::string(LMH_SOURCE_DIR) + "/scenarios/lb-vlan-warm-destination.expect");
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->size(), 11u);
}

}  // namespace
}  // namespace lmh::harness
