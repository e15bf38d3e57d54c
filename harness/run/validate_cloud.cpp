#include "harness/run/validate_cloud.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/libvirt_xml.h"
#include "harness/run/scenario_yaml.h"

namespace lmh::harness {
namespace {

using Json = nlohmann::ordered_json;

// What every cell shares: a silent guest (no traffic of its own after
// resume), a real gateway's ARP timers and a real switch's MAC ageing,
// a pre-copy longer than an agent's polling interval, as a real guest's,
// and the resume right after the destination agent's poll (the worst phase
// for every mechanism that waits for that agent).
constexpr int kPrecopyMs = 2500;
constexpr int kResumeAfterPollMs = 100;
constexpr int kObserveMs = 8000;
constexpr int kDefaultVxlanVni = 1001;
constexpr int kDefaultVlan = 100;

const char* short_backend(core::Backend b) {
  switch (b) {
    case core::Backend::kLinuxBridge: return "lb";
    case core::Backend::kOpenVswitch: return "ovs";
    case core::Backend::kOvn: return "ovn";
  }
  return "host";
}

// The mechanism driver neutron-server needs for 'b'.
const char* mechanism_driver(core::Backend b) {
  switch (b) {
    case core::Backend::kLinuxBridge: return "linuxbridge";
    case core::Backend::kOpenVswitch: return "openvswitch";
    case core::Backend::kOvn: return "ovn";
  }
  return "";
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool wait_for_vif_plug(const HostConfigFiles& h, const Release& r) {
  return h.nova.live_migration_wait_for_vif_plug.value_or(default_wait_for_vif_plug(r));
}

// The settings that make two hosts behave alike in a migration, as one
// line: equal lines, one class.
std::string class_key(const HostConfigFiles& h, const Release& r, const NeutronServerConfig& s) {
  std::vector<std::string> physnets;
  for (const auto& [p, _] : h.mappings) physnets.push_back(p);
  std::vector<std::string> tunnels(h.tunnel_types.begin(), h.tunnel_types.end());
  std::string k = fmt::format("{}", core::to_string(*h.backend));
  if (*h.backend == core::Backend::kOpenVswitch) k += h.firewall_driver == "iptables_hybrid" ? " hybrid-plug" : " plain-plug";
  if (!physnets.empty()) k += "; physnets " + join(physnets, ",");
  if (!tunnels.empty()) {
    k += "; tunnels " + join(tunnels, ",");
    if (h.tunnel_types.count("vxlan"))
      k += fmt::format(" (udp {}{}{})", h.vxlan_udp_port ? h.vxlan_udp_port : 8472,
                       h.l2_population && s.l2population ? ", l2pop" : "", h.arp_responder ? ", arp_responder" : "");
  }
  if (*h.backend != core::Backend::kOvn) k += fmt::format("; polling {} s", h.polling_interval_s);
  const auto& n = h.nova;
  k += fmt::format("; wait_for_vif_plug {}; vif_plugging {} s{}", wait_for_vif_plug(h, r) ? "true" : "false",
                   n.vif_plugging_timeout_s, n.vif_plugging_is_fatal ? " fatal" : " not fatal");
  k += fmt::format("; libvirt downtime {} ms/{} steps/{} s, completion {} s {}", n.libvirt.downtime_ms,
                   n.libvirt.downtime_steps, n.libvirt.downtime_delay_s, n.libvirt.completion_timeout_s_per_gib,
                   n.libvirt.timeout_action);
  if (n.announce_self.value_or(false))
    k += fmt::format("; announce_self x{} every {} s", n.announce_self_count.value_or(3),
                     n.announce_self_interval_s.value_or(1));
  return k;
}

// The lab's NIC for 'h': its configured interface when the lab can name
// one like it, else eth1 (the name does not change the behaviour).
std::string lab_nic(const HostConfigFiles& h, const std::string& physnet, int vlan) {
  if (*h.backend != core::Backend::kLinuxBridge) return "eth1";
  auto it = h.mappings.find(physnet);
  if (it == h.mappings.end()) return "eth1";
  const std::string& nic = it->second;
  // The uplink "<nic>.<vlan>" must fit IFNAMSIZ; '/', ':' and spaces are not in names.
  const bool usable = !nic.empty() && nic.size() + 1 + std::to_string(vlan).size() <= 15 &&
                      nic.find_first_of("/: \t") == std::string::npos && nic != "." && nic != "..";
  return usable ? nic : "eth1";
}

bool carries(const HostConfigFiles& h, const std::string& type, const std::string& physnet) {
  if (type == "vlan" || type == "flat") return h.mappings.count(physnet) > 0;
  return h.tunnel_types.count(type) > 0;
}

// The physnet of a 'type' network that both hosts map, "" when none.
std::string shared_physnet(const NeutronServerConfig& s, const std::string& type, const HostConfigFiles& a,
                           const HostConfigFiles& b) {
  std::vector<std::string> physnets;
  if (type == "vlan") {
    for (const auto& [p, _] : s.vlan_physnets) physnets.push_back(p);
  } else {
    for (const auto& p : s.flat_networks) {
      if (p == "*") {
        for (const auto& [q, _] : a.mappings) physnets.push_back(q);
      } else {
        physnets.push_back(p);
      }
    }
  }
  for (const auto& p : physnets)
    if (a.mappings.count(p) && b.mappings.count(p)) return p;
  return "";
}

// Whether a warm destination (one that already hosts the network) can
// behave differently from a cold one: a linuxbridge agent builds the
// network's bridge and uplink with its first port there, and a tunnel
// network's flood lists name only hosts that have ports.
bool warm_can_differ(const CellSpec& c) {
  return *c.destination->config.backend == core::Backend::kLinuxBridge || c.network_type == "vxlan" ||
         c.network_type == "geneve";
}

std::string yaml_bool(bool b) { return b ? "true" : "false"; }

std::string host_yaml(const std::string& name, const HostConfigFiles& h, const NeutronServerConfig& s,
                      bool wait_for_vif_plug, int vxlan_udp_port, const std::string& nic) {
  const auto& n = h.nova;
  std::string y = fmt::format("  - name: {}\n    backend: {}\n", name, core::to_string(*h.backend));
  if (*h.backend == core::Backend::kOpenVswitch) y += fmt::format("    firewall_driver: {}\n", h.firewall_driver);
  y += fmt::format("    physical_interface: {}\n", nic);
  y += fmt::format(
      "    agent: {{polling_interval_ms: {}, l2_population: {}, arp_responder: {}, udp_dstport: {}}}\n",
      h.polling_interval_s * 1000, yaml_bool(h.l2_population && s.l2population), yaml_bool(h.arp_responder),
      vxlan_udp_port);
  y += fmt::format(
      "    nova: {{live_migration_wait_for_vif_plug: {}, vif_plugging_timeout_s: {}, vif_plugging_is_fatal: {},\n"
      "           live_migration_downtime_ms: {}, live_migration_downtime_steps: {}, "
      "live_migration_downtime_delay_s: {},\n"
      "           live_migration_completion_timeout_s: {}, live_migration_timeout_action: {}}}\n",
      yaml_bool(wait_for_vif_plug), n.vif_plugging_timeout_s, yaml_bool(n.vif_plugging_is_fatal),
      n.libvirt.downtime_ms, n.libvirt.downtime_steps, n.libvirt.downtime_delay_s,
      n.libvirt.completion_timeout_s_per_gib, n.libvirt.timeout_action);
  return y;
}

// Why 'cls' cannot take part at all in 'release', "" when it can.
std::string class_blocked(const HostClass& cls, const Release& release, const NeutronServerConfig& s) {
  const core::Backend b = *cls.config.backend;
  if (b == core::Backend::kLinuxBridge)
    if (std::string why = linuxbridge_problem(release, s.experimental_linuxbridge); !why.empty()) return why;
  if (!contains(s.mechanism_drivers, mechanism_driver(b)))
    return fmt::format("port binding fails on {}: neutron-server's [ml2] mechanism_drivers ({}) has no {}", cls.name,
                       join(s.mechanism_drivers, ","), mechanism_driver(b));
  return "";
}

// The release's behaviour for a move to 'dst' (nova's announce_self runs
// on the destination).
core::Behaviour cell_behaviour(const Release& r, const NeutronServerConfig& s, const HostConfigFiles& dst,
                               std::vector<ReleaseNote>* notes) {
  DeploymentChoices choices{s.live_migration_events, s.ovn_activation_strategy, dst.nova.announce_self,
                            dst.nova.announce_self_count, dst.nova.announce_self_interval_s};
  return behaviour_of(r, choices, notes);
}

// The scenario of 'spec' and its file: what the cell's settings say,
// read by the scenario loader (a cell it refuses is one lmh cannot build
// yet, and its message says why), then written back with every key, so
// the file means the same whatever lmh's defaults become.
struct BuiltCell {
  Scenario scenario;
  std::string file;
};
StatusOr<BuiltCell> build_cell(const CloudPlan& plan, const CellSpec& spec, const std::string& note) {
  const std::string input = cell_yaml(plan, spec, note);
  LMH_ASSIGN_OR_RETURN(sc, parse_scenario(input, spec.name + ".yaml"));
  // The generator's header (where the cell comes from), then the scenario.
  std::string header;
  for (size_t at = 0; at < input.size() && input[at] == '#';) {
    size_t end = input.find('\n', at);
    header += input.substr(at, end - at + 1);
    at = end + 1;
  }
  return BuiltCell{sc, header + scenario_to_yaml(sc)};
}

std::string kind_name(core::MigrationKind k) { return core::to_string(k); }

}  // namespace

std::string cell_yaml(const CloudPlan& plan, const CellSpec& c, const std::string& note) {
  const Release& release = c.release;
  const HostConfigFiles& src = c.source->config;
  const HostConfigFiles& dst = c.destination->config;
  const bool tunnel = c.network_type == "vxlan" || c.network_type == "geneve";
  std::string y = fmt::format(
      "# Generated by lmh validate-cloud (release {}): {} ({}) -> {} ({}).\n"
      "# Rerun with: lmh run {}.yaml\n",
      release.display(), c.source->name, join(c.source->members, ", "), c.destination->name,
      join(c.destination->members, ", "), c.name);
  if (!note.empty()) y += "# " + note + "\n";
  y += fmt::format("name: {}\n", c.name);
  y += fmt::format(
      "description: >-\n  {} {} migration of a silent guest on a {} network from a {} host to a {} host "
      "that {} the network.\n",
      release.display(), kind_name(c.kind), c.network_type, c.source->name, c.destination->name,
      c.warm ? "already hosts" : "has never hosted");
  y += "tier: emulated\n";
  y += fmt::format("warm_destination: {}\n", yaml_bool(c.warm));
  y += "hosts:\n";
  y += host_yaml("src", src, plan.server, c.source_wait_for_vif_plug, c.source_vxlan_udp_port,
                 lab_nic(src, c.physnet, c.segmentation_id));
  y += host_yaml("dst", dst, plan.server, c.destination_wait_for_vif_plug, c.destination_vxlan_udp_port,
                 lab_nic(dst, c.physnet, c.segmentation_id));
  // A tunnel network's peer is a port on a third host, of the source's class.
  if (tunnel)
    y += host_yaml("by", src, plan.server, c.source_wait_for_vif_plug, c.source_vxlan_udp_port, "eth1");
  y += "fabric:\n  mac_ageing_s: 300\n";
  y += fmt::format("network:\n  type: {}\n", c.network_type);
  if (!tunnel) y += fmt::format("  physnet: {}\n", c.physnet);
  if (c.network_type != "flat") y += fmt::format("  segmentation_id: {}\n", c.segmentation_id);
  y += "guest:\n  ip: 198.18.0.10\n";
  y += "peer:\n  ip: 198.18.0.1\n";
  if (tunnel) y += "  host: by\n";
  y += fmt::format("migration:\n  source: src\n  destination: dst\n  kind: {}\n  precopy_ms: {}\n  pause_ms: 30\n",
                   kind_name(c.kind), kPrecopyMs);
  if (c.kind == core::MigrationKind::kLive && *dst.backend != core::Backend::kOvn)
    y += fmt::format("  resume_after_dest_poll_ms: {}\n", kResumeAfterPollMs);
  y += fmt::format("probe:\n  interval_ms: 5\n  reply_timeout_ms: 1000\n  settle_ms: 1000\n  observe_ms: {}\n",
                   kObserveMs);
  const core::Behaviour& b = c.behaviour;
  y += "behaviour:\n";
  y += fmt::format("  pre_plug_vlan_uplink: {}\n", yaml_bool(b.pre_plug_vlan_uplink));
  y += fmt::format("  vif_plugged_from_agent_only: {}\n", yaml_bool(b.vif_plugged_from_agent_only));
  y += fmt::format("  lb_agent_honours_migrating_to: {}\n", yaml_bool(b.lb_agent_honours_migrating_to));
  y += fmt::format("  ovs_agent_wires_migrating_to: {}\n", yaml_bool(b.ovs_agent_wires_migrating_to));
  y += fmt::format("  l2pop_on_binding_activate: {}\n", yaml_bool(b.l2pop_on_binding_activate));
  y += fmt::format("  ovn_multichassis_binding: {}\n", yaml_bool(b.ovn_multichassis_binding));
  y += fmt::format("  ovn_activation_strategy: {}\n",
                   b.ovn_activation_strategy.empty() ? "none" : b.ovn_activation_strategy);
  y += fmt::format("  wait_only_for_plug_time_events: {}\n", yaml_bool(b.wait_only_for_plug_time_events));
  y += fmt::format("  dest_xml_bridge: {}\n", core::dest_xml_bridge_name(b.dest_xml_bridge));
  y += fmt::format("  announce_self_after_migration: {}\n", yaml_bool(b.announce_self_after_migration));
  y += fmt::format("  announce_self_count: {}\n", b.announce_self_count);
  y += fmt::format("  announce_self_interval_ms: {}\n", b.announce_self_interval_ms);
  y += fmt::format("expect:\n  max_downtime_ms: {}\n  recover_within_ms: {}\n", plan.max_downtime_ms,
                   kObserveMs - 1000);
  return y;
}

StatusOr<CloudPlan> plan_cloud_validation(const ValidateOptions& options) {
  CloudPlan plan;
  plan.max_downtime_ms = options.max_downtime_ms;
  LMH_ASSIGN_OR_RETURN(release, parse_release(options.release));
  plan.release = release;
  if (!options.target_release.empty()) {
    LMH_ASSIGN_OR_RETURN(target, parse_release(options.target_release));
    if (target.index <= release.index)
      return invalid_argument("--target-release " + target.display() + " is not newer than --release " +
                              release.display());
    plan.target = target;
  }
  if (options.compute_dirs.empty()) return invalid_argument("validate-cloud needs at least one --compute DIR");

  std::vector<ConfigDir> dirs;
  for (const auto& d : options.compute_dirs) {
    LMH_ASSIGN_OR_RETURN(dir, read_config_dir(d));
    dirs.push_back(std::move(dir));
  }
  std::optional<ConfigDir> controller;
  if (!options.controller_dir.empty()) {
    LMH_ASSIGN_OR_RETURN(dir, read_config_dir(options.controller_dir));
    controller = std::move(dir);
  }
  std::vector<const ConfigDir*> server_dirs;
  if (controller) {
    server_dirs.push_back(&*controller);
  } else {
    for (const auto& d : dirs) server_dirs.push_back(&d);
  }
  LMH_ASSIGN_OR_RETURN(server, neutron_server_config(server_dirs));
  plan.server = std::move(server);
  plan.notes = plan.server.notes;

  std::set<std::string> names;
  for (const auto& d : dirs) {
    LMH_ASSIGN_OR_RETURN(h, host_config(d));
    if (!h.backend)
      return invalid_argument(d.dir +
                              ": no L2 backend found: expected linuxbridge_agent.ini, openvswitch_agent.ini, their "
                              "sections in ml2_conf.ini, or ovs_external_ids with OVN settings");
    if (!names.insert(h.name).second)
      return invalid_argument(d.dir + ": host '" + h.name + "' is given twice (names come from [DEFAULT] host or the "
                              "directory name)");
    for (const auto& n : h.notes) plan.notes.push_back({n.where, n.option, h.name + ": " + n.what});
    if (h.l2_population && !plan.server.l2population)
      plan.notes.push_back({"", "l2_population",
                            h.name + ": the agent enables it but neutron-server's mechanism_drivers has no "
                                     "l2population: no fdb updates reach it (modelled as off)"});
    plan.hosts.push_back(std::move(h));
  }

  std::vector<std::string> types = plan.server.type_drivers;
  if (!options.network_types.empty()) {
    for (const auto& t : options.network_types)
      if (!contains(types, t))
        return invalid_argument("--network-types " + t + ": the cloud's [ml2] type_drivers are " + join(types, ","));
    types = options.network_types;
  }

  // Classes: hosts with equal relevant settings, in the order first seen.
  std::map<std::string, size_t> by_key;
  std::map<core::Backend, int> per_backend;
  for (const auto& h : plan.hosts) {
    std::string key = class_key(h, plan.release, plan.server);
    auto [it, fresh] = by_key.emplace(key, plan.classes.size());
    if (fresh) {
      HostClass c;
      c.name = fmt::format("{}-{}", short_backend(*h.backend), ++per_backend[*h.backend]);
      c.config = h;
      c.summary = key;
      plan.classes.push_back(std::move(c));
    }
    plan.classes[it->second].members.push_back(h.name);
  }

  // Every ordered pair of classes, and a class with itself when it has two
  // hosts or more.
  std::set<std::string> release_notes_seen;
  for (const auto& from : plan.classes) {
    for (const auto& to : plan.classes) {
      if (&from == &to && from.members.size() < 2) continue;
      for (const auto& type : types) {
        for (core::MigrationKind kind : options.kinds) {
          for (bool warm : {false, true}) {
            Cell cell;
            CellSpec& c = cell.spec;
            c.release = plan.release;
            c.source = &from;
            c.destination = &to;
            c.network_type = type;
            c.kind = kind;
            c.warm = warm;
            c.name = fmt::format("{}_to_{}.{}.{}.{}", from.name, to.name, type, kind_name(kind), warm ? "warm" : "cold");
            if (type == "vlan" || type == "flat") {
              c.physnet = shared_physnet(plan.server, type, from.config, to.config);
              auto r = plan.server.vlan_physnets.find(c.physnet);
              c.segmentation_id = type == "flat" ? 0 : (r != plan.server.vlan_physnets.end() ? r->second : kDefaultVlan);
              // The lab's underlay VLAN is 4000; a cloud's first VLAN there moves.
              if (c.segmentation_id <= 0 || c.segmentation_id >= 4000) c.segmentation_id = kDefaultVlan;
            } else {
              int first = type == "geneve" ? plan.server.first_geneve_vni : plan.server.first_vxlan_vni;
              c.segmentation_id = first > 0 ? first : kDefaultVxlanVni;
            }
            if (warm && !warm_can_differ(c)) continue;
            // Only what both hosts can carry is a cell at all.
            const bool physical = type == "vlan" || type == "flat";
            if (physical ? c.physnet.empty() : !(carries(from.config, type, "") && carries(to.config, type, "")))
              continue;
            std::vector<ReleaseNote> rnotes;
            c.behaviour = cell_behaviour(plan.release, plan.server, to.config, &rnotes);
            for (const auto& n : rnotes)
              if (release_notes_seen.insert(n.option + n.what).second)
                plan.notes.push_back({"", n.option, n.what});
            c.source_wait_for_vif_plug = wait_for_vif_plug(from.config, plan.release);
            c.source_vxlan_udp_port = from.config.vxlan_udp_port;
            c.destination_vxlan_udp_port = to.config.vxlan_udp_port;
            c.destination_wait_for_vif_plug = wait_for_vif_plug(to.config, plan.release);

            std::string blocked = class_blocked(from, plan.release, plan.server);
            if (blocked.empty()) blocked = class_blocked(to, plan.release, plan.server);
            if (type != "vlan" && type != "flat" && type != "vxlan" && type != "geneve") {
              cell.status = CellStatus::kNotCovered;
              cell.reason = "lmh does not model " + type + " networks";
            } else if (!blocked.empty()) {
              cell.status = CellStatus::kBlocked;
              cell.reason = blocked;
            } else if (auto built = build_cell(plan, c, ""); built.ok()) {
              cell.scenario = std::move(built->scenario);
              cell.yaml = std::move(built->file);
            } else {
              cell.status = CellStatus::kNotCovered;
              cell.reason = built.status().message();
            }
            if (plan.target && cell.status == CellStatus::kRun) {
              std::string why = class_blocked(from, *plan.target, plan.server);
              if (why.empty()) why = class_blocked(to, *plan.target, plan.server);
              if (!why.empty()) {
                cell.target_blocked = why;
              } else {
                CellSpec t = c;
                t.release = *plan.target;
                t.behaviour = cell_behaviour(*plan.target, plan.server, to.config, nullptr);
                t.source_wait_for_vif_plug = wait_for_vif_plug(from.config, *plan.target);
                t.destination_wait_for_vif_plug = wait_for_vif_plug(to.config, *plan.target);
                t.name = c.name + ".target";
                if (auto built = build_cell(plan, t, "at the target release"); built.ok()) {
                  cell.target_scenario = std::move(built->scenario);
                  cell.target_yaml = std::move(built->file);
                } else {
                  cell.target_blocked = built.status().message();
                }
              }
            }
            plan.cells.push_back(std::move(cell));
          }
        }
      }
    }
  }
  return plan;
}

std::vector<FixCandidate> fix_candidates(const CloudPlan& plan, const CellSpec& cell) {
  std::vector<FixCandidate> out;
  const core::Backend src = *cell.source->config.backend;
  const core::Backend dst = *cell.destination->config.backend;
  const bool tunnel = cell.network_type == "vxlan" || cell.network_type == "geneve";
  auto involves = [&](core::Backend b) { return src == b || dst == b; };
  // Upgrades: each later release row alone, relevant to these backends.
  for (const ReleaseChange& rc : release_changes()) {
    if (rc.first_release <= plan.release.index || !rc.can_fix) continue;
    if (rc.switch_name == "ovn_multichassis_binding" && !involves(core::Backend::kOvn)) continue;
    const Release& r = known_releases()[rc.first_release];
    auto apply = rc.apply;
    out.push_back({fmt::format("upgrade to {} ({} {}{}{})", r.display(), rc.project, rc.commit,
                               rc.bug.empty() ? "" : ", ", rc.bug),
                   [apply](CellSpec& c) { apply(c.behaviour); }});
  }
  // Options of the cloud's own release.
  if (plan.release.index >= release_index("wallaby") && plan.release.index < release_index("zed") &&
      !cell.behaviour.vif_plugged_from_agent_only)
    out.push_back({"neutron.conf [nova] live_migration_events = True (neutron f8a22c7d4a, LP#1901707)",
                   [](CellSpec& c) {
                     c.behaviour.vif_plugged_from_agent_only = true;
                     c.behaviour.ovs_agent_wires_migrating_to = true;
                   }});
  if (!cell.behaviour.announce_self_after_migration) {
    const bool has_option = plan.release.index >= release_index("yoga");
    const int count = plan.release.index >= release_index("2023.1") ? 3 : 1;
    out.push_back({fmt::format("{}nova.conf [workarounds] enable_qemu_monitor_announce_self = True on the "
                               "destination (nova d44e24efe2, LP#1815989)",
                               has_option ? "" : "upgrade to yoga and set "),
                   [count](CellSpec& c) {
                     c.behaviour.announce_self_after_migration = true;
                     c.behaviour.announce_self_count = count;
                   }});
  }
  if (!cell.destination_wait_for_vif_plug && plan.release.index >= release_index("rocky"))
    out.push_back({"nova.conf [compute] live_migration_wait_for_vif_plug = True on the destination",
                   [](CellSpec& c) { c.destination_wait_for_vif_plug = true; }});
  // Seed 000's second fault: the linuxbridge agent leaves the kernel's
  // 8472 unless told, openvswitch uses 4789. One port for both is a config
  // change on the side that differs from the openvswitch one.
  auto effective_port = [](core::Backend b, int port) {
    return port ? port : (b == core::Backend::kLinuxBridge ? 8472 : 4789);
  };
  const int src_port = effective_port(src, cell.source_vxlan_udp_port);
  const int dst_port = effective_port(dst, cell.destination_vxlan_udp_port);
  if (cell.network_type == "vxlan" && src_port != dst_port) {
    const bool change_source = src == core::Backend::kLinuxBridge && dst != core::Backend::kLinuxBridge;
    const HostClass& changed = change_source ? *cell.source : *cell.destination;
    const int port = change_source ? dst_port : src_port;
    const bool lb = *changed.config.backend == core::Backend::kLinuxBridge;
    out.push_back({fmt::format("{} {} = {} on {}", lb ? "linuxbridge_agent.ini [vxlan]" : "openvswitch_agent.ini [agent]",
                               lb ? "udp_dstport" : "vxlan_udp_port", port, changed.name),
                   [change_source, port](CellSpec& c) {
                     (change_source ? c.source_vxlan_udp_port : c.destination_vxlan_udp_port) = port;
                   }});
  }
  // lmh's proposed fixes: no upstream release ships them.
  if (src != dst && cell.behaviour.dest_xml_bridge == core::DestXmlBridge::kSource)
    out.push_back({"no upstream fix: the destination XML takes the bridge from the destination binding's vif_details "
                   "(seed 000's patch; lmh dest_xml_bridge=destination)",
                   [](CellSpec& c) { c.behaviour.dest_xml_bridge = core::DestXmlBridge::kDestination; }});
  if (dst == core::Backend::kLinuxBridge && cell.network_type == "vlan")
    out.push_back({"no upstream fix: os-vif ensure_vlan_bridge in pre_live_migration (lmh pre_plug_vlan_uplink)",
                   [](CellSpec& c) { c.behaviour.pre_plug_vlan_uplink = true; }});
  if (dst == core::Backend::kLinuxBridge)
    out.push_back({"no upstream fix: the linuxbridge agent wires a port migrating to its host "
                   "(downstream, lmh lb_agent_honours_migrating_to)",
                   [](CellSpec& c) { c.behaviour.lb_agent_honours_migrating_to = true; }});
  if (tunnel && dst != core::Backend::kOvn)
    out.push_back({"no upstream fix: l2population sends the new location at binding activation "
                   "(lmh l2pop_on_binding_activate; with linuxbridge also lb_agent_honours_migrating_to)",
                   [dst](CellSpec& c) {
                     c.behaviour.l2pop_on_binding_activate = true;
                     if (dst == core::Backend::kLinuxBridge) c.behaviour.lb_agent_honours_migrating_to = true;
                   }});
  return out;
}

std::string cell_mechanism(const reports::ScenarioResult& r) {
  std::vector<std::string> broken;
  for (const auto& inv : r.invariants)
    if (!inv.ok) broken.push_back("invariant " + inv.name + ": " + inv.detail);
  if (!broken.empty()) return join(broken, "; ");
  if (r.verdict == reports::Verdict::kError) return r.verdict_reason;
  // A migration that did not complete (rolled back, timed out) is the finding.
  if (!r.migration_status.empty() && r.migration_status != "completed")
    return "migration ended " + r.migration_status + ": " + r.verdict_reason;
  // Whether the guest's announces got out is the first question of every
  // outage after a live migration.
  std::string announces;
  if (!r.announces.empty()) {
    int out = 0;
    for (const auto& a : r.announces)
      out += std::any_of(a.seen_at.begin(), a.seen_at.end(),
                         [](const std::string& p) { return p.find("fabric") != std::string::npos; });
    announces = fmt::format("{}/{} announces reached the fabric; ", out, r.announces.size());
  }
  if (!r.metrics.recovery_ms) return announces + "not recovered";
  return fmt::format("{}recovered by {} {:.0f} ms after resume", announces, r.recovery_cause, *r.metrics.recovery_ms);
}

namespace {

// How far a run is from passing: its broken invariants, then its downtime.
struct Distance {
  int broken = 0;
  double downtime_ms = 0;
};
Distance distance(const reports::ScenarioResult& r) {
  Distance d{0, r.metrics.downtime_ms};
  for (const auto& inv : r.invariants) d.broken += !inv.ok;
  return d;
}
// Whether 'd' is clearly closer than 'best': fewer broken invariants, or
// as many and a downtime shorter by 100 ms and a fifth at least (not noise).
bool closer(const Distance& d, const Distance& best) {
  if (d.broken != best.broken) return d.broken < best.broken;
  return d.downtime_ms < best.downtime_ms - std::max(100.0, best.downtime_ms * 0.2);
}

using RunAttempt = std::function<StatusOr<reports::ScenarioResult>(const Scenario&)>;

// The fix search of one failing cell. Candidates are tried one at a time
// on top of those already kept; one that passes ends the search, one that
// brings the run clearly closer is kept and the search restarts (an
// outage can have two causes: seed 000's wrong bridge, then the agent's
// late wiring). Chains that fixed another cell between the same classes
// ('known') are tried first.
Status search_fix(const CloudPlan& plan, const Cell& cell, const reports::ScenarioResult& as_shipped,
                  const RunAttempt& attempt, std::vector<std::vector<std::string>>& known, CellOutcome& o) {
  const auto candidates = fix_candidates(plan, cell.spec);
  auto index_of = [&](const std::string& label) -> std::optional<size_t> {
    for (size_t i = 0; i < candidates.size(); ++i)
      if (candidates[i].label == label) return i;
    return std::nullopt;
  };
  // Runs the cell with 'chain' applied; true when it passes.
  auto run_chain = [&](const std::vector<size_t>& chain, reports::ScenarioResult* out) -> StatusOr<bool> {
    CellSpec spec = cell.spec;
    std::vector<std::string> labels;
    for (size_t i : chain) {
      candidates[i].apply(spec);
      labels.push_back(candidates[i].label);
    }
    const std::string label = join(labels, " + ");
    spec.name = cell.spec.name + ".fix" + std::to_string(o.fixes_tried.size() + 1);
    auto built = build_cell(plan, spec, "fix tried: " + label);
    if (!built.ok()) {
      o.fixes_tried.push_back(label + ": not covered (" + built.status().message() + ")");
      return false;
    }
    LMH_ASSIGN_OR_RETURN(r, attempt(built->scenario));
    o.fixes_tried.push_back(
        fmt::format("{}: {}, downtime {:.1f} ms", label, reports::to_string(r.verdict), r.metrics.downtime_ms));
    if (r.verdict != reports::Verdict::kPass) {
      *out = std::move(r);
      return false;
    }
    o.fix = label;
    o.fix_yaml = built->file;
    known.push_back(labels);
    return true;
  };
  reports::ScenarioResult r;
  for (const auto& labels : std::vector<std::vector<std::string>>(known)) {
    std::vector<size_t> chain;
    for (const auto& l : labels)
      if (auto i = index_of(l)) chain.push_back(*i);
    if (chain.size() != labels.size()) continue;
    LMH_ASSIGN_OR_RETURN(passed, run_chain(chain, &r));
    if (passed) return ok_status();
  }
  std::vector<size_t> kept;
  std::vector<bool> used(candidates.size(), false);
  Distance best = distance(as_shipped);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (used[i]) continue;
      std::vector<size_t> chain = kept;
      chain.push_back(i);
      LMH_ASSIGN_OR_RETURN(passed, run_chain(chain, &r));
      if (passed) return ok_status();
      if (closer(distance(r), best)) {
        best = distance(r);
        kept = chain;
        used[i] = true;
        progress = true;
        break;
      }
    }
  }
  return ok_status();
}

}  // namespace

