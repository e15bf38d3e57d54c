// Writing a scenario back as a scenario file: what a run used, every key
// spelled out, in a form parse_scenario reads back into the same scenario.
#pragma once

#include <string>

#include "harness/run/scenario.h"

namespace lmh::harness {

// Returns 'sc' as the text of a scenario file, with a comment header, every
// section and key in the loader's order, and each host's `agent:` and
// `nova:` keys only where they differ from the top-level sections. --set
// overrides are already folded into the values, so none are written and the
// name is sc.name. parse_scenario of the text yields a scenario equal to
// 'sc' (but for source_file and overrides).
std::string scenario_to_yaml(const Scenario& sc);

}  // namespace lmh::harness
