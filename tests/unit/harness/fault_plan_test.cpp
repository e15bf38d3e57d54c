// Fault points registry, fault spec parsing and FaultPlan decisions (here,
// where harness and core are linked, the registry holds every point). Every
// plan here has a fixed seed; the probability and delay tests recompute the
// expected values from a reference mt19937_64 with the same seed, so they pin
// the documented draw contract (one draw per probability evaluation, one per
// ranged delay, none for a fixed delay) and replay exactly.
#include "faults/fault_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <thread>

namespace lmh::faults {
namespace {

using namespace std::chrono_literals;

FaultSpec parse_ok(const std::string& text) {
  auto spec = parse_fault_spec(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.status().to_string();
  return spec.ok() ? *spec : FaultSpec{};
}

std::unique_ptr<FaultPlan> make_plan(const std::vector<std::string>& texts, uint64_t seed) {
  std::vector<FaultSpec> specs;
  for (const auto& t : texts) specs.push_back(parse_ok(t));
  return std::make_unique<FaultPlan>(std::move(specs), seed);
}

// The documented draws, from a reference generator.
double draw_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
int64_t draw_delay(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

// ---- registry ---------------------------------------------------------------

TEST(FaultPoints, RegistryHasEveryRequiredPointOnceWithADescription) {
  std::vector<std::string> want = {
      "agent.lb.scan", "agent.lb.enslave_uplink", "agent.ovs.port_up",
      "neutron.notify.vif_plugged", "neutron.port_update.profile", "neutron.binding.activate",
      "compute.pre_live_migration", "compute.post_live_migration", "hypervisor.migrate",
      "hypervisor.switchover", "guest.announce", "guest.freeze", "fabric.port", "ovs.vswitchd"};
  // Only the way lmh sends each method is a point (the other is unreachable).
  for (const char* m : {"pre_live_migration", "post_live_migration_at_destination",
                        "rollback_live_migration_at_destination"})
    want.push_back(std::string("rpc.call.") + m);
  for (const char* m : {"live_migration", "prep_resize", "resize_instance", "finish_resize", "confirm_resize",
                        "revert_resize", "finish_revert_resize"})
    want.push_back(std::string("rpc.cast.") + m);
  for (const char* p : {"l2pop.fdb_add", "l2pop.fdb_remove", "ovn.northd", "ovn.controller"}) want.push_back(p);
  const auto& points = known_fault_points();
  std::set<std::string> names;
  for (const auto& p : points) {
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_EQ(p.description.find('\n'), std::string::npos) << p.name;
  }
  EXPECT_EQ(names, std::set<std::string>(want.begin(), want.end()));
  EXPECT_EQ(points.size(), 28u);
  // Stable order: the same vector every time.
  EXPECT_EQ(&known_fault_points(), &points);
}

TEST(FaultPoints, IsKnownFaultPoint) {
  EXPECT_TRUE(is_known_fault_point("agent.lb.scan"));
  EXPECT_TRUE(is_known_fault_point("rpc.cast.finish_revert_resize"));
  EXPECT_FALSE(is_known_fault_point("rpc.cast"));
  EXPECT_FALSE(is_known_fault_point("libvirt.migrate"));
  EXPECT_FALSE(is_known_fault_point(""));
  EXPECT_FALSE(is_known_fault_point("Agent.lb.scan"));
}

TEST(FaultPoints, ClosestFaultPointByEditDistance) {
  EXPECT_EQ(closest_fault_point("agent.lb.scna"), "agent.lb.scan");         // swap
  EXPECT_EQ(closest_fault_point("agent.lb.sca"), "agent.lb.scan");          // delete
  EXPECT_EQ(closest_fault_point("guest.anounce"), "guest.announce");       // insert
  EXPECT_EQ(closest_fault_point("rpc.cal.pre_live_migration"), "rpc.call.pre_live_migration");
  EXPECT_EQ(closest_fault_point("rpc.cast.prep_resise"), "rpc.cast.prep_resize");
  EXPECT_EQ(closest_fault_point("agent.lb.scan"), "agent.lb.scan");
  EXPECT_EQ(closest_fault_point("bogus"), std::nullopt);
  EXPECT_EQ(closest_fault_point(""), std::nullopt);
  // A name whose length alone is too far from every point's.
  EXPECT_EQ(closest_fault_point("agent.lb.scan" + std::string(4000, 'x')), std::nullopt);
  EXPECT_EQ(closest_fault_point("rpc.cast.prep_resize.and.more.words.after.it"), std::nullopt);
  EXPECT_EQ(closest_fault_point("rpc.cast.prep_resize.x"), "rpc.cast.prep_resize");
}

// ---- parsing: accepted forms ------------------------------------------------

TEST(ParseFaultSpec, DelayFixedAndRange) {
  FaultSpec s = parse_ok("agent.lb.enslave_uplink=delay:3000");
  EXPECT_EQ(s.point, "agent.lb.enslave_uplink");
  EXPECT_EQ(s.action.kind, ActionKind::kDelay);
  EXPECT_EQ(s.action.delay_min, 3000ms);
  EXPECT_EQ(s.action.delay_max, 3000ms);
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kAlways);
  EXPECT_EQ(s.text, "agent.lb.enslave_uplink=delay:3000");

  s = parse_ok("guest.announce=delay:100-500");
  EXPECT_EQ(s.action.kind, ActionKind::kDelay);
  EXPECT_EQ(s.action.delay_min, 100ms);
  EXPECT_EQ(s.action.delay_max, 500ms);

  s = parse_ok("guest.announce=delay:0");
  EXPECT_EQ(s.action.delay_min, 0ms);
  EXPECT_EQ(s.action.delay_max, 0ms);

  s = parse_ok("guest.announce=delay:7-7");
  EXPECT_EQ(s.action.delay_min, 7ms);
  EXPECT_EQ(s.action.delay_max, 7ms);
}

TEST(ParseFaultSpec, PlainActions) {
  struct Case {
    const char* text;
    ActionKind kind;
  };
  for (const Case& c : {Case{"fabric.port=drop", ActionKind::kDrop},
                        Case{"neutron.notify.vif_plugged=duplicate", ActionKind::kDuplicate},
                        Case{"neutron.notify.vif_plugged=fire-early", ActionKind::kFireEarly},
                        Case{"ovs.vswitchd=crash", ActionKind::kCrash}}) {
    FaultSpec s = parse_ok(c.text);
    EXPECT_EQ(s.action.kind, c.kind) << c.text;
    EXPECT_EQ(s.action.message, "") << c.text;
    EXPECT_EQ(s.trigger.kind, Trigger::Kind::kAlways) << c.text;
  }
}

TEST(ParseFaultSpec, FailWithAndWithoutMessage) {
  FaultSpec s = parse_ok("neutron.binding.activate=fail");
  EXPECT_EQ(s.action.kind, ActionKind::kFail);
  EXPECT_EQ(s.action.message, "injected failure at neutron.binding.activate");

  s = parse_ok("rpc.call.pre_live_migration=fail:MessagingTimeout: no reply in 60 s");
  EXPECT_EQ(s.action.kind, ActionKind::kFail);
  EXPECT_EQ(s.action.message, "MessagingTimeout: no reply in 60 s");

  // Split at the first '=': the message may contain '='.
  s = parse_ok("hypervisor.migrate=fail:rc=1");
  EXPECT_EQ(s.point, "hypervisor.migrate");
  EXPECT_EQ(s.action.message, "rc=1");

  // The trigger starts at the last '@': a message with '@' needs a trigger.
  s = parse_ok("hypervisor.migrate=fail:user@host@always");
  EXPECT_EQ(s.action.message, "user@host");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kAlways);
  s = parse_ok("hypervisor.migrate=fail:a@b@nth:2");
  EXPECT_EQ(s.action.message, "a@b");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kNth);
  EXPECT_EQ(s.trigger.n, 2);
}

TEST(ParseFaultSpec, Triggers) {
  FaultSpec s = parse_ok("fabric.port=drop@always");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kAlways);

