// Runs scenarios: builds the lab, wires core's cloud to it, boots the guest,
// probes and captures, migrates, observes, analyses, tears down. One
// ScenarioResult per run; teardown happens whatever the outcome.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include <memory>

#include "core/cloud.h"
#include "core/event_loop.h"
#include "core/timeline.h"
#include "harness/lab/emulated_hypervisor.h"
#include "harness/lab/lab.h"
#include "harness/lab/libvirt_hypervisor.h"
#include "harness/ovs/ovn_northbound_idl.h"
#include "harness/run/scenario.h"
#include "harness/system/capabilities.h"
#include "reports/result.h"

namespace lmh::harness {

// A scenario's lab with core's cloud wired to it: real clock, event loop,
// timeline, emulated hypervisor, one compute + L2 agent per host. Members
// are declared in build order; the destructor tears down in reverse.
class ScenarioSession {
 public:
  // Builds the lab (run id 'lab_run_id') and wires the cloud; boots nothing.
  static StatusOr<std::unique_ptr<ScenarioSession>> create(const Scenario& scenario, const Capabilities& caps,
                                                           const std::string& lab_run_id);
  ~ScenarioSession();
  // Boots the guest under test on the migration source (and, for a warm
  // destination, a bystander on the destination) and waits until every
  // port is ACTIVE.
  Status boot(const std::atomic<bool>* interrupt);

  Lab& lab() { return *lab_; }
  core::EventLoop& loop() { return *loop_; }
  core::Timeline& timeline() { return *timeline_; }
  core::Cloud& cloud() { return *cloud_; }
  faults::FaultPlan& fault_plan() { return *fault_plan_; }
  // The real guest tier's hypervisor (tier libvirt), else nullptr.
  LibvirtHypervisor* libvirt() { return libvirt_.get(); }
  double lab_setup_ms() const { return lab_setup_ms_; }

 private:
  explicit ScenarioSession(const Scenario& scenario) : scenario_(scenario) {}

  Scenario scenario_;
  double lab_setup_ms_ = 0;
  std::unique_ptr<Lab> lab_;
  core::RealClock clock_;
  std::unique_ptr<faults::FaultPlan> fault_plan_;  // before everything that consults it
  std::unique_ptr<core::EventLoop> loop_;
  std::unique_ptr<core::Timeline> timeline_;
  std::unique_ptr<EmulatedHypervisor> hypervisor_;
  std::unique_ptr<LibvirtHypervisor> libvirt_;  // tier libvirt (then hypervisor_ is null)
  // ML2/OVN's connection to the lab's OVN databases (a host runs OVN).
  std::unique_ptr<OvnNorthboundIdl> ovn_nb_;
  std::unique_ptr<core::Cloud> cloud_;
};

struct RunOptions {
  std::string run_id;
  std::string results_dir;  // results/<run-id>; pcaps go here
  const std::atomic<bool>* interrupt = nullptr;  // set by SIGINT/SIGTERM
  bool verbose = false;
  // Told each stage as it starts (set-up, boot, measure, migrate, analyse,
  // teardown, done): what a progress line shows.
  std::function<void(const char* phase)> on_phase;
};

// Runs 'scenario' (already validated). Environment problems give verdict
// "error" with the reason; the returned Status is not ok only when
// interrupted (kCancelled).
StatusOr<reports::ScenarioResult> run_scenario(const Scenario& scenario, const Capabilities& caps,
                                               const RunOptions& options, int index);

}  // namespace lmh::harness