StatusOr<ValidationResult> run_cloud_validation(const CloudPlan& plan, const CellRunner& run, bool find_fixes) {
  ValidationResult out;
  RunAttempt attempt = [&](const Scenario& sc) -> StatusOr<reports::ScenarioResult> {
    auto r = run(sc);
    if (!r.ok() && r.status().code() == StatusCode::kCancelled) return r.status();
    if (r.ok()) return r;
    reports::ScenarioResult err;
    err.name = sc.display_name();
    err.verdict = reports::Verdict::kError;
    err.verdict_reason = r.status().message();
    return err;
  };
  // Fix chains that worked, per (source class, destination class).
  std::map<std::pair<std::string, std::string>, std::vector<std::vector<std::string>>> known;
  for (const Cell& cell : plan.cells) {
    CellOutcome o;
    o.cell = cell.spec.name;
    if (cell.status == CellStatus::kRun) {
      LMH_ASSIGN_OR_RETURN(shipped, attempt(*cell.scenario));
      o.mechanism = cell_mechanism(shipped);
      o.as_shipped = std::move(shipped);
      if (cell.target_scenario) {
        LMH_ASSIGN_OR_RETURN(target, attempt(*cell.target_scenario));
        o.target = std::move(target);
      }
      if (find_fixes && o.as_shipped->verdict == reports::Verdict::kFail)
        LMH_RETURN_IF_ERROR(search_fix(plan, cell, *o.as_shipped, attempt,
                                       known[{cell.spec.source->name, cell.spec.destination->name}], o));
    }
    out.outcomes.push_back(std::move(o));
  }
  return out;
}