  s = parse_ok("neutron.notify.vif_plugged=drop@nth:1");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kNth);
  EXPECT_EQ(s.trigger.n, 1);

  s = parse_ok("agent.lb.scan=delay:100-500@nth:12");
  EXPECT_EQ(s.action.kind, ActionKind::kDelay);
  EXPECT_EQ(s.action.delay_min, 100ms);
  EXPECT_EQ(s.action.delay_max, 500ms);
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kNth);
  EXPECT_EQ(s.trigger.n, 12);

  s = parse_ok("agent.lb.scan=drop@from:3");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kFrom);
  EXPECT_EQ(s.trigger.n, 3);

  s = parse_ok("agent.lb.scan=drop@p:0.25");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kProbability);
  EXPECT_EQ(s.trigger.probability, 0.25);

  s = parse_ok("agent.lb.scan=drop@p:0");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kProbability);
  EXPECT_EQ(s.trigger.probability, 0.0);

  s = parse_ok("agent.lb.scan=drop@p:1");
  EXPECT_EQ(s.trigger.probability, 1.0);

  s = parse_ok("agent.lb.scan=drop@p:1e-3");
  EXPECT_EQ(s.trigger.probability, 0.001);

  s = parse_ok("agent.lb.scan=fail:boom@from:2");
  EXPECT_EQ(s.action.message, "boom");
  EXPECT_EQ(s.trigger.kind, Trigger::Kind::kFrom);
  EXPECT_EQ(s.trigger.n, 2);
}

