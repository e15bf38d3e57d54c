// The fault-plan text form (--fault and a scenario's `faults:`):
// parse_fault_spec on any text, and a plan of what it accepts asked a few
// times at the point (triggers, delay draws).
#include <cstddef>
#include <cstdint>

#include "faults/fault_plan.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lmh;
  auto spec = faults::parse_fault_spec(fuzz::text_of(data, size));
  if (!spec.ok()) {
    fuzz::check_refusal(spec.status(), "parse_fault_spec: internal error");
    return 0;
  }
  const faults::Action action = spec->action;
  fuzz::check(action.delay_min <= action.delay_max, "delay range with min > max", spec->text);
  faults::FaultPlan plan({*spec}, /*seed=*/size, /*armed=*/true);
  for (int i = 0; i < 4; ++i) {
    faults::Decision d = plan.at(spec->point);
    if (d.kind == faults::ActionKind::kDelay)
      fuzz::check(d.delay >= action.delay_min && d.delay <= action.delay_max, "delay drawn outside its range",
                  spec->text);
  }
  return 0;
}
