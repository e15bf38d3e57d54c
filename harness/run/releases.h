// OpenStack releases and what changed in live-migration networking between
// them, for `lmh validate-cloud --release NAME [--target-release NAME]`.
// Every row names the upstream commit and bug and the first release that
// shipped it (its X.0.0); the research, with how each fact was checked
// (git tag --contains on nova, neutron and os-vif), is in
// docs/upstream/release-behaviour-table.md. Point-release backports are not
// modelled: a cloud on "wallaby" is taken to run 23.0.0 / 18.0.0 behaviour.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/behaviour.h"

namespace lmh::harness {

struct Release {
  int index = 0;              // 0 = queens, in release order
  std::string name;           // "queens" ... "2026.1"
  std::string codename;       // "queens" ... "gazpacho"
  int neutron_major = 0;      // 12 for queens
  int nova_major = 0;         // 17 for queens
  // "2023.1 antelope" or "queens": how reports name it.
  std::string display() const { return name == codename ? name : name + " " + codename; }
};

// queens .. 2026.1, oldest first.
const std::vector<Release>& known_releases();
// The release named 'name' (its series name "2023.1", its codename
// "antelope", any case); kInvalidArgument listing the known names.
StatusOr<Release> parse_release(std::string_view name);

// What the deployment chose where a release leaves a choice, read from its
// files (validate-cloud's cloud_config); nullopt: the option is not set.
struct DeploymentChoices {
  // neutron.conf [nova] live_migration_events (neutron 18.0.0 .. 20.x).
  std::optional<bool> live_migration_events;
  // ml2_conf.ini [ovn] live_migration_activation_strategy (neutron >= 26).
  std::optional<std::string> ovn_activation_strategy;
  // The destination's nova.conf [workarounds] enable_qemu_monitor_announce_self
  // (nova >= 25) and its count/interval (nova >= 27).
  std::optional<bool> announce_self;
  std::optional<int> announce_self_count;
  std::optional<int> announce_self_interval_s;
};

// One behaviour change between releases.
struct ReleaseChange {
  std::string switch_name;  // Behaviour switch or option, as result.json names it
  std::string what;         // for people: what the release changed
  std::string project;      // "nova" | "neutron"
  std::string commit;       // upstream commit (short sha)
  std::string bug;          // "LP#1901707", or "" when the commit names none
  int first_release = 0;    // Release::index of the first X.0.0 that has it
  // The behaviour from that release on (applied to a Behaviour).
  void (*apply)(core::Behaviour&) = nullptr;
  // Whether upgrading for it can end an outage (a revert cannot).
  bool can_fix = true;
};

// The index of the known release 'name' (a series or codename, as
// parse_release takes); for rules written against a named release.
int release_index(std::string_view name);

// The changes lmh models, oldest first.
const std::vector<ReleaseChange>& release_changes();

// What a deployment's option did that its release could not honour
// (e.g. live_migration_events on queens, where no such option exists).
struct ReleaseNote {
  std::string option;
  std::string what;
};

// The behaviour switches of 'release' as shipped, with the deployment's
// choices where the release has the option; 'notes' gets each choice the
// release ignores. Switches no release changes (lmh's proposed fixes:
// pre_plug_vlan_uplink, lb_agent_honours_migrating_to,
// l2pop_on_binding_activate, dest_xml_bridge=destination) stay off.
core::Behaviour behaviour_of(const Release& release, const DeploymentChoices& choices,
                             std::vector<ReleaseNote>* notes = nullptr);

// nova [compute] live_migration_wait_for_vif_plug's default in 'release':
// no option before rocky (the source never waited), False in rocky, True
// from stein (nova 1a42eb9ec1).
bool default_wait_for_vif_plug(const Release& release);

// Linuxbridge in 'release': "" when neutron ships it as supported; else why
// a linuxbridge host cannot run it (experimental without
// [experimental] linuxbridge = True from zed, removed from 2025.1).
std::string linuxbridge_problem(const Release& release, bool experimental_enabled);

}  // namespace lmh::harness