TEST(ParseFaultSpec, OuterWhitespaceIsTrimmedFailMessageKeptVerbatim) {
  FaultSpec s = parse_ok("  \tagent.lb.scan=drop@nth:2 \n");
  EXPECT_EQ(s.point, "agent.lb.scan");
  EXPECT_EQ(s.text, "agent.lb.scan=drop@nth:2");
  EXPECT_EQ(s.trigger.n, 2);

  s = parse_ok("agent.lb.scan=fail: spaced  out");
  EXPECT_EQ(s.action.message, " spaced  out");
}

// ---- parsing: errors --------------------------------------------------------

TEST(ParseFaultSpec, ErrorsNameTheWrongPart) {
  const std::string kActions = "(actions: delay, drop, duplicate, fire-early, fail, crash)";
  const std::string kTriggers = "(triggers: always, nth:N, from:N, p:PROBABILITY)";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      // '=' and the point
      {"agent.lb.scan", "fault 'agent.lb.scan': missing '=' (expected POINT=ACTION[:ARG][@TRIGGER])"},
      {"", "fault '': missing '=' (expected POINT=ACTION[:ARG][@TRIGGER])"},
      {"=drop", "fault '=drop': missing point before '='"},
      {"agent.lb.scna=drop",
       "fault 'agent.lb.scna=drop': unknown point 'agent.lb.scna' (did you mean "
       "'agent.lb.scan'? `lmh faults` lists all)"},
      {"bogus=drop", "fault 'bogus=drop': unknown point 'bogus' (`lmh faults` lists all)"},
      {"rpc.cast=drop",
       "fault 'rpc.cast=drop': unknown point 'rpc.cast' (name one point of the family, e.g. "
       "'rpc.cast.live_migration'; `lmh faults` lists all)"},
      {"agent.lb.scan =drop",
       "fault 'agent.lb.scan =drop': unexpected whitespace in 'agent.lb.scan ' (write "
       "POINT=ACTION[:ARG][@TRIGGER] without spaces)"},
      // the action
      {"agent.lb.scan=", "fault 'agent.lb.scan=': missing action after '=' " + kActions},
      {"agent.lb.scan=@nth:1", "fault 'agent.lb.scan=@nth:1': missing action after '=' " + kActions},
      {"agent.lb.scan=dorp", "fault 'agent.lb.scan=dorp': unknown action 'dorp' " + kActions},
      // an action the point does not implement: refused, never a no-op
      {"guest.announce=fail",
       "fault 'guest.announce=fail': 'guest.announce' does not implement fail (it implements: delay, drop, "
       "duplicate)"},
      {"rpc.cast.live_migration=duplicate",
       "fault 'rpc.cast.live_migration=duplicate': 'rpc.cast.live_migration' does not implement duplicate "
       "(it implements: delay, drop, fail, crash)"},
      {"agent.lb.scan=Drop", "fault 'agent.lb.scan=Drop': unknown action 'Drop' " + kActions},
      {"agent.lb.scan=partition:x",
       "fault 'agent.lb.scan=partition:x': unknown action 'partition' " + kActions},
      {"agent.lb.scan= drop",
       "fault 'agent.lb.scan= drop': unexpected whitespace in ' drop' (write "
       "POINT=ACTION[:ARG][@TRIGGER] without spaces; only a fail message may contain them)"},
      {"agent.lb.scan=delay: 5",
       "fault 'agent.lb.scan=delay: 5': unexpected whitespace in 'delay: 5' (write "
       "POINT=ACTION[:ARG][@TRIGGER] without spaces; only a fail message may contain them)"},
      {"agent.lb.scan=delay",
       "fault 'agent.lb.scan=delay': delay needs milliseconds, e.g. delay:500 or delay:100-500"},
      {"agent.lb.scan=delay:",
       "fault 'agent.lb.scan=delay:': delay needs milliseconds, e.g. delay:500 or delay:100-500"},
      {"agent.lb.scan=delay@nth:1",
       "fault 'agent.lb.scan=delay@nth:1': delay needs milliseconds, e.g. delay:500 or "
       "delay:100-500"},
      {"agent.lb.scan=delay:abc",
       "fault 'agent.lb.scan=delay:abc': bad delay 'abc' (milliseconds, e.g. delay:500 or "
       "delay:100-500)"},
      {"agent.lb.scan=delay:500ms",
       "fault 'agent.lb.scan=delay:500ms': bad delay '500ms' (milliseconds, e.g. delay:500 or "
       "delay:100-500)"},
      {"agent.lb.scan=delay:-5",
       "fault 'agent.lb.scan=delay:-5': bad delay '-5' (milliseconds, e.g. delay:500 or "
       "delay:100-500)"},
      {"agent.lb.scan=delay:100-",
       "fault 'agent.lb.scan=delay:100-': bad delay '100-' (milliseconds, e.g. delay:500 or "
       "delay:100-500)"},
      {"agent.lb.scan=delay:1-2-3",
       "fault 'agent.lb.scan=delay:1-2-3': bad delay '1-2-3' (milliseconds, e.g. delay:500 or "
       "delay:100-500)"},
      {"agent.lb.scan=delay:99999999999999999999",
       "fault 'agent.lb.scan=delay:99999999999999999999': bad delay '99999999999999999999' "
       "(milliseconds, e.g. delay:500 or delay:100-500)"},
      {"agent.lb.scan=delay:500-100",
       "fault 'agent.lb.scan=delay:500-100': bad delay '500-100': min 500 is above max 100"},
      {"agent.lb.scan=drop:5", "fault 'agent.lb.scan=drop:5': drop takes no argument (got '5')"},
      {"agent.lb.scan=duplicate:", "fault 'agent.lb.scan=duplicate:': duplicate takes no argument (got '')"},
      {"agent.lb.scan=fire-early:1",
       "fault 'agent.lb.scan=fire-early:1': fire-early takes no argument (got '1')"},
      {"agent.lb.scan=crash:dst", "fault 'agent.lb.scan=crash:dst': crash takes no argument (got 'dst')"},
      {"agent.lb.scan=fail:",
       "fault 'agent.lb.scan=fail:': fail needs a message after ':' (or write plain fail)"},
      // the trigger
      {"agent.lb.scan=drop@", "fault 'agent.lb.scan=drop@': missing trigger after '@' " + kTriggers},
      {"agent.lb.scan=drop@once", "fault 'agent.lb.scan=drop@once': unknown trigger 'once' " + kTriggers},
      {"agent.lb.scan=fail:user@host",
       "fault 'agent.lb.scan=fail:user@host': unknown trigger 'host' " + kTriggers},
      {"agent.lb.scan=drop@ nth:1",
       "fault 'agent.lb.scan=drop@ nth:1': unexpected whitespace in ' nth:1' (write "
       "POINT=ACTION[:ARG][@TRIGGER] without spaces)"},
      {"agent.lb.scan=drop@always:2",
       "fault 'agent.lb.scan=drop@always:2': bad trigger 'always:2' (always takes no argument)"},
      {"agent.lb.scan=drop@nth:0", "fault 'agent.lb.scan=drop@nth:0': bad trigger 'nth:0' (nth:N with N >= 1)"},
      {"agent.lb.scan=drop@nth", "fault 'agent.lb.scan=drop@nth': bad trigger 'nth' (nth:N with N >= 1)"},
      {"agent.lb.scan=drop@nth:", "fault 'agent.lb.scan=drop@nth:': bad trigger 'nth:' (nth:N with N >= 1)"},
      {"agent.lb.scan=drop@nth:-1", "fault 'agent.lb.scan=drop@nth:-1': bad trigger 'nth:-1' (nth:N with N >= 1)"},
      {"agent.lb.scan=drop@nth:two", "fault 'agent.lb.scan=drop@nth:two': bad trigger 'nth:two' (nth:N with N >= 1)"},
      {"agent.lb.scan=drop@nth:99999999999",
       "fault 'agent.lb.scan=drop@nth:99999999999': bad trigger 'nth:99999999999' (nth:N with N >= 1)"},
      {"agent.lb.scan=drop@from:0", "fault 'agent.lb.scan=drop@from:0': bad trigger 'from:0' (from:N with N >= 1)"},
      {"agent.lb.scan=drop@from:x", "fault 'agent.lb.scan=drop@from:x': bad trigger 'from:x' (from:N with N >= 1)"},
      {"agent.lb.scan=drop@p:1.5", "fault 'agent.lb.scan=drop@p:1.5': p:1.5: probability must be in [0,1]"},
      {"agent.lb.scan=drop@p:-0.1", "fault 'agent.lb.scan=drop@p:-0.1': p:-0.1: probability must be in [0,1]"},
      {"agent.lb.scan=drop@p:nan", "fault 'agent.lb.scan=drop@p:nan': p:nan: probability must be in [0,1]"},
      {"agent.lb.scan=drop@p:", "fault 'agent.lb.scan=drop@p:': bad trigger 'p:' (p:PROBABILITY, a number in [0,1])"},
      {"agent.lb.scan=drop@p", "fault 'agent.lb.scan=drop@p': bad trigger 'p' (p:PROBABILITY, a number in [0,1])"},
      {"agent.lb.scan=drop@p:half",
       "fault 'agent.lb.scan=drop@p:half': bad trigger 'p:half' (p:PROBABILITY, a number in [0,1])"},
      {"agent.lb.scan=drop@p:0.5x",
       "fault 'agent.lb.scan=drop@p:0.5x': bad trigger 'p:0.5x' (p:PROBABILITY, a number in [0,1])"},
  };
  for (const auto& c : cases) {
    auto spec = parse_fault_spec(c.text);
    ASSERT_FALSE(spec.ok()) << "accepted: " << c.text;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(spec.status().message(), c.message) << c.text;
  }
}

