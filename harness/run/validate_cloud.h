// `lmh validate-cloud`: from a cloud's configuration directories and
// release, the matrix of migrations its hosts can do, each cell a generated
// scenario that `lmh run` accepts; then, for each cell that loses
// connectivity, the fix that makes it pass (measured, not looked up).
//
// Planning reads files only. Running goes through a CellRunner, so the
// matrix and the fix search are tested without a lab.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/migration_kind.h"
#include "harness/run/cloud_config.h"
#include "harness/run/releases.h"
#include "harness/run/scenario.h"
#include "reports/result.h"

namespace lmh::harness {

struct ValidateOptions {
  std::string release;
  std::string target_release;              // "": no upgrade to compare
  std::string controller_dir;              // "": neutron-server's view from the compute dirs
  std::vector<std::string> compute_dirs;
  std::vector<core::MigrationKind> kinds{core::MigrationKind::kLive};
  // Only these of the cloud's network types (empty: all its type_drivers).
  std::vector<std::string> network_types;
  double max_downtime_ms = 500;  // a cell fails above this
  bool find_fixes = true;
};

// Hosts whose relevant configuration is the same.
struct HostClass {
  std::string name;                  // "lb-1", "ovs-1", "ovn-1"
  HostConfigFiles config;            // its first member's
  std::vector<std::string> members;  // host names
  // The settings that define the class, for people ("linuxbridge; physnets
  // physnet1; vxlan udp 8472; polling 2 s; wait_for_vif_plug false").
  std::string summary;
};

// What a cell's scenario is built from; a fix candidate changes it.
struct CellSpec {
  std::string name;
  Release release;  // whose behaviour and defaults the cell runs with
  const HostClass* source = nullptr;
  const HostClass* destination = nullptr;
  std::string network_type;  // "vlan" | "flat" | "vxlan" | "geneve"
  std::string physnet;       // vlan, flat
  int segmentation_id = 0;
  core::MigrationKind kind = core::MigrationKind::kLive;
  bool warm = false;
  core::Behaviour behaviour;
  bool source_wait_for_vif_plug = true;       // resolved with the release's default
  bool destination_wait_for_vif_plug = true;
  int source_vxlan_udp_port = 0;               // as the class's files say (0: the backend's default)
  int destination_vxlan_udp_port = 0;
};

enum class CellStatus {
  kRun,         // a scenario was built
  kNotCovered,  // lmh cannot build it yet (the reason says what is missing)
  kBlocked,     // the cloud cannot do it at all (binding impossible, driver removed)
};

struct Cell {
  CellSpec spec;
  CellStatus status = CellStatus::kRun;
  std::string reason;         // not covered / blocked: why
  std::string yaml;           // the cell's scenario file (kRun): what `lmh run` accepts
  std::optional<Scenario> scenario;
  // The same cell after --target-release (absent without one, or when the
  // target blocks it: then 'target_blocked' says why).
  std::string target_yaml;
  std::optional<Scenario> target_scenario;
  std::string target_blocked;
};

// Cells point at its classes: movable, not copyable.
struct CloudPlan {
  CloudPlan() = default;
  CloudPlan(CloudPlan&&) = default;
  CloudPlan& operator=(CloudPlan&&) = default;
  CloudPlan(const CloudPlan&) = delete;
  CloudPlan& operator=(const CloudPlan&) = delete;

  Release release;
  std::optional<Release> target;
  NeutronServerConfig server;
  std::vector<HostConfigFiles> hosts;
  std::vector<HostClass> classes;
  std::vector<Cell> cells;
  std::vector<ConfigNote> notes;  // options not honoured, release-ignored choices
  double max_downtime_ms = 500;
};

// Reads every directory and builds the matrix; touches nothing.
// kInvalidArgument naming the file and line for a malformed file, an
// unknown release, or no compute host.
StatusOr<CloudPlan> plan_cloud_validation(const ValidateOptions& options);

// The settings of 'spec' as scenario YAML at spec.release (the keys the
// cell decides; the loader supplies the rest), under a comment header that
// names the classes and 'note'. Cell files are this read back and written
// with every key (scenario_to_yaml).
std::string cell_yaml(const CloudPlan& plan, const CellSpec& spec, const std::string& note = "");

// Runs one scenario and returns its result (kCancelled when interrupted).
using CellRunner = std::function<StatusOr<reports::ScenarioResult>(const Scenario&)>;

// A change that may make a failing cell pass, and where it comes from.
struct FixCandidate {
  std::string label;  // "nova.conf [workarounds] enable_qemu_monitor_announce_self = True (yoga+)"
  std::function<void(CellSpec&)> apply;
};
// The candidates for 'cell', most conventional first: upgrades (release
// rows newer than the cloud's), options of its release, then lmh's
// proposed fixes that no upstream release ships.
std::vector<FixCandidate> fix_candidates(const CloudPlan& plan, const CellSpec& cell);

struct CellOutcome {
  std::string cell;
  std::optional<reports::ScenarioResult> as_shipped;
  std::optional<reports::ScenarioResult> target;
  std::string mechanism;     // the broken invariant, or what ended (or did not end) the outage
  std::string fix;           // the chain that passed ("a + b"), "" if none was needed or found
  std::string fix_yaml;      // its scenario
  std::vector<std::string> fixes_tried;  // "label: verdict, downtime"
};

struct ValidationResult {
  std::vector<CellOutcome> outcomes;  // one per cell, in plan order
};

// Runs every kRun cell (and its target variant), then searches a fix for
// each failing one: candidates one at a time, keeping one that brings the
// run clearly closer to passing (fewer broken invariants, or a downtime
// shorter by max(100 ms, 20 %)) and trying the rest on top of it; a chain
// that fixed another cell between the same classes goes first. A runner
// error other than kCancelled becomes an error verdict of that cell;
// kCancelled stops and is returned.
StatusOr<ValidationResult> run_cloud_validation(const CloudPlan& plan, const CellRunner& run, bool find_fixes);

// What cost the downtime, for the report: every broken invariant
// ("invariant <name>: <detail>; ..."), or
// "k/n announces reached the fabric; recovered by <cause> N ms after
// resume" (or "...; not recovered").
std::string cell_mechanism(const reports::ScenarioResult& r);

// validation.json: the plan (release, classes, notes) and every cell with
// its outcome.
std::string validation_json(const CloudPlan& plan, const ValidationResult& result);
// The table for stdout.
std::string validation_table(const CloudPlan& plan, const ValidationResult& result);
// 0 when every cell that ran passed (at the target release when given), 1
// when one failed or is blocked, 3 when one errored.
int validation_exit_code(const CloudPlan& plan, const ValidationResult& result);

}  // namespace lmh::harness