namespace {

const char* status_word(CellStatus s) {
  switch (s) {
    case CellStatus::kRun: return "run";
    case CellStatus::kNotCovered: return "not_covered";
    case CellStatus::kBlocked: return "blocked";
  }
  return "run";
}

Json result_json(const reports::ScenarioResult& r) {
  Json j;
  j["verdict"] = reports::to_string(r.verdict);
  j["verdict_reason"] = r.verdict_reason;
  j["downtime_ms"] = r.metrics.downtime_ms;
  j["recovery_ms"] = r.metrics.recovery_ms ? Json(*r.metrics.recovery_ms) : Json(nullptr);
  j["recovery_cause"] = r.recovery_cause;
  j["mechanism"] = cell_mechanism(r);
  return j;
}

std::string verdict_cell(const std::optional<reports::ScenarioResult>& r) {
  if (!r) return "-";
  return fmt::format("{} {:.0f}", reports::to_string(r->verdict), r->metrics.downtime_ms);
}

}  // namespace

std::string validation_json(const CloudPlan& plan, const ValidationResult& result) {
  Json j;
  j["release"] = plan.release.display();
  j["target_release"] = plan.target ? Json(plan.target->display()) : Json(nullptr);
  j["max_downtime_ms"] = plan.max_downtime_ms;
  Json server;
  server["mechanism_drivers"] = plan.server.mechanism_drivers;
  server["type_drivers"] = plan.server.type_drivers;
  server["l2population"] = plan.server.l2population;
  j["neutron_server"] = server;
  j["classes"] = Json::array();
  for (const auto& c : plan.classes)
    j["classes"].push_back({{"name", c.name}, {"backend", core::to_string(*c.config.backend)},
                            {"members", c.members}, {"settings", c.summary}});
  j["notes"] = Json::array();
  for (const auto& n : plan.notes) j["notes"].push_back({{"where", n.where}, {"option", n.option}, {"what", n.what}});
  j["cells"] = Json::array();
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    const Cell& cell = plan.cells[i];
    const CellOutcome* o = i < result.outcomes.size() ? &result.outcomes[i] : nullptr;
    Json c;
    c["name"] = cell.spec.name;
    c["source_class"] = cell.spec.source->name;
    c["destination_class"] = cell.spec.destination->name;
    c["network_type"] = cell.spec.network_type;
    c["kind"] = kind_name(cell.spec.kind);
    c["destination"] = cell.spec.warm ? "warm" : "cold";
    c["status"] = status_word(cell.status);
    c["reason"] = cell.reason;
    c["scenario_file"] = cell.status == CellStatus::kRun ? Json("cells/" + cell.spec.name + ".yaml") : Json(nullptr);
    c["as_shipped"] = o && o->as_shipped ? result_json(*o->as_shipped) : Json(nullptr);
    c["target"] = o && o->target ? result_json(*o->target) : Json(nullptr);
    c["target_blocked"] = cell.target_blocked;
    c["fix"] = o && !o->fix.empty() ? Json(o->fix) : Json(nullptr);
    c["fix_scenario_file"] = o && !o->fix.empty() ? Json("cells/" + cell.spec.name + ".fix.yaml") : Json(nullptr);
    c["fixes_tried"] = o ? Json(o->fixes_tried) : Json::array();
    j["cells"].push_back(std::move(c));
  }
  return j.dump(2) + "\n";
}