TEST(ParseFaultSpec, ErrorNamesTheTrimmedText) {
  auto spec = parse_fault_spec("  agent.lb.scan=dorp \n");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "fault 'agent.lb.scan=dorp': unknown action 'dorp' (actions: delay, drop, duplicate, "
            "fire-early, fail, crash)");
}

TEST(ActionName, EveryKind) {
  EXPECT_STREQ(action_name(ActionKind::kNone), "none");
  EXPECT_STREQ(action_name(ActionKind::kDelay), "delay");
  EXPECT_STREQ(action_name(ActionKind::kDrop), "drop");
  EXPECT_STREQ(action_name(ActionKind::kDuplicate), "duplicate");
  EXPECT_STREQ(action_name(ActionKind::kFireEarly), "fire-early");
  EXPECT_STREQ(action_name(ActionKind::kFail), "fail");
  EXPECT_STREQ(action_name(ActionKind::kCrash), "crash");
}

// ---- plan decisions ---------------------------------------------------------

TEST(FaultPlan, EmptyPlanNeverFiresAndCountsNothing) {
  FaultPlan plan;
  for (int i = 0; i < 50; ++i) {
    for (const auto& p : known_fault_points()) {
      EXPECT_FALSE(plan.at(p.name).fires()) << p.name;
      EXPECT_FALSE(plan.has(p.name)) << p.name;
    }
  }
  EXPECT_TRUE(plan.counts().empty());
  EXPECT_TRUE(plan.specs().empty());
  EXPECT_EQ(plan.seed(), 0u);
}

