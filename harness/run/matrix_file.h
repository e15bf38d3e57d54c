// Scenario arguments and matrix files.
//
// A scenario argument is "FILE" or "FILE[key=value,...]" (the form the
// summary table prints as a scenario's name); a key without a section is a
// behaviour switch. A matrix file lists such arguments with the verdict each
// is expected to get, so a run of the matrix gates on "as expected", not on
// "passed" (the as-shipped rows reproduce outages on purpose):
//
//   # expected  scenario[overrides]        (paths relative to this file)
//   pass  lb-vlan-warm-destination.yaml
//   fail  lb-vlan-cold-destination.yaml    # seed 001 as shipped
//   pass  lb-vlan-cold-destination.yaml[pre_plug_vlan_uplink=true]
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "reports/result.h"

namespace lmh::harness {

struct ScenarioArg {
  std::string file;
  std::vector<std::string> overrides;  // "section.key=value"
};
// Splits "FILE[k=v,...]"; a key without '.' gets "behaviour.".
ScenarioArg parse_scenario_arg(const std::string& arg);

struct MatrixEntry {
  ScenarioArg scenario;
  reports::Verdict expected = reports::Verdict::kPass;
  std::string source;  // "<matrix file>:<line>", for errors
};

// True for a path lmh reads as a matrix file (it ends in ".matrix").
bool is_matrix_file(const std::string& path);
// Reads 'path'. Errors: "<file>:<line>: <what is wrong>" (kInvalidArgument),
// or kNotFound when the file cannot be read. Scenario files are not opened
// here; their paths are resolved against the matrix file's directory.
StatusOr<std::vector<MatrixEntry>> load_matrix_file(const std::string& path);
StatusOr<std::vector<MatrixEntry>> parse_matrix_text(const std::string& text, const std::string& source_name,
                                                     const std::string& base_dir);

}  // namespace lmh::harness
