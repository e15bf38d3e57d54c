// Runs scenarios: builds the lab, wires core's cloud to it, boots the guest,
// probes and captures, migrates, observes, analyses, tears down. One
// ScenarioResult per run; teardown happens whatever the outcome.
#pragma once

#include <atomic>
#include <string>

#include "harness/capabilities.h"
#include "harness/scenario.h"
#include "reports/result.h"

namespace lmh::harness {

struct RunOptions {
  std::string run_id;
  std::string results_dir;  // results/<run-id>; pcaps go here
  const std::atomic<bool>* interrupt = nullptr;  // set by SIGINT/SIGTERM
  bool verbose = false;
};

// Runs 'scenario' (already validated). Environment problems give verdict
// "error" with the reason; the returned Status is not ok only when
// interrupted (kCancelled).
StatusOr<reports::ScenarioResult> run_scenario(const Scenario& scenario, const Capabilities& caps,
                                               const RunOptions& options, int index);

}  // namespace lmh::harness