TEST(FaultPlan, HasIsTrueOnlyForBoundPointsAndCountsNothing) {
  auto plan = make_plan({"agent.lb.scan=drop", "guest.announce=delay:5@nth:2"}, 7);
  EXPECT_TRUE(plan->has("agent.lb.scan"));
  EXPECT_TRUE(plan->has("guest.announce"));
  EXPECT_FALSE(plan->has("agent.lb.enslave_uplink"));
  EXPECT_FALSE(plan->has("nonexistent"));
  auto counts = plan->counts();
  EXPECT_EQ(counts["agent.lb.scan"].reached, 0);
  EXPECT_EQ(counts["guest.announce"].reached, 0);
  EXPECT_EQ(plan->seed(), 7u);
  ASSERT_EQ(plan->specs().size(), 2u);
  EXPECT_EQ(plan->specs()[1].text, "guest.announce=delay:5@nth:2");
}

TEST(FaultPlan, AlwaysFiresEveryTimeWithTheAction) {
  auto plan = make_plan({"neutron.binding.activate=fail:port not found",
                         "ovs.vswitchd=crash", "fabric.port=drop",
                         "neutron.notify.vif_plugged=fire-early", "guest.announce=delay:250"},
                        1);
  for (int i = 0; i < 3; ++i) {
    Decision d = plan->at("neutron.binding.activate");
    EXPECT_EQ(d.kind, ActionKind::kFail);
    EXPECT_TRUE(d.fires());
    EXPECT_EQ(d.message, "port not found");
    EXPECT_EQ(d.delay, 0ms);
    EXPECT_EQ(plan->at("ovs.vswitchd").kind, ActionKind::kCrash);
    EXPECT_EQ(plan->at("fabric.port").kind, ActionKind::kDrop);
    EXPECT_EQ(plan->at("neutron.notify.vif_plugged").kind, ActionKind::kFireEarly);
    d = plan->at("guest.announce");
    EXPECT_EQ(d.kind, ActionKind::kDelay);
    EXPECT_EQ(d.delay, 250ms);
    EXPECT_EQ(d.message, "");
  }
  for (const auto& [point, c] : plan->counts()) {
    EXPECT_EQ(c.reached, 3) << point;
    EXPECT_EQ(c.injected, 3) << point;
  }
  EXPECT_EQ(plan->counts().size(), 5u);
}