std::string validation_table(const CloudPlan& plan, const ValidationResult& result) {
  std::string out = fmt::format("lmh validate-cloud: release {}{}, {} hosts in {} classes\n\n", plan.release.display(),
                                plan.target ? " -> " + plan.target->display() : "", plan.hosts.size(),
                                plan.classes.size());
  out += fmt::format("{:<8} {:<24} {}\n", "CLASS", "HOSTS", "SETTINGS");
  for (const auto& c : plan.classes) out += fmt::format("{:<8} {:<24} {}\n", c.name, join(c.members, ","), c.summary);
  out += fmt::format("\n{:<16} {:<7} {:<6} {:<5} {:<14} {:<14} {}\n", "SOURCE -> DEST", "NET", "KIND", "DEST",
                     "AS SHIPPED ms", plan.target ? "TARGET ms" : "", "MECHANISM / FIX");
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    const Cell& cell = plan.cells[i];
    const CellOutcome& o = result.outcomes[i];
    std::string pair = cell.spec.source->name + " -> " + cell.spec.destination->name;
    std::string what;
    std::string shipped;
    if (cell.status != CellStatus::kRun) {
      shipped = status_word(cell.status);
      what = cell.reason;
    } else {
      shipped = verdict_cell(o.as_shipped);
      what = o.mechanism;
      if (!o.fix.empty()) what += "; fix: " + o.fix;
      else if (o.as_shipped && o.as_shipped->verdict == reports::Verdict::kFail && !o.fixes_tried.empty())
        what += "; no single known fix (see validation.json)";
    }
    std::string target = plan.target ? (!cell.target_blocked.empty() ? "blocked" : verdict_cell(o.target)) : "";
    out += fmt::format("{:<16} {:<7} {:<6} {:<5} {:<14} {:<14} {}\n", pair, cell.spec.network_type,
                       kind_name(cell.spec.kind), cell.spec.warm ? "warm" : "cold", shipped, target, what);
    if (plan.target && !cell.target_blocked.empty()) out += fmt::format("{:<16} target: {}\n", "", cell.target_blocked);
  }
  if (!plan.notes.empty()) {
    out += "\nnotes (options read but not honoured):\n";
    for (const auto& n : plan.notes)
      out += fmt::format("  {}{}: {}\n", n.where.empty() ? "" : n.where + ": ", n.option, n.what);
  }
  return out;
}

int validation_exit_code(const CloudPlan& plan, const ValidationResult& result) {
  int code = 0;
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    const Cell& cell = plan.cells[i];
    if (cell.status == CellStatus::kBlocked) code = std::max(code, 1);
    if (plan.target && !cell.target_blocked.empty() && cell.status == CellStatus::kRun) code = std::max(code, 1);
    const CellOutcome& o = result.outcomes[i];
    const auto& gate = plan.target ? o.target : o.as_shipped;
    if (!gate) continue;
    if (gate->verdict == reports::Verdict::kError) return 3;
    if (gate->verdict == reports::Verdict::kFail) code = 1;
  }
  return code;
}

}  // namespace lmh::harness
