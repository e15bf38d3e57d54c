// How core asks the fault plan at a named point: one call that returns the
// decision and puts every injection on the timeline, so a report shows
// where a fault acted. A null plan never fires.
#pragma once

#include <string>

#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

inline faults::Decision consult_fault(faults::FaultPlan* plan, Timeline& timeline,
                                      const faults::FaultPointDescriptor& point) {
  if (!plan || !plan->has(point.name)) return {};
  faults::Decision d = plan->at(point.name);
  if (d.fires()) {
    std::string what = faults::action_name(d.kind);
    if (d.kind == faults::ActionKind::kDelay) what += " " + std::to_string(d.delay.count()) + " ms";
    if (d.kind == faults::ActionKind::kFail) what += " (" + d.message + ")";
    timeline.record("faults", point.name + ": " + what);
  }
  return d;
}

// Records that 'point' does not implement the decided action (it then has no
// effect), so a plan never silently means nothing.
inline void fault_not_supported(Timeline& timeline, const faults::FaultPointDescriptor& point,
                                const faults::Decision& d) {
  timeline.record("faults", point.name + ": " + faults::action_name(d.kind) + " is not supported here (no effect)");
}

}  // namespace lmh::core