TEST(FaultPlan, NthFiresOnlyOnTheNthReachOfThatPoint) {
  auto plan = make_plan({"neutron.notify.vif_plugged=drop@nth:3", "agent.lb.scan=delay:1@nth:1"},
                        1);
  std::vector<bool> fired;
  for (int i = 0; i < 6; ++i) {
    // Reaches of another point do not advance this point's count.
    plan->at("agent.lb.scan");
    plan->at("agent.lb.scan");
    fired.push_back(plan->at("neutron.notify.vif_plugged").fires());
  }
  EXPECT_EQ(fired, (std::vector<bool>{false, false, true, false, false, false}));
  auto counts = plan->counts();
  EXPECT_EQ(counts["neutron.notify.vif_plugged"].reached, 6);
  EXPECT_EQ(counts["neutron.notify.vif_plugged"].injected, 1);
  EXPECT_EQ(counts["agent.lb.scan"].reached, 12);
  EXPECT_EQ(counts["agent.lb.scan"].injected, 1);
}

TEST(FaultPlan, NthOneFiresOnTheFirstReach) {
  auto plan = make_plan({"guest.announce=drop@nth:1"}, 1);
  EXPECT_TRUE(plan->at("guest.announce").fires());
  EXPECT_FALSE(plan->at("guest.announce").fires());
  EXPECT_FALSE(plan->at("guest.announce").fires());
}

TEST(FaultPlan, FromFiresAtNAndEveryLaterReach) {
  auto plan = make_plan({"agent.lb.scan=drop@from:3"}, 1);
  std::vector<bool> fired;
  for (int i = 0; i < 6; ++i) fired.push_back(plan->at("agent.lb.scan").fires());
  EXPECT_EQ(fired, (std::vector<bool>{false, false, true, true, true, true}));
  EXPECT_EQ(plan->counts()["agent.lb.scan"].injected, 4);
}

TEST(FaultPlan, FirstSpecWhoseTriggerFiresWins) {
  const std::string p = "rpc.call.pre_live_migration";
  auto plan = make_plan({p + "=drop@nth:2", p + "=delay:100@from:2", p + "=fail:late@from:4"}, 1);
  std::vector<ActionKind> kinds;
  for (int i = 0; i < 5; ++i) kinds.push_back(plan->at(p).kind);
  EXPECT_EQ(kinds, (std::vector<ActionKind>{ActionKind::kNone, ActionKind::kDrop,
                                            ActionKind::kDelay, ActionKind::kDelay,
                                            ActionKind::kDelay}));
  auto counts = plan->counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[p].action, "drop@nth:2, delay:100@from:2, fail:late@from:4");
  EXPECT_EQ(counts[p].reached, 5);
  EXPECT_EQ(counts[p].injected, 4);
}

TEST(FaultPlan, ProbabilityDrawsOneNumberPerEvaluation) {
  const uint64_t seed = 42;
  auto plan = make_plan({"fabric.port=drop@p:0.3"}, seed);
  std::mt19937_64 ref(seed);
  int want_fired = 0;
  for (int i = 0; i < 1000; ++i) {
    bool want = draw_unit(ref) < 0.3;
    want_fired += want;
    ASSERT_EQ(plan->at("fabric.port").fires(), want) << "reach " << i + 1;
  }
  EXPECT_EQ(plan->counts()["fabric.port"].injected, want_fired);
  EXPECT_EQ(plan->counts()["fabric.port"].reached, 1000);
  // A p:0.3 trigger fires near 30% of the time.
  EXPECT_GT(want_fired, 250);
  EXPECT_LT(want_fired, 350);
}

TEST(FaultPlan, ProbabilityZeroAndOneStillDrawSoTheStreamStaysAligned) {
  const uint64_t seed = 9;
  // p:0 never fires but draws; the following ranged delay draws next.
  auto plan = make_plan({"guest.announce=drop@p:0", "guest.announce=delay:0-1000@p:1"}, seed);
  std::mt19937_64 ref(seed);
  for (int i = 0; i < 50; ++i) {
    draw_unit(ref);  // p:0
    draw_unit(ref);  // p:1
    int64_t want = draw_delay(ref, 0, 1000);
    Decision d = plan->at("guest.announce");
    ASSERT_EQ(d.kind, ActionKind::kDelay);
    ASSERT_EQ(d.delay.count(), want) << "reach " << i + 1;
  }
  EXPECT_EQ(plan->counts()["guest.announce"].injected, 50);
}

