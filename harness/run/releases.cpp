#include "harness/run/releases.h"

#include <algorithm>
#include <cctype>

namespace lmh::harness {
namespace {

// Release indices the rules below name.
constexpr int kStein = 2;
constexpr int kWallaby = 6;
constexpr int kYoga = 8;
constexpr int kZed = 9;
constexpr int kAntelope = 10;
constexpr int kEpoxy = 14;
constexpr int kFlamingo = 15;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

const std::vector<Release>& known_releases() {
  // Series -> neutron and nova majors (merge-base of each stable branch
  // with master, docs/upstream/release-behaviour-table.md).
  static const std::vector<Release> kReleases = [] {
    const std::vector<std::pair<std::string, std::string>> names = {
        {"queens", "queens"}, {"rocky", "rocky"},       {"stein", "stein"},       {"train", "train"},
        {"ussuri", "ussuri"}, {"victoria", "victoria"}, {"wallaby", "wallaby"},   {"xena", "xena"},
        {"yoga", "yoga"},     {"zed", "zed"},           {"2023.1", "antelope"},   {"2023.2", "bobcat"},
        {"2024.1", "caracal"}, {"2024.2", "dalmatian"}, {"2025.1", "epoxy"},      {"2025.2", "flamingo"},
        {"2026.1", "gazpacho"}};
    std::vector<Release> out;
    for (size_t i = 0; i < names.size(); ++i) {
      const int n = static_cast<int>(i);
      out.push_back({n, names[i].first, names[i].second, 12 + n, 17 + n});
    }
    return out;
  }();
  return kReleases;
}

StatusOr<Release> parse_release(std::string_view name) {
  const std::string wanted = lower(name);
  std::string known;
  for (const Release& r : known_releases()) {
    if (wanted == r.name || wanted == r.codename || wanted == r.name + " " + r.codename) return r;
    known += (known.empty() ? "" : ", ") + r.display();
  }
  return invalid_argument("unknown release '" + std::string(name) + "' (known: " + known + ")");
}

int release_index(std::string_view name) {
  auto r = parse_release(name);
  return r.ok() ? r->index : -1;
}

const std::vector<ReleaseChange>& release_changes() {
  static const std::vector<ReleaseChange> kChanges = {
      {"wait_only_for_plug_time_events",
       "in pre-live-migration nova waits only for VIFs that send network-vif-plugged when plugged (hybrid plug)",
       "nova", "8b33ac0644", "LP#1901707", kWallaby,
       [](core::Behaviour& b) { b.wait_only_for_plug_time_events = true; }},
      {"vif_plugged_from_agent_only",
       "network-vif-plugged during a live migration only from the L2 agent, and the OVS agent wires a "
       "port migrating to its host before activation (unconditional; opt-in from wallaby with "
       "neutron.conf [nova] live_migration_events)",
       "neutron", "9025f8a571", "LP#1901707", kZed,
       [](core::Behaviour& b) {
         b.vif_plugged_from_agent_only = true;
         b.ovs_agent_wires_migrating_to = true;
       }},
      {"ovn_multichassis_binding",
       "ML2/OVN binds a migrating port to both chassis (requested-chassis src,dst, activation-strategy "
       "rarp)",
       "neutron", "35fade3b5f", "", kZed,
       [](core::Behaviour& b) {
         b.ovn_multichassis_binding = true;
         b.ovn_activation_strategy = "rarp";
       }},
      {"wait_only_for_plug_time_events",
       "nova waits for every VIF's network-vif-plugged again",
       "nova", "691d47e936", "LP#2073254", kFlamingo,
       [](core::Behaviour& b) { b.wait_only_for_plug_time_events = false; }, /*can_fix=*/false},
  };
  return kChanges;
}

core::Behaviour behaviour_of(const Release& release, const DeploymentChoices& choices,
                             std::vector<ReleaseNote>* notes) {
  auto note = [&](const std::string& option, const std::string& what) {
    if (notes != nullptr) notes->push_back({option, what});
  };
  core::Behaviour b;
  // Before any row: queens as shipped. The destination XML's bridge stays
  // the source VIF's network.bridge in every release: nova 2b52cde565
  // (rocky) takes only the vif type and details from the destination
  // binding (docs/upstream/release-behaviour-table.md, section 5).
  b.dest_xml_bridge = core::DestXmlBridge::kSource;
  b.vif_plugged_from_agent_only = false;
  b.ovs_agent_wires_migrating_to = false;
  b.ovn_multichassis_binding = false;
  b.wait_only_for_plug_time_events = false;
  b.ovn_activation_strategy = "rarp";
  b.announce_self_after_migration = false;
  for (const ReleaseChange& c : release_changes())
    if (release.index >= c.first_release) c.apply(b);

  if (choices.live_migration_events) {
    if (release.index < kWallaby) {
      note("neutron.conf [nova] live_migration_events",
           "neutron " + std::to_string(release.neutron_major) + ".x has no such option (neutron f8a22c7d4a, wallaby)");
    } else if (release.index < kZed) {
      b.vif_plugged_from_agent_only = *choices.live_migration_events;
      b.ovs_agent_wires_migrating_to = *choices.live_migration_events;
    } else {
      note("neutron.conf [nova] live_migration_events",
           "removed in zed (neutron 9025f8a571): the behaviour is always on");
    }
  }
  if (choices.ovn_activation_strategy) {
    if (release.index < kEpoxy) {
      note("ml2_conf.ini [ovn] live_migration_activation_strategy",
           "no such option before 2025.1 (neutron 949b098626): the strategy is rarp");
    } else {
      b.ovn_activation_strategy = *choices.ovn_activation_strategy;
    }
  }
  if (choices.announce_self.value_or(false)) {
    if (release.index < kYoga) {
      note("nova.conf [workarounds] enable_qemu_monitor_announce_self",
           "no such option before yoga (nova d44e24efe2)");
    } else {
      b.announce_self_after_migration = true;
      // One announce until 2023.1 made count and interval options (nova fba851bf3a).
      b.announce_self_count = 1;
      if (release.index >= kAntelope) {
        b.announce_self_count = choices.announce_self_count.value_or(3);
        b.announce_self_interval_ms = choices.announce_self_interval_s.value_or(1) * 1000;
      }
    }
  }
  if (release.index < kAntelope && (choices.announce_self_count || choices.announce_self_interval_s))
    note("nova.conf [workarounds] qemu_monitor_announce_self_count/_interval",
         "no such options before 2023.1 (nova fba851bf3a): one announce");
  return b;
}

bool default_wait_for_vif_plug(const Release& release) { return release.index >= kStein; }

std::string linuxbridge_problem(const Release& release, bool experimental_enabled) {
  if (release.index >= kEpoxy)
    return "neutron " + std::to_string(release.neutron_major) +
           " has no linuxbridge driver (removed in 2025.1 epoxy, neutron 25d0273588)";
  if (release.index >= kZed && !experimental_enabled)
    return "neutron-server exits at start: linuxbridge is experimental from zed (neutron 7f0413c84c) and "
           "[experimental] linuxbridge = True is not set";
  return "";
}

}  // namespace lmh::harness
