#include "harness/run/cloud_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lmh::harness {
namespace {

namespace fs = std::filesystem;

// The files validate-cloud reads, by their deployed names.
const std::vector<std::string>& known_files() {
  static const std::vector<std::string> kFiles = {"nova.conf", "neutron.conf", "ml2_conf.ini",
                                                  "linuxbridge_agent.ini", "openvswitch_agent.ini"};
  return kFiles;
}
constexpr const char* kOvsExternalIds = "ovs_external_ids";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

StatusOr<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalid_argument(path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Typed reads of one service's configuration (OsloConfig over its files),
// with errors naming the file and line of the value.
class Options {
 public:
  explicit Options(OsloConfig config) : config_(std::move(config)) {}

  StatusOr<std::optional<OsloConfig::Value>> raw(const std::string& group, const std::string& key) const {
    return config_.get(group, key);
  }
  StatusOr<std::optional<std::string>> text(const std::string& group, const std::string& key) const {
    auto v = config_.get(group, key);
    if (!v.ok()) return v.status();
    if (!*v) return std::optional<std::string>{};
    return std::optional<std::string>{(*v)->text};
  }
  StatusOr<std::optional<bool>> boolean(const std::string& group, const std::string& key) const {
    auto v = config_.get(group, key);
    if (!v.ok()) return v.status();
    if (!*v) return std::optional<bool>{};
    auto b = oslo_bool((*v)->text);
    if (!b.ok()) return located(**v, group, key, b.status());
    return std::optional<bool>{*b};
  }
  StatusOr<std::optional<int>> integer(const std::string& group, const std::string& key, long long min,
                                       long long max) const {
    auto v = config_.get(group, key);
    if (!v.ok()) return v.status();
    if (!*v) return std::optional<int>{};
    auto i = oslo_int((*v)->text);
    if (!i.ok()) return located(**v, group, key, i.status());
    if (!*i) return std::optional<int>{};
    if (**i < min || **i > max)
      return located(**v, group, key,
                     invalid_argument("should be between " + std::to_string(min) + " and " + std::to_string(max) +
                                      ", got " + std::to_string(**i)));
    return std::optional<int>{static_cast<int>(**i)};
  }
  // A neutron mappings list ("physnet:target,..."), empty when unset.
  StatusOr<std::map<std::string, std::string>> mappings(const std::string& group, const std::string& key) const {
    auto v = config_.get(group, key);
    if (!v.ok()) return v.status();
    std::map<std::string, std::string> out;
    if (!*v) return out;
    auto m = neutron_mappings((*v)->text);
    if (!m.ok()) return located(**v, group, key, m.status());
    for (auto& [k, target] : *m) out[k] = target;
    return out;
  }
  std::string where(const std::string& group, const std::string& key) const {
    auto v = config_.get(group, key);
    return v.ok() && *v ? (*v)->where : "";
  }

  static Status located(const OsloConfig::Value& v, const std::string& group, const std::string& key,
                        const Status& problem) {
    return invalid_argument(v.where + ": [" + group + "] " + key + ": " + problem.message());
  }

 private:
  OsloConfig config_;
};

// The files of 'dir' that exist among 'names', oldest (first loaded) first.
std::vector<IniFile> files_of(const ConfigDir& dir, const std::vector<std::string>& names) {
  std::vector<IniFile> out;
  for (const auto& n : names)
    if (auto it = dir.files.find(n); it != dir.files.end()) out.push_back(it->second);
  return out;
}

bool has_group(const IniFile& f, const std::string& group) {
  return std::any_of(f.sections.begin(), f.sections.end(),
                     [&](const IniSection& s) { return lower(s.name) == group; });
}

// "<file>:<line>" of the first section 'group' in 'f'.
std::string group_where(const IniFile& f, const std::string& group) {
  for (const auto& s : f.sections)
    if (lower(s.name) == group) return f.path + ":" + std::to_string(s.line);
  return f.path;
}

StatusOr<NovaComputeConfig> nova_compute(const ConfigDir& dir, std::vector<ConfigNote>& notes) {
  NovaComputeConfig n;
  Options o(OsloConfig(files_of(dir, {"nova.conf"})));
  LMH_ASSIGN_OR_RETURN(wait, o.boolean("compute", "live_migration_wait_for_vif_plug"));
  n.live_migration_wait_for_vif_plug = wait;
  LMH_ASSIGN_OR_RETURN(timeout, o.integer("DEFAULT", "vif_plugging_timeout", 0, 3600));
  n.vif_plugging_timeout_s = timeout.value_or(300);
  LMH_ASSIGN_OR_RETURN(fatal, o.boolean("DEFAULT", "vif_plugging_is_fatal"));
  n.vif_plugging_is_fatal = fatal.value_or(true);
  LMH_ASSIGN_OR_RETURN(downtime, o.integer("libvirt", "live_migration_downtime", 100, 1 << 30));
  n.libvirt.downtime_ms = downtime.value_or(500);
  LMH_ASSIGN_OR_RETURN(steps, o.integer("libvirt", "live_migration_downtime_steps", 3, 1 << 30));
  n.libvirt.downtime_steps = steps.value_or(10);
  LMH_ASSIGN_OR_RETURN(delay, o.integer("libvirt", "live_migration_downtime_delay", 3, 1 << 30));
  n.libvirt.downtime_delay_s = delay.value_or(75);
  LMH_ASSIGN_OR_RETURN(completion, o.integer("libvirt", "live_migration_completion_timeout", 0, 1 << 30));
  n.libvirt.completion_timeout_s_per_gib = completion.value_or(800);
  LMH_ASSIGN_OR_RETURN(action, o.text("libvirt", "live_migration_timeout_action"));
  if (action) {
    if (*action != "abort" && *action != "force_complete")
      return invalid_argument(o.where("libvirt", "live_migration_timeout_action") +
                              ": [libvirt] live_migration_timeout_action: expected abort or force_complete, got '" +
                              *action + "'");
    n.libvirt.timeout_action = *action;
  }
  LMH_ASSIGN_OR_RETURN(announce, o.boolean("workarounds", "enable_qemu_monitor_announce_self"));
  n.announce_self = announce;
  LMH_ASSIGN_OR_RETURN(count, o.integer("workarounds", "qemu_monitor_announce_self_count", 1, 1000));
  n.announce_self_count = count;
  LMH_ASSIGN_OR_RETURN(interval, o.integer("workarounds", "qemu_monitor_announce_self_interval", 1, 3600));
  n.announce_self_interval_s = interval;
  // Modelled elsewhere in nova, not by lmh's migration: said, not dropped.
  for (const char* key : {"live_migration_permit_post_copy", "live_migration_permit_auto_converge"}) {
    LMH_ASSIGN_OR_RETURN(on, o.boolean("libvirt", key));
    if (on.value_or(false))
      notes.push_back({o.where("libvirt", key), std::string("[libvirt] ") + key,
                       "not modelled: lmh's migration is pre-copy only"});
  }
  return n;
}

// physnet -> target of 'm', with a note when lmh's lab cannot use the name.
Status read_linuxbridge(const Options& o, HostConfigFiles& h) {
  LMH_ASSIGN_OR_RETURN(nics, o.mappings("linux_bridge", "physical_interface_mappings"));
  h.mappings = nics;
  LMH_ASSIGN_OR_RETURN(bridges, o.mappings("linux_bridge", "bridge_mappings"));
  if (!bridges.empty())
    h.notes.push_back({o.where("linux_bridge", "bridge_mappings"), "[linux_bridge] bridge_mappings",
                       "not modelled: ports on these physnets are not validated"});
  LMH_ASSIGN_OR_RETURN(enable_vxlan, o.boolean("vxlan", "enable_vxlan"));
  LMH_ASSIGN_OR_RETURN(local_ip, o.text("vxlan", "local_ip"));
  // The agent's default is enable_vxlan = True; without local_ip it has no
  // endpoint to tunnel from.
  if (enable_vxlan.value_or(true) && local_ip && !local_ip->empty()) h.tunnel_types.insert("vxlan");
  LMH_ASSIGN_OR_RETURN(l2pop, o.boolean("vxlan", "l2_population"));
  h.l2_population = l2pop.value_or(false);
  LMH_ASSIGN_OR_RETURN(arp, o.boolean("vxlan", "arp_responder"));
  h.arp_responder = arp.value_or(false);
  LMH_ASSIGN_OR_RETURN(port, o.integer("vxlan", "udp_dstport", 1, 65535));
  h.vxlan_udp_port = port.value_or(0);
  return ok_status();
}

Status read_openvswitch(const Options& o, HostConfigFiles& h) {
  LMH_ASSIGN_OR_RETURN(bridges, o.mappings("ovs", "bridge_mappings"));
  h.mappings = bridges;
  LMH_ASSIGN_OR_RETURN(local_ip, o.text("ovs", "local_ip"));
  LMH_ASSIGN_OR_RETURN(tunnel_types, o.text("agent", "tunnel_types"));
  if (local_ip && !local_ip->empty())
    for (const auto& t : oslo_list(tunnel_types.value_or(""))) h.tunnel_types.insert(t);
  LMH_ASSIGN_OR_RETURN(l2pop, o.boolean("agent", "l2_population"));
  h.l2_population = l2pop.value_or(false);
  LMH_ASSIGN_OR_RETURN(arp, o.boolean("agent", "arp_responder"));
  h.arp_responder = arp.value_or(false);
  LMH_ASSIGN_OR_RETURN(port, o.integer("agent", "vxlan_udp_port", 1, 65535));
  h.vxlan_udp_port = port.value_or(4789);
  LMH_ASSIGN_OR_RETURN(dvr, o.boolean("agent", "enable_distributed_routing"));
  if (dvr.value_or(false))
    h.notes.push_back({o.where("agent", "enable_distributed_routing"), "[agent] enable_distributed_routing",
                       "not modelled: routers are outside lmh's lab; L2 between the hosts is validated"});
  LMH_ASSIGN_OR_RETURN(firewall, o.text("securitygroup", "firewall_driver"));
  // Neutron loads "noop" when unset; only the iptables hybrid driver needs
  // the qbr bridge between tap and br-int.
  const std::string fw = firewall.value_or("noop");
  if (fw == "iptables_hybrid" || fw.find("OVSHybridIptablesFirewallDriver") != std::string::npos) {
    h.firewall_driver = "iptables_hybrid";
  } else if (fw == "openvswitch" || fw == "noop" || fw.find("OVSFirewallDriver") != std::string::npos ||
             fw.find("NoopFirewallDriver") != std::string::npos) {
    h.firewall_driver = "openvswitch";  // the plain plug: tap on br-int
  } else {
    return invalid_argument(o.where("securitygroup", "firewall_driver") +
                            ": [securitygroup] firewall_driver: an openvswitch agent takes openvswitch, "
                            "iptables_hybrid or noop, got '" + fw + "'");
  }
  return ok_status();
}

Status read_ovn_chassis(const ConfigDir& dir, HostConfigFiles& h) {
  const auto& ids = *dir.ovs_external_ids;
  if (auto it = ids.find("ovn-bridge-mappings"); it != ids.end()) {
    auto m = neutron_mappings(it->second);
    if (!m.ok())
      return invalid_argument(dir.ovs_external_ids_path + ": ovn-bridge-mappings: " + m.status().message());
    for (auto& [k, v] : *m) h.mappings[k] = v;
  }
  auto type = ids.find("ovn-encap-type");
  auto ip = ids.find("ovn-encap-ip");
  if (ip != ids.end() && !ip->second.empty())
    for (const auto& t : oslo_list(type == ids.end() ? "geneve" : type->second)) h.tunnel_types.insert(t);
  h.firewall_driver = "openvswitch";
  return ok_status();
}

// First occurrence of '=' outside quotes, for external_ids entries.
std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\' && i + 2 < s.size()) ++i;
      out += s[i];
    }
    return out;
  }
  return s;
}

}  // namespace