TEST(FaultPlan, SpecsAfterTheFiringOneAreNotEvaluated) {
  const uint64_t seed = 5;
  auto plan = make_plan({"agent.lb.scan=drop@nth:2", "agent.lb.scan=delay:0-1000@p:1"}, seed);
  std::mt19937_64 ref(seed);
  for (int reach = 1; reach <= 6; ++reach) {
    Decision d = plan->at("agent.lb.scan");
    if (reach == 2) {
      EXPECT_EQ(d.kind, ActionKind::kDrop);  // no draw at all on this reach
      continue;
    }
    draw_unit(ref);
    ASSERT_EQ(d.kind, ActionKind::kDelay) << "reach " << reach;
    EXPECT_EQ(d.delay.count(), draw_delay(ref, 0, 1000)) << "reach " << reach;
  }
}

TEST(FaultPlan, FixedDelayDrawsNothing) {
  const uint64_t seed = 77;
  auto plan = make_plan({"guest.announce=delay:250", "fabric.port=drop@p:0.5"}, seed);
  std::mt19937_64 ref(seed);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(plan->at("guest.announce").delay, 250ms);
    ASSERT_EQ(plan->at("fabric.port").fires(), draw_unit(ref) < 0.5) << "reach " << i + 1;
  }
}

TEST(FaultPlan, DelayRangeStaysWithinBoundsAndReachesBothEnds) {
  const uint64_t seed = 3;
  auto plan = make_plan({"agent.lb.enslave_uplink=delay:10-12"}, seed);
  std::mt19937_64 ref(seed);
  std::set<int64_t> seen;
  for (int i = 0; i < 300; ++i) {
    Decision d = plan->at("agent.lb.enslave_uplink");
    ASSERT_EQ(d.kind, ActionKind::kDelay);
    ASSERT_GE(d.delay, 10ms);
    ASSERT_LE(d.delay, 12ms);
    ASSERT_EQ(d.delay.count(), draw_delay(ref, 10, 12));
    seen.insert(d.delay.count());
  }
  EXPECT_EQ(seen, (std::set<int64_t>{10, 11, 12}));
}

TEST(FaultPlan, WideDelayRangeStaysWithinBounds) {
  auto plan = make_plan({"guest.announce=delay:100-500"}, 12345);
  int64_t lo = 1000, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    int64_t ms = plan->at("guest.announce").delay.count();
    lo = std::min(lo, ms);
    hi = std::max(hi, ms);
  }
  EXPECT_GE(lo, 100);
  EXPECT_LE(hi, 500);
  // Spread over the range, not stuck at one end.
  EXPECT_LT(lo, 110);
  EXPECT_GT(hi, 490);
}

std::vector<std::pair<ActionKind, int64_t>> run_sequence(FaultPlan& plan) {
  std::vector<std::pair<ActionKind, int64_t>> out;
  for (int i = 0; i < 200; ++i) {
    for (const char* p : {"fabric.port", "guest.announce", "agent.lb.scan"}) {
      Decision d = plan.at(p);
      out.emplace_back(d.kind, d.delay.count());
    }
  }
  return out;
}

TEST(FaultPlan, SameSeedReplaysDifferentSeedDiffers) {
  const std::vector<std::string> texts = {"fabric.port=drop@p:0.5",
                                          "guest.announce=delay:0-5000@p:0.7",
                                          "agent.lb.scan=delay:1-9@from:10"};
  auto a = make_plan(texts, 2024);
  auto b = make_plan(texts, 2024);
  auto c = make_plan(texts, 2025);
  auto seq_a = run_sequence(*a);
  EXPECT_EQ(seq_a, run_sequence(*b));
  EXPECT_NE(seq_a, run_sequence(*c));
  EXPECT_EQ(a->counts()["fabric.port"].injected, b->counts()["fabric.port"].injected);
}

