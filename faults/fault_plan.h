// Fault plans: actions bound to named fault points, with triggers. Core and
// harness ask the plan at each point ("what happens here now?"); every
// injection is counted under the point's name, and result.json reports the
// counters. Randomness (probability triggers, delay distributions) comes
// from one seeded generator so a failing run can be replayed exactly.
//
// Text form (CLI --fault and scenario `faults:` entries):
//   POINT=ACTION[:ARG][@TRIGGER]
//   ACTION  delay:MS | delay:MIN-MAX (uniform) | drop | duplicate |
//           fire-early | fail[:MESSAGE] | crash
//   TRIGGER always (default) | nth:N (only the Nth time the point is
//           reached, 1-based) | from:N (the Nth time and every later one) |
//           p:PROBABILITY (0..1, seeded)
// e.g. agent.lb.enslave_uplink=delay:3000, neutron.notify.vif_plugged=drop@nth:1
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "faults/fault_points.h"

namespace lmh::faults {

struct Action {
  ActionKind kind = ActionKind::kNone;
  std::chrono::milliseconds delay_min{0};  // kDelay: fixed when min == max
  std::chrono::milliseconds delay_max{0};
  std::string message;                     // kFail: the error text
};

struct Trigger {
  enum class Kind { kAlways, kNth, kFrom, kProbability } kind = Kind::kAlways;
  int n = 0;
  double probability = 0;
};

struct FaultSpec {
  std::string point;
  Action action;
  Trigger trigger;
  std::string text;  // as given, for reports
};

// Parses "POINT=ACTION[:ARG][@TRIGGER]". Errors (kInvalidArgument) name the
// part that is wrong: unknown point (with the closest known name), unknown
// action, bad argument, bad trigger.
StatusOr<FaultSpec> parse_fault_spec(const std::string& text);

// What a point must do now. kind kNone: carry on normally.
struct Decision {
  ActionKind kind = ActionKind::kNone;
  std::chrono::milliseconds delay{0};  // kDelay: drawn from the spec's range
  std::string message;                 // kFail
  bool fires() const { return kind != ActionKind::kNone; }
};

struct InjectionCount {
  std::string action;  // the spec's text after '=' ("delay:3000@nth:1")
  int reached = 0;     // how often the point was reached
  int injected = 0;    // how often the action fired
};

class FaultPlan {
 public:
  FaultPlan() = default;  // empty plan: nothing ever fires
  // A plan built here is armed; pass 'armed' false to arm it later.
  FaultPlan(std::vector<FaultSpec> specs, uint64_t seed, bool armed = true);

  // Called at 'point' each time the flow reaches it. Thread-safe. Before
  // arm() nothing fires and nothing is counted (lab set-up runs clean).
  Decision at(const std::string& point);
  // Faults act from now on (the runner arms the plan when it requests the
  // migration).
  void arm() { armed_ = true; }
  bool armed() const { return armed_; }
  // Whether a spec is bound to 'point' (cheap; lets callers skip work).
  // The action of the first spec for 'point' (without reaching the point).
  std::optional<ActionKind> planned_action(const std::string& point) const;
  bool has(const std::string& point) const;
  // point -> counts, for every point that has a spec.
  std::map<std::string, InjectionCount> counts() const;
  // point -> the actions that fired there (at least once).
  std::map<std::string, std::set<ActionKind>> fired() const;
  uint64_t seed() const { return seed_; }
  const std::vector<FaultSpec>& specs() const { return specs_; }

 private:
  std::vector<FaultSpec> specs_;
  uint64_t seed_ = 0;
  std::atomic<bool> armed_{true};
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, InjectionCount> counts_;
  std::map<std::string, std::set<ActionKind>> fired_;
};

}  // namespace lmh::faults