StatusOr<std::map<std::string, std::string>> parse_ovs_external_ids(const std::string& text,
                                                                     const std::string& path) {
  std::string t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  size_t b = t.find_first_not_of(" \t\r\n");
  if (b == std::string::npos || t[b] != '{' || t.back() != '}')
    return invalid_argument(path + ":1: expected `ovs-vsctl get Open_vSwitch . external_ids` output: {key=value, ...}");
  std::map<std::string, std::string> out;
  std::string body = t.substr(b + 1, t.size() - b - 2);
  // Entries are separated by ", " outside double quotes.
  std::vector<std::string> entries;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\\' && quoted && i + 1 < body.size()) {
      cur += c;
      cur += body[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      entries.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (quoted) return invalid_argument(path + ":1: unterminated quoted value");
  if (!cur.empty() || !entries.empty()) entries.push_back(cur);
  for (std::string e : entries) {
    size_t s = e.find_first_not_of(" \t\r\n");
    if (s == std::string::npos) continue;
    e = e.substr(s);
    while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.pop_back();
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid_argument(path + ":1: expected key=value, got '" + e + "'");
    out[unquote(e.substr(0, eq))] = unquote(e.substr(eq + 1));
  }
  return out;
}

StatusOr<ConfigDir> read_config_dir(const std::string& dir) {
  ConfigDir out;
  out.dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return invalid_argument(dir + ": not a directory");
  for (const auto& name : known_files()) {
    fs::path p = fs::path(dir) / name;
    if (!fs::exists(p, ec)) continue;
    auto text = read_text(p.string());
    if (!text.ok()) return text.status();
    auto ini = parse_oslo_ini(*text, p.string());
    if (!ini.ok()) return ini.status();
    out.files.emplace(name, std::move(ini).value());
  }
  fs::path ids = fs::path(dir) / kOvsExternalIds;
  if (fs::exists(ids, ec)) {
    auto text = read_text(ids.string());
    if (!text.ok()) return text.status();
    auto parsed = parse_ovs_external_ids(*text, ids.string());
    if (!parsed.ok()) return parsed.status();
    out.ovs_external_ids = std::move(parsed).value();
    out.ovs_external_ids_path = ids.string();
  }
  return out;
}

StatusOr<NeutronServerConfig> neutron_server_config(const std::vector<const ConfigDir*>& dirs) {
  NeutronServerConfig s;
  const ConfigDir* server = nullptr;
  for (const ConfigDir* d : dirs) {
    auto it = d->files.find("ml2_conf.ini");
    if (it != d->files.end() && has_group(it->second, "ml2")) {
      server = d;
      break;
    }
  }
  if (server == nullptr)
    return invalid_argument("no ml2_conf.ini with an [ml2] section in " +
                            (dirs.empty() ? std::string("any directory") : dirs.front()->dir +
                                                                              (dirs.size() > 1 ? " or the others" : "")) +
                            ": give the controller's directory with --controller");
  Options o(OsloConfig(files_of(*server, {"neutron.conf", "ml2_conf.ini"})));
  LMH_ASSIGN_OR_RETURN(mech, o.text("ml2", "mechanism_drivers"));
  s.mechanism_drivers = oslo_list(mech.value_or(""));
  LMH_ASSIGN_OR_RETURN(types, o.text("ml2", "type_drivers"));
  s.type_drivers = oslo_list(types.value_or("local,flat,vlan,gre,vxlan,geneve"));
  LMH_ASSIGN_OR_RETURN(tenant, o.text("ml2", "tenant_network_types"));
  s.tenant_network_types = oslo_list(tenant.value_or("local"));
  LMH_ASSIGN_OR_RETURN(vlan_ranges, o.text("ml2_type_vlan", "network_vlan_ranges"));
  if (vlan_ranges) {
    auto r = neutron_vlan_ranges(*vlan_ranges);
    if (!r.ok())
      return invalid_argument(o.where("ml2_type_vlan", "network_vlan_ranges") +
                              ": [ml2_type_vlan] network_vlan_ranges: " + r.status().message());
    for (const auto& [physnet, ranges] : *r) s.vlan_physnets[physnet] = ranges.empty() ? 1 : ranges.front().min;
  }
  LMH_ASSIGN_OR_RETURN(flat, o.text("ml2_type_flat", "flat_networks"));
  s.flat_networks = oslo_list(flat.value_or("*"));
  for (auto [group, first] : {std::pair{"ml2_type_vxlan", &s.first_vxlan_vni}, std::pair{"ml2_type_geneve", &s.first_geneve_vni}}) {
    LMH_ASSIGN_OR_RETURN(vni, o.text(group, "vni_ranges"));
    for (const auto& range : oslo_list(vni.value_or(""))) {
      auto colon = range.find(':');
      auto min = oslo_int(range.substr(0, colon));
      if (colon == std::string::npos || !min.ok() || !*min || **min < 1 || **min > 16777215)
        return invalid_argument(o.where(group, "vni_ranges") + ": [" + group +
                                "] vni_ranges: expected MIN:MAX entries, got '" + range + "'");
      *first = static_cast<int>(**min);
      break;
    }
  }
  LMH_ASSIGN_OR_RETURN(events, o.boolean("nova", "live_migration_events"));
  s.live_migration_events = events;
  LMH_ASSIGN_OR_RETURN(strategy, o.text("ovn", "live_migration_activation_strategy"));
  if (strategy && *strategy != "rarp" && !strategy->empty())
    return invalid_argument(o.where("ovn", "live_migration_activation_strategy") +
                            ": [ovn] live_migration_activation_strategy: expected rarp or empty, got '" + *strategy +
                            "'");
  s.ovn_activation_strategy = strategy;
  LMH_ASSIGN_OR_RETURN(experimental_lb, o.boolean("experimental", "linuxbridge"));
  s.experimental_linuxbridge = experimental_lb.value_or(false);
  s.l2population = std::find(s.mechanism_drivers.begin(), s.mechanism_drivers.end(), "l2population") !=
                   s.mechanism_drivers.end();
  return s;
}

StatusOr<HostConfigFiles> host_config(const ConfigDir& dir) {
  HostConfigFiles h;
  h.dir = dir.dir;
  h.name = fs::path(dir.dir).filename().string();
  if (h.name.empty()) h.name = fs::path(dir.dir).parent_path().filename().string();
  {
    Options nova(OsloConfig(files_of(dir, {"nova.conf"})));
    LMH_ASSIGN_OR_RETURN(host, nova.text("DEFAULT", "host"));
    if (host && !host->empty()) h.name = *host;
  }
  auto nova = nova_compute(dir, h.notes);
  if (!nova.ok()) return nova.status();
  h.nova = *nova;

  // Which agent runs here: its own file, or its sections in ml2_conf.ini.
  auto agent_where = [&](const std::string& file, const std::string& group) -> std::string {
    if (auto it = dir.files.find(file); it != dir.files.end()) return it->second.path;
    if (auto it = dir.files.find("ml2_conf.ini"); it != dir.files.end() && has_group(it->second, group))
      return group_where(it->second, group);
    return "";
  };
  const std::string lb = agent_where("linuxbridge_agent.ini", "linux_bridge");
  const std::string ovs = agent_where("openvswitch_agent.ini", "ovs");
  if (!lb.empty() && !ovs.empty())
    return invalid_argument(ovs + ": openvswitch agent settings on a host that also has linuxbridge agent settings (" +
                            lb + "): one L2 agent per host");
  if (!lb.empty()) {
    h.backend = core::Backend::kLinuxBridge;
    Options o(OsloConfig(files_of(dir, {"neutron.conf", "ml2_conf.ini", "linuxbridge_agent.ini"})));
    LMH_RETURN_IF_ERROR(read_linuxbridge(o, h));
  } else if (!ovs.empty()) {
    h.backend = core::Backend::kOpenVswitch;
    Options o(OsloConfig(files_of(dir, {"neutron.conf", "ml2_conf.ini", "openvswitch_agent.ini"})));
    LMH_RETURN_IF_ERROR(read_openvswitch(o, h));
  } else if (dir.ovs_external_ids &&
             (dir.ovs_external_ids->count("ovn-remote") || dir.ovs_external_ids->count("ovn-encap-type"))) {
    h.backend = core::Backend::kOvn;
    LMH_RETURN_IF_ERROR(read_ovn_chassis(dir, h));
  }
  if (h.backend && *h.backend != core::Backend::kOvn) {
    Options o(OsloConfig(files_of(dir, {"neutron.conf", "ml2_conf.ini",
                                        *h.backend == core::Backend::kLinuxBridge ? "linuxbridge_agent.ini"
                                                                                   : "openvswitch_agent.ini"})));
    LMH_ASSIGN_OR_RETURN(polling, o.integer("agent", "polling_interval", 1, 3600));
    h.polling_interval_s = polling.value_or(2);
  }
  return h;
}

}  // namespace lmh::harness