TEST(FaultPlan, CountsReportTheActionTextAndOnlyBoundPoints) {
  auto plan = make_plan({"agent.lb.enslave_uplink=delay:3000@nth:1",
                         "neutron.notify.vif_plugged=drop"},
                        1);
  plan->at("agent.lb.enslave_uplink");
  plan->at("agent.lb.enslave_uplink");
  plan->at("guest.announce");  // no spec: not counted
  auto counts = plan->counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts["agent.lb.enslave_uplink"].action, "delay:3000@nth:1");
  EXPECT_EQ(counts["agent.lb.enslave_uplink"].reached, 2);
  EXPECT_EQ(counts["agent.lb.enslave_uplink"].injected, 1);
  EXPECT_EQ(counts["neutron.notify.vif_plugged"].action, "drop");
  EXPECT_EQ(counts["neutron.notify.vif_plugged"].reached, 0);
  EXPECT_EQ(counts["neutron.notify.vif_plugged"].injected, 0);
}

TEST(FaultPlan, CountsRenderSpecsBuiltWithoutText) {
  FaultSpec delay;
  delay.point = "guest.announce";
  delay.action.kind = ActionKind::kDelay;
  delay.action.delay_min = 100ms;
  delay.action.delay_max = 500ms;
  delay.trigger.kind = Trigger::Kind::kNth;
  delay.trigger.n = 2;
  FaultSpec fail;
  fail.point = "fabric.port";
  fail.action.kind = ActionKind::kFail;
  fail.action.message = "down";
  fail.trigger.kind = Trigger::Kind::kProbability;
  fail.trigger.probability = 0.25;
  FaultSpec drop;
  drop.point = "fabric.port";
  drop.action.kind = ActionKind::kDrop;
  drop.trigger.kind = Trigger::Kind::kFrom;
  drop.trigger.n = 3;
  FaultPlan plan({delay, fail, drop}, 1);
  auto counts = plan.counts();
  EXPECT_EQ(counts["guest.announce"].action, "delay:100-500@nth:2");
  EXPECT_EQ(counts["fabric.port"].action, "fail:down@p:0.25, drop@from:3");
}

TEST(FaultPlan, SpecWithNoActionNeverFires) {
  FaultSpec none;
  none.point = "guest.announce";
  FaultPlan plan({none}, 1);
  EXPECT_FALSE(plan.at("guest.announce").fires());
  EXPECT_EQ(plan.counts()["guest.announce"].reached, 1);
  EXPECT_EQ(plan.counts()["guest.announce"].injected, 0);
}

TEST(FaultPlan, ConcurrentReachesAreCountedExactly) {
  auto plan = make_plan({"agent.lb.scan=drop@nth:80000", "fabric.port=drop"}, 1);
  constexpr int kThreads = 8, kEach = 20000;
  std::atomic<int> scan_fired{0}, port_fired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        scan_fired += plan->at("agent.lb.scan").fires();
        port_fired += plan->at("fabric.port").fires();
        plan->has("fabric.port");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(scan_fired.load(), 1);
  EXPECT_EQ(port_fired.load(), kThreads * kEach);
  auto counts = plan->counts();
  EXPECT_EQ(counts["agent.lb.scan"].reached, kThreads * kEach);
  EXPECT_EQ(counts["agent.lb.scan"].injected, 1);
  EXPECT_EQ(counts["fabric.port"].reached, kThreads * kEach);
  EXPECT_EQ(counts["fabric.port"].injected, kThreads * kEach);
}

}  // namespace
}  // namespace lmh::faults

namespace lmh::faults {
namespace {

TEST(FaultRegistry, EveryListedActionParsesAndNothingElseDoes) {
  const std::vector<std::string> all = {"delay:10", "drop", "duplicate", "fire-early", "fail", "crash"};
  int accepted = 0;
  for (const auto& p : known_fault_points()) {
    ASSERT_FALSE(p.actions.empty()) << p.name;
    for (const auto& a : all) {
      const std::string kind = a.substr(0, a.find(':'));
      const bool listed = std::any_of(p.actions.begin(), p.actions.end(),
                                      [&](ActionKind k) { return kind == action_name(k); });
      auto spec = parse_fault_spec(p.name + "=" + a);
      EXPECT_EQ(spec.ok(), listed) << p.name << "=" << a << ": " << spec.status().message();
      accepted += spec.ok();
    }
  }
  EXPECT_EQ(known_fault_points().size(), 28u);
  EXPECT_EQ(accepted, 88);  // `lmh matrix --faults all` leaves out what a lab cannot reach (ovs.*, agent.ovs.*)
  // Casts that start a move are never doubled (a second move would start).
  for (const char* p : {"rpc.cast.live_migration", "rpc.cast.prep_resize"})
    EXPECT_FALSE(parse_fault_spec(std::string(p) + "=duplicate").ok()) << p;
}

}  // namespace
}  // namespace lmh::faults
