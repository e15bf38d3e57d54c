// The scenario loader: parse_scenario on any text, and for every scenario
// it accepts, scenario_to_yaml's text must parse back into a scenario that
// writes the same text (scenario_yaml.h: the two are inverse).
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "harness/run/scenario.h"
#include "harness/run/scenario_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lmh;
  auto sc = harness::parse_scenario(fuzz::text_of(data, size), "fuzz.yaml");
  if (!sc.ok()) {
    fuzz::check_refusal(sc.status(), "parse_scenario: internal error");
    return 0;
  }
  const std::string text = harness::scenario_to_yaml(*sc);
  auto back = harness::parse_scenario(text, "written.yaml");
  fuzz::check(back.ok(), "scenario_to_yaml wrote a file parse_scenario refuses",
              (back.ok() ? std::string() : back.status().message()) + "\n" + text);
  const std::string again = harness::scenario_to_yaml(*back);
  fuzz::check(again == text, "scenario_to_yaml(parse_scenario(scenario_to_yaml(sc))) differs",
              text + "\n----\n" + again);
  return 0;
}
