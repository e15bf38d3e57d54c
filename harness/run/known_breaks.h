// `lmh matrix --expect FILE`: the invariants a fault matrix is known to
// break (nova behaviour lmh reports and does not fix), so CI gates on what
// is new. One per line, '#' starts a comment:
//   FAULT INVARIANT
// FAULT as the matrix prints it (point=action, e.g.
// rpc.cast.live_migration=drop) or point=* for every action at the point.
// The gate fails on a broken invariant not listed, and on a listed one
// whose fault ran and no longer breaks it (so the list stays true).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::harness {

struct KnownBreak {
  std::string point;
  std::string action;  // "*": any
  std::string invariant;
  std::string source;  // "file:line"
};

// Errors name the file and line: an unknown point, an action the point
// does not implement, an unknown invariant, a line of other than 2 words.
StatusOr<std::vector<KnownBreak>> parse_known_breaks(const std::string& text, const std::string& source_name);
StatusOr<std::vector<KnownBreak>> load_known_breaks(const std::string& path);

// One run of the matrix: its fault and its invariants' outcomes.
struct FaultRunInvariants {
  std::string point, action;  // action as given: "delay:500", "drop"
  std::vector<std::pair<std::string, bool>> invariants;  // name, ok
};

struct BreakGate {
  std::vector<std::string> unexpected;  // "point=action: invariant" broken and not listed
  std::vector<std::string> expected;    // broken and listed
  std::vector<std::string> stale;       // "file:line: ... no longer breaks"
  bool passed() const { return unexpected.empty() && stale.empty(); }
};

BreakGate gate_breaks(const std::vector<KnownBreak>& known, const std::vector<FaultRunInvariants>& runs);

}  // namespace lmh::harness
