// Scenario loading: YAML text -> --set overrides applied to the tree ->
// typed reading with per-key checks -> cross-key checks. Every error names
// the file, the 1-based line and the dotted key, or the --set override whose
// value caused it.
#include "harness/run/scenario.h"

#include "capture/packet.h"
#include "core/libvirt_xml.h"
#include "faults/fault_plan.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace lmh::harness {
namespace {

// The seed's identifiers (seed 000/001), used when the file names none.
constexpr const char* kDefaultNetworkId = "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11";
constexpr const char* kDefaultPortId = "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30";
constexpr const char* kDefaultInstanceUuid = "7c1e2a5b-3d4f-4a6b-8c9d-0e1f2a3b4c5d";
constexpr const char* kDefaultGuestMac = "fa:16:3e:3a:7b:01";
constexpr const char* kDefaultGuestIp = "198.18.0.10";
constexpr const char* kDefaultPeerIp = "198.18.0.1";
constexpr const char* kBehaviourPrefix = "behaviour.";
constexpr int kIfNameMax = 15;  // IFNAMSIZ - 1

// The keys each map of a scenario file accepts, in documentation order.
// "hosts[]" stands for every element of the hosts list. A key that is not
// itself a level here is a scalar, and only scalars may be set with --set.
struct Level {
  const char* path;
  std::vector<std::string> keys;
};

// The agent and nova.conf keys a host may set for itself; the top-level
// sections add the cloud-wide ones.
const std::vector<std::string> kHostAgentKeys = {"polling_interval_ms", "l2_population", "arp_responder",
                                                 "udp_dstport"};
const std::vector<std::string> kHostNovaKeys = {
    "live_migration_wait_for_vif_plug", "vif_plugging_timeout_s", "vif_plugging_is_fatal",
    "live_migration_downtime_ms", "live_migration_downtime_steps", "live_migration_downtime_delay_s",
    "live_migration_completion_timeout_s", "live_migration_timeout_action"};

std::vector<std::string> with_key(std::vector<std::string> keys, const std::string& key) {
  keys.push_back(key);
  return keys;
}

const std::vector<Level>& levels() {
  static const std::vector<Level> kLevels = {
      {"", {"name", "description", "tier", "warm_destination", "hosts", "fabric", "network",
            "guest", "peer", "underlay", "migration", "probe", "agent", "nova", "behaviour", "faults", "fault_seed",
            "expect"}},
      {"hosts[]", {"name", "backend", "firewall_driver", "physical_interface", "service_enabled", "memory_mb",
                   "hypervisor_version", "agent", "nova"}},
      {"hosts[].agent", kHostAgentKeys},
      {"hosts[].nova", kHostNovaKeys},
      {"fabric", {"mac_ageing_s"}},
      {"network", {"id", "type", "physnet", "segmentation_id", "cidr"}},
      {"guest", {"name", "instance_uuid", "port_id", "mac", "ip", "traffic_after_resume_ms", "boot_ms", "memory_mb"}},
      {"peer", {"ip", "neigh", "host"}},
      {"underlay", {"vlan", "cidr"}},
      {"peer.neigh", {"base_reachable_time_ms", "delay_first_probe_time_s", "retrans_time_ms",
                      "ucast_solicit", "mcast_solicit"}},
      {"migration", {"source", "destination", "precopy_ms", "pause_ms", "resume_after_dest_poll_ms", "kind",
                     "resize_outcome", "verify_ms", "force"}},
      {"probe", {"interval_ms", "reply_timeout_ms", "settle_ms", "observe_ms"}},
      {"agent", with_key(kHostAgentKeys, "vxlan_group")},
      {"nova", with_key(kHostNovaKeys, "rpc_response_timeout_s")},
      {"behaviour", {"pre_plug_vlan_uplink", "vif_plugged_from_agent_only", "lb_agent_honours_migrating_to",
                     "ovn_multichassis_binding", "ovn_activation_strategy",
                     "l2pop_on_binding_activate",
                     "ovs_agent_wires_migrating_to",
                     "wait_only_for_plug_time_events",
                     "dest_xml_bridge", "announce_self_after_migration", "announce_self_count",
                     "announce_self_interval_ms"}},
      {"expect", {"max_downtime_ms", "recover_within_ms"}},
  };
  return kLevels;
}

// Returns the keys valid in the map at 'path', or nullptr if 'path' is not a map.
const std::vector<std::string>* level_keys(const std::string& path) {
  for (const auto& l : levels())
    if (path == l.path) return &l.keys;
  return nullptr;
}

// Returns the level of the map at dotted 'path': "hosts[1].agent" is at
// "hosts[].agent".
std::string level_of(const std::string& path) {
  static const std::regex kIndex(R"(\[[0-9]+\])");
  return std::regex_replace(path, kIndex, "[]");
}

// Returns whether 'key' (dotted) names a scalar that --set may change. A
// host's keys may not be set: the hosts list is the file's.
bool is_scalar_key(const std::string& key) {
  if (key.empty() || key.rfind("hosts", 0) == 0 || level_keys(key) != nullptr) return false;
  auto dot = key.rfind('.');
  std::string parent = dot == std::string::npos ? "" : key.substr(0, dot);
  std::string last = dot == std::string::npos ? key : key.substr(dot + 1);
  const auto* keys = level_keys(parent);
  return keys != nullptr && std::find(keys->begin(), keys->end(), last) != keys->end();
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Returns 'node' described for an error message: its text, or its kind.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    default: return "an empty value";
  }
}

// Records where each YAML document starts and where its first node is,
// from yaml-cpp's parser events (nothing is built).
class DocumentStarts final : public YAML::EventHandler {
 public:
  struct Document {
    YAML::Mark start;  // its first token ("---" when it has one)
    YAML::Mark node;   // its first node (an empty document's null: every document has one)
  };
  std::vector<Document> documents;

  void OnDocumentStart(const YAML::Mark& mark) override { documents.push_back({mark, YAML::Mark::null_mark()}); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (!documents.empty() && documents.back().node.is_null()) documents.back().node = mark;
  }
};

// Returns the first 'limit' documents of 'text' (all when it has fewer).
// Throws YAML::ParserException for a syntax error, and for a token no
// document can start with: yaml-cpp 0.7's parser reports such a token (a
// stray ',' at the top level) as an empty document and leaves it for the
// next, so YAML::LoadAll never returns (yaml-cpp issue #1040, fixed after
// 0.7); here a document that starts where the previous one did stops it.
std::vector<DocumentStarts::Document> first_documents(const std::string& text, size_t limit) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (starts.documents.size() < limit && parser.HandleNextDocument(starts)) {
    const auto& docs = starts.documents;
    if (docs.size() >= 2 && docs.back().start.pos == docs[docs.size() - 2].start.pos) {
      const YAML::Mark at = docs.back().start;
      const std::string token = at.pos >= 0 && static_cast<size_t>(at.pos) < text.size()
                                    ? std::string(1, text[static_cast<size_t>(at.pos)])
                                    : std::string();
      throw YAML::ParserException(at, "unexpected '" + token + "'");
    }
  }
  return std::move(starts.documents);
}

// Returns the 1-based line of 'node', or 'fallback' for nodes made by
// overrides (which have no position in the file).
int line_of(const YAML::Node& node, int fallback) {
  if (!node.IsDefined()) return fallback;
  int line = node.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

// Parses 'text' as a whole decimal integer ("1.5", "0x10", "" are not).
std::optional<long long> parse_integer(const std::string& text) {
  static const std::regex kInt("[-+]?[0-9]+");
  if (!std::regex_match(text, kInt)) return std::nullopt;
  const char* b = text.data() + (text[0] == '+' ? 1 : 0);
  long long v = 0;
  auto [end, ec] = std::from_chars(b, text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Parses 'text' as a finite decimal number ("1", "2.5", "1e3").
std::optional<double> parse_number(const std::string& text) {
  static const std::regex kNum(R"([-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?)");
  if (!std::regex_match(text, kNum)) return std::nullopt;
  double v = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

using capture::format_ipv4;
using capture::parse_ipv4;

struct Cidr {
  uint32_t network = 0;
  int prefix = 0;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t broadcast() const { return network | ~mask(); }
  bool contains(uint32_t a) const { return (a & mask()) == network; }
};

bool is_uuid(const std::string& s) {
  static const std::regex kUuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  return std::regex_match(s, kUuid);
}

// Returns what is wrong with Linux interface name 'name', or "" if valid
// (the kernel's dev_valid_name rules).
std::string ifname_problem(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kIfNameMax)
    return fmt::format("'{}' is longer than {} characters", name, kIfNameMax);
  if (name == "." || name == "..") return fmt::format("'{}' is not a valid interface name", name);
  for (char c : name)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0')
      return fmt::format("'{}' is not a valid interface name (no '/', ':' or spaces)", name);
  return "";
}

// A YAML map being read, and where it is for error messages.
struct Section {
  YAML::Node node;   // a map, or undefined/null when absent from the file
  std::string path;  // dotted path, "" for the top level
  int line = 1;      // line of the section's key, else of its nearest present ancestor

  std::string key(const std::string& k) const { return path.empty() ? k : path + "." + k; }
  YAML::Node get(const std::string& k) const {
    const YAML::Node& n = node;  // const lookup: never inserts
    return n.IsDefined() && n.IsMap() ? n[k] : YAML::Node(YAML::NodeType::Undefined);
  }
};

struct Range {
  std::optional<long long> min;
  std::optional<long long> max;
};
Range between(long long min, long long max) { return Range{min, max}; }
Range at_least(long long min) { return Range{min, std::nullopt}; }

// Reads a parsed scenario tree into a Scenario, checking as it goes.
class Reader {
 public:
  Reader(std::string file, std::set<std::string> overridden)
      : file_(std::move(file)), overridden_(std::move(overridden)) {}

  Status read(const YAML::Node& root, Scenario& sc);

 private:
  // Returns the kInvalidArgument for 'key' at 'line' (or its --set override).
  Status fail(const std::string& key, int line, const std::string& what) const {
    if (overridden_.count(key)) return invalid_argument(file_ + ": --set " + key + ": " + what);
    return invalid_argument(fmt::format("{}:{}: {}: {}", file_, line, key, what));
  }
  // Like fail() for a check involving several keys: blames 'primary' unless
  // one of 'others' came from an override and 'primary' did not, since that
  // override caused the error. 'what' is about 'primary'; blamed on another
  // key it is prefixed with 'primary' unless 'names_keys' says it already
  // names both.
  Status blame(const std::string& primary, const std::vector<std::string>& others,
               const std::string& what, bool names_keys = false) const {
    if (!overridden_.count(primary))
      for (const auto& o : others)
        if (overridden_.count(o)) return fail(o, line(o), names_keys ? what : primary + " " + what);
    return fail(primary, line(primary), what);
  }
  int line(const std::string& key) const {
    auto it = lines_.find(key);
    return it == lines_.end() ? 1 : it->second;
  }
  bool present(const std::string& key) const { return present_.count(key) > 0; }
  // Returns "'value'" or "'value' (the default)" for messages about 'key'.
  std::string shown(const std::string& key, const std::string& value) const {
    return "'" + value + "'" + (present(key) ? "" : " (the default)");
  }

  Status check_keys(const Section& s, const std::string& level);
  StatusOr<Section> section(const Section& parent, const std::string& k);
  // Returns the value node of 'k' in 's' (undefined when absent) and records
  // its line and presence.
  YAML::Node value(const Section& s, const std::string& k);

  Status read_string(const Section& s, const std::string& k, std::string& out);
  Status read_bool(const Section& s, const std::string& k, bool& out);
  Status read_int(const Section& s, const std::string& k, int& out, Range r);
  Status read_optional_int(const Section& s, const std::string& k, std::optional<int>& out,
                           Range r);
  Status read_double(const Section& s, const std::string& k, double& out, Range r);
  Status check_range(const std::string& key, int at, long double v, Range r) const;

  Status read_hosts(const Section& top, Scenario& sc);
  Status read_faults(const Section& top, Scenario& sc);
  Status read_network(const Section& top, Scenario& sc);
  Status read_guest_and_peer(const Section& top, Scenario& sc);
  Status read_peer(const Section& top, Scenario& sc);
  Status read_migration(const Section& top, Scenario& sc);
  Status read_probe_and_agent(const Section& top, Scenario& sc);
  Status read_nova(const Section& top, Scenario& sc);
  Status read_agent_settings(const Section& s, AgentSpec& agent);
  Status read_nova_settings(const Section& s, NovaSpec& nova);
  Status read_host_settings(const Section& top, Scenario& sc);
  Status read_behaviour(const Section& top, Scenario& sc);
  Status check_topology(const Scenario& sc);

  std::string file_;
  std::set<std::string> overridden_;
  std::map<std::string, int> lines_;  // dotted key -> line (key's or nearest ancestor's)
  std::set<std::string> present_;     // dotted keys given in the file or by --set
  Cidr cidr_;
};

Status Reader::check_keys(const Section& s, const std::string& level) {
  const auto& valid = *level_keys(level);
  std::map<std::string, int> seen;
  for (auto it = s.node.begin(); it != s.node.end(); ++it) {
    YAML::Node k = it->first;  // a copy: it-> yields a temporary proxy
    int at = line_of(k, s.line);
    if (!k.IsScalar())
      return fail(s.path.empty() ? "(top level)" : s.path, at,
                  "keys must be plain words, got " + describe(k));
    std::string name = k.Scalar();
    std::string dotted = s.key(name);
    if (std::find(valid.begin(), valid.end(), name) == valid.end())
      return fail(dotted, at, "unknown key (valid keys: " + join(valid, ", ") + ")");
    if (auto [prev, inserted] = seen.emplace(name, at); !inserted)
      return fail(dotted, at, fmt::format("duplicate key (first given on line {})", prev->second));
    lines_[dotted] = at;
  }
  return ok_status();
}

StatusOr<Section> Reader::section(const Section& parent, const std::string& k) {
  std::string dotted = parent.key(k);
  YAML::Node n = parent.get(k);
  int at = lines_.count(dotted) ? lines_[dotted] : parent.line;
  lines_[dotted] = at;
  Section s{n, dotted, at};
  if (!n.IsDefined() || n.IsNull()) return s;  // absent or empty: all defaults
  if (!n.IsMap()) return fail(dotted, line_of(n, at), "expected a map, got " + describe(n));
  present_.insert(dotted);
  LMH_RETURN_IF_ERROR(check_keys(s, level_of(dotted)));
  return s;
}

YAML::Node Reader::value(const Section& s, const std::string& k) {
  std::string dotted = s.key(k);
  YAML::Node n = s.get(k);
  if (n.IsDefined()) {
    present_.insert(dotted);
    // An empty value's mark is wherever the next token starts; the key's
    // line (recorded by check_keys) is where the user left it empty.
    if (!n.IsNull() || !lines_.count(dotted)) lines_[dotted] = line_of(n, s.line);
  } else {
    lines_[dotted] = s.line;
  }
  return n;
}

Status Reader::check_range(const std::string& key, int at, long double v, Range r) const {
  auto num = [](long double x) { return fmt::format("{}", static_cast<double>(x)); };
  if ((r.min && v < *r.min) || (r.max && v > *r.max)) {
    if (r.min && r.max)
      return fail(key, at,
                  fmt::format("must be between {} and {}, got {}", *r.min, *r.max, num(v)));
    if (r.min) return fail(key, at, fmt::format("must be >= {}, got {}", *r.min, num(v)));
    return fail(key, at, fmt::format("must be <= {}, got {}", *r.max, num(v)));
  }
  return ok_status();
}

Status Reader::read_string(const Section& s, const std::string& k, std::string& out) {
  YAML::Node n = value(s, k);
  if (!n.IsDefined()) return ok_status();
  if (!n.IsScalar())
    return fail(s.key(k), line(s.key(k)), "expected a string, got " + describe(n));
  out = n.Scalar();
  return ok_status();
}

Status Reader::read_bool(const Section& s, const std::string& k, bool& out) {
  YAML::Node n = value(s, k);
  if (!n.IsDefined()) return ok_status();
  std::string key = s.key(k);
  if (n.IsScalar() && n.Scalar() == "true") out = true;
  else if (n.IsScalar() && n.Scalar() == "false") out = false;
  else return fail(key, line(key), "expected true or false, got " + describe(n));
  return ok_status();
}

Status Reader::read_int(const Section& s, const std::string& k, int& out, Range r) {
  std::optional<int> v;
  LMH_RETURN_IF_ERROR(read_optional_int(s, k, v, r));
  if (v) out = *v;
  else if (present(s.key(k)))  // null: only the optional key may be emptied
    return fail(s.key(k), line(s.key(k)), "expected an integer, got an empty value");
  return ok_status();
}

Status Reader::read_optional_int(const Section& s, const std::string& k, std::optional<int>& out,
                                 Range r) {
  YAML::Node n = value(s, k);
  if (!n.IsDefined() || n.IsNull()) return ok_status();
  std::string key = s.key(k);
  std::optional<long long> v;
  if (n.IsScalar()) v = parse_integer(n.Scalar());
  if (!v) return fail(key, line(key), "expected an integer, got " + describe(n));
  if (*v < INT32_MIN || *v > INT32_MAX)
    return fail(key, line(key), "integer out of range, got " + describe(n));
  LMH_RETURN_IF_ERROR(check_range(key, line(key), static_cast<long double>(*v), r));
  out = static_cast<int>(*v);
  return ok_status();
}

Status Reader::read_double(const Section& s, const std::string& k, double& out, Range r) {
  YAML::Node n = value(s, k);
  if (!n.IsDefined()) return ok_status();
  std::string key = s.key(k);
  std::optional<double> v;
  if (n.IsScalar()) v = parse_number(n.Scalar());
  if (!v) return fail(key, line(key), "expected a number, got " + describe(n));
  LMH_RETURN_IF_ERROR(check_range(key, line(key), *v, r));
  out = *v;
  return ok_status();
}

// faults: a list of "POINT=ACTION[:ARG][@TRIGGER]" strings; fault_seed: the
// seed of their random draws.
}  // namespace

const char* to_string(Tier tier) {
  switch (tier) {
    case Tier::kEmulated: return "emulated";
    case Tier::kLibvirt: return "libvirt";
  }
  return "?";
}

StatusOr<Tier> parse_tier(std::string_view name) {
  for (Tier t : {Tier::kEmulated, Tier::kLibvirt})
    if (name == to_string(t)) return t;
  return invalid_argument("must be one of: emulated, libvirt, got '" + std::string(name) + "'");
}

std::string fault_not_applicable(const Scenario& sc, const faults::FaultSpec& spec) {
  const faults::FaultPointDescriptor* point = faults::find_fault_point(spec.point);
  if (!point) return "";  // parse_fault_spec refuses unknown points
  const std::string& needs = point->needs_backend;
  if (!needs.empty() &&
      std::none_of(sc.hosts.begin(), sc.hosts.end(), [&](const HostSpec& h) { return core::to_string(h.backend) == needs; }))
    return "fault point '" + spec.point + "' needs a host with backend " + needs + "; this scenario has none";
  if (!point->needs_network_type.empty() && sc.network.type != point->needs_network_type)
    return "fault point '" + spec.point + "' needs a " + point->needs_network_type + " network; this scenario's is " +
           sc.network.type;
  const faults::Tiers tier = sc.tier == Tier::kLibvirt ? faults::kLibvirtTier : faults::kEmulatedTier;
  if (!(point->tiers & tier)) {
    // On the libvirt tier QEMU switches over and announces by itself.
    if (tier == faults::kLibvirtTier)
      return "fault point '" + spec.point + "' acts on the emulated guest; the libvirt tier's QEMU switches over "
             "and announces by itself";
    return "fault point '" + spec.point + "' acts on the libvirt tier only";
  }
  return "";
}

namespace {

Status Reader::read_faults(const Section& top, Scenario& sc) {
  YAML::Node list = value(top, "faults");
  if (list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence())
      return fail("faults", line("faults"), "expected a list of POINT=ACTION[:ARG][@TRIGGER], got " + describe(list));
    for (size_t i = 0; i < list.size(); ++i) {
      std::string key = fmt::format("faults[{}]", i);
      int at = list[i].Mark().line + 1;
      if (!list[i].IsScalar()) return fail(key, at, "expected a string, got " + describe(list[i]));
      auto spec = faults::parse_fault_spec(list[i].Scalar());
      if (!spec.ok()) return fail(key, at, spec.status().message());
      if (std::string why = fault_not_applicable(sc, *spec); !why.empty()) return fail(key, at, why);
      sc.faults.push_back(std::move(spec).value());
    }
  }
  long long seed = sc.fault_seed;
  YAML::Node seed_node = value(top, "fault_seed");
  if (seed_node.IsDefined() && !seed_node.IsNull()) {
    try {
      seed = seed_node.as<long long>();
    } catch (const YAML::Exception&) {
      return fail("fault_seed", line("fault_seed"), "expected an integer, got " + describe(seed_node));
    }
    if (seed < 0) return fail("fault_seed", line("fault_seed"), "must be >= 0");
  }
  sc.fault_seed = static_cast<uint64_t>(seed);
  return ok_status();
}

Status Reader::read_hosts(const Section& top, Scenario& sc) {
  static const std::regex kHostName("[a-z][a-z0-9]{0,7}");
  YAML::Node list = value(top, "hosts");
  if (!list.IsDefined() || list.IsNull()) {
    sc.hosts = {HostSpec{.name = "src"}, HostSpec{.name = "dst"}};
    for (int i = 0; i < 2; ++i)
      lines_[fmt::format("hosts[{}].physical_interface", i)] = line("hosts");
    return ok_status();
  }
  if (!list.IsSequence())
    return fail("hosts", line("hosts"), "expected a list of hosts, got " + describe(list));
  sc.hosts.clear();
  for (size_t i = 0; i < list.size(); ++i) {
    YAML::Node item = list[i];
    std::string path = fmt::format("hosts[{}]", i);
    int at = line_of(item, line("hosts"));
    if (!item.IsMap())
      return fail(path, at, "expected a map with name, backend, physical_interface, got " +
                                describe(item));
    Section hs{item, path, at};
    LMH_RETURN_IF_ERROR(check_keys(hs, "hosts[]"));
    HostSpec h;
    if (!hs.get("name").IsDefined()) return fail(hs.key("name"), at, "required key is missing");
    LMH_RETURN_IF_ERROR(read_string(hs, "name", h.name));
    if (!std::regex_match(h.name, kHostName))
      return fail(hs.key("name"), line(hs.key("name")),
                  "must match [a-z][a-z0-9]{0,7} (it prefixes interface names), got '" + h.name +
                      "'");
    if (h.name == "peer" || h.name == "fabric")
      return fail(hs.key("name"), line(hs.key("name")),
                  "'" + h.name + "' is reserved (the lab's " + h.name + " namespace has that name)");
    if (sc.host(h.name) != nullptr)
      return fail(hs.key("name"), line(hs.key("name")), "duplicate host name '" + h.name + "'");
    std::string backend = core::to_string(h.backend);
    LMH_RETURN_IF_ERROR(read_string(hs, "backend", backend));
    auto parsed_backend = core::parse_backend(backend);
    if (!parsed_backend.ok())
      return fail(hs.key("backend"), line(hs.key("backend")), parsed_backend.status().message());
    h.backend = *parsed_backend;
    LMH_RETURN_IF_ERROR(read_string(hs, "firewall_driver", h.firewall_driver));
    if (h.firewall_driver != "openvswitch" && h.firewall_driver != "iptables_hybrid")
      return fail(hs.key("firewall_driver"), line(hs.key("firewall_driver")),
                  "must be one of: openvswitch, iptables_hybrid, got '" + h.firewall_driver + "'");
    LMH_RETURN_IF_ERROR(read_string(hs, "physical_interface", h.physical_interface));
    if (auto problem = ifname_problem(h.physical_interface); !problem.empty())
      return fail(hs.key("physical_interface"), line(hs.key("physical_interface")), problem);
    LMH_RETURN_IF_ERROR(read_bool(hs, "service_enabled", h.service_enabled));
    LMH_RETURN_IF_ERROR(read_int(hs, "memory_mb", h.memory_mb, between(0, 1 << 24)));
    LMH_RETURN_IF_ERROR(read_int(hs, "hypervisor_version", h.hypervisor_version, between(0, 1 << 30)));
    sc.hosts.push_back(std::move(h));
  }
  if (sc.hosts.size() < 2)
    return fail("hosts", line("hosts"),
                fmt::format("at least 2 hosts are needed, got {}", sc.hosts.size()));
  return ok_status();
}

Status Reader::read_network(const Section& top, Scenario& sc) {
  auto sec = section(top, "network");
  if (!sec.ok()) return sec.status();
  const Section& s = *sec;
  NetworkSpec& n = sc.network;
  n.id = kDefaultNetworkId;
  LMH_RETURN_IF_ERROR(read_string(s, "id", n.id));
  if (!is_uuid(n.id))
    return fail("network.id", line("network.id"), "expected a UUID, got '" + n.id + "'");
  LMH_RETURN_IF_ERROR(read_string(s, "type", n.type));
  if (n.type != "vlan" && n.type != "flat" && n.type != "vxlan" && n.type != "geneve")
    return fail("network.type", line("network.type"),
                "must be one of: vlan, flat, vxlan, geneve, got '" + n.type + "'");
  LMH_RETURN_IF_ERROR(read_string(s, "physnet", n.physnet));
  if (n.physnet.empty())
    return fail("network.physnet", line("network.physnet"), "must not be empty");
  LMH_RETURN_IF_ERROR(read_int(s, "segmentation_id", n.segmentation_id, Range{}));
  if (n.type == "vlan" && (n.segmentation_id < 1 || n.segmentation_id > 4094))
    return blame("network.segmentation_id", {"network.type"},
                 fmt::format("must be between 1 and 4094 for a vlan network, got {}",
                             n.segmentation_id));
  if (n.is_tunnel() && (n.segmentation_id < 1 || n.segmentation_id > 16777215))
    return blame("network.segmentation_id", {"network.type"},
                 fmt::format("is the VNI of a {} network: must be between 1 and 16777215, got {}", n.type,
                             n.segmentation_id));
  LMH_RETURN_IF_ERROR(read_string(s, "cidr", n.cidr));
  static const std::regex kCidr(R"(([0-9.]+)/([0-9]{1,2}))");
  std::smatch m;
  std::optional<uint32_t> addr;
  if (std::regex_match(n.cidr, m, kCidr)) addr = parse_ipv4(m[1].str());
  if (!addr)
    return fail("network.cidr", line("network.cidr"),
                "expected an IPv4 network like 198.18.0.0/24, got '" + n.cidr + "'");
  cidr_.prefix = std::stoi(m[2].str());
  if (cidr_.prefix < 8 || cidr_.prefix > 30)
    return fail("network.cidr", line("network.cidr"),
                fmt::format("prefix length must be between 8 and 30, got {}", cidr_.prefix));
  cidr_.network = *addr & cidr_.mask();
  if (cidr_.network != *addr)
    return fail("network.cidr", line("network.cidr"),
                fmt::format("'{}' has host bits set (the network is {}/{})", n.cidr,
                            format_ipv4(cidr_.network), cidr_.prefix));
  return ok_status();
}

Status Reader::read_guest_and_peer(const Section& top, Scenario& sc) {
  auto guest = section(top, "guest");
  if (!guest.ok()) return guest.status();
  GuestSpec& g = sc.guest;
  g.instance_uuid = kDefaultInstanceUuid;
  g.port_id = kDefaultPortId;
  g.mac = kDefaultGuestMac;
  g.ip = kDefaultGuestIp;
  LMH_RETURN_IF_ERROR(read_string(*guest, "name", g.name));
  // It names the guest's namespace ("<prefix>-g-<name>"); "warm" is the
  // bystander of a warm destination.
  static const std::regex kGuestName("[a-z][a-z0-9]{0,15}");
  if (!std::regex_match(g.name, kGuestName) || g.name == "warm")
    return fail("guest.name", line("guest.name"),
                "must match [a-z][a-z0-9]{0,15} and not be 'warm', got '" + g.name + "'");
  LMH_RETURN_IF_ERROR(read_string(*guest, "instance_uuid", g.instance_uuid));
  if (!is_uuid(g.instance_uuid))
    return fail("guest.instance_uuid", line("guest.instance_uuid"),
                "expected a UUID, got '" + g.instance_uuid + "'");
  LMH_RETURN_IF_ERROR(read_string(*guest, "port_id", g.port_id));
  if (!is_uuid(g.port_id))
    return fail("guest.port_id", line("guest.port_id"), "expected a UUID, got '" + g.port_id + "'");
  LMH_RETURN_IF_ERROR(read_string(*guest, "mac", g.mac));
  static const std::regex kMac("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
  if (!std::regex_match(g.mac, kMac))
    return fail("guest.mac", line("guest.mac"),
                "expected a MAC address like fa:16:3e:3a:7b:01, got '" + g.mac + "'");
  // Bit 0 of the first octet marks group addresses; a guest needs its own.
  if ((std::stoi(g.mac.substr(0, 2), nullptr, 16) & 1) != 0 || g.mac == "00:00:00:00:00:00")
    return fail("guest.mac", line("guest.mac"), "must be a unicast address, got '" + g.mac + "'");
  LMH_RETURN_IF_ERROR(read_string(*guest, "ip", g.ip));
  LMH_RETURN_IF_ERROR(read_optional_int(*guest, "traffic_after_resume_ms",
                                        g.traffic_after_resume_ms, at_least(0)));
  LMH_RETURN_IF_ERROR(read_int(*guest, "boot_ms", g.boot_ms, between(0, 600000)));
  LMH_RETURN_IF_ERROR(read_int(*guest, "memory_mb", g.memory_mb, between(16, 1 << 20)));
  // On the libvirt tier it is also the QEMU guest's RAM.
  if (sc.tier == Tier::kLibvirt && (g.memory_mb < 64 || g.memory_mb > 4096))
    return fail("guest.memory_mb", line("guest.memory_mb"),
                fmt::format("on the libvirt tier this is the QEMU guest's RAM: must be between 64 and 4096, got {}",
                            g.memory_mb));
  return read_peer(top, sc);
}

// The peer, and the addresses of guest and peer within network.cidr.
Status Reader::read_peer(const Section& top, Scenario& sc) {
  const GuestSpec& g = sc.guest;
  auto peer = section(top, "peer");
  if (!peer.ok()) return peer.status();
  sc.peer.ip = kDefaultPeerIp;
  LMH_RETURN_IF_ERROR(read_string(*peer, "ip", sc.peer.ip));
  LMH_RETURN_IF_ERROR(read_string(*peer, "host", sc.peer.host));
  auto neigh = section(*peer, "neigh");
  if (!neigh.ok()) return neigh.status();
  NeighTimers& t = sc.peer.neigh;
  LMH_RETURN_IF_ERROR(
      read_int(*neigh, "base_reachable_time_ms", t.base_reachable_time_ms, at_least(1)));
  LMH_RETURN_IF_ERROR(
      read_int(*neigh, "delay_first_probe_time_s", t.delay_first_probe_time_s, at_least(0)));
  LMH_RETURN_IF_ERROR(read_int(*neigh, "retrans_time_ms", t.retrans_time_ms, at_least(0)));
  LMH_RETURN_IF_ERROR(read_int(*neigh, "ucast_solicit", t.ucast_solicit, at_least(0)));
  LMH_RETURN_IF_ERROR(read_int(*neigh, "mcast_solicit", t.mcast_solicit, at_least(0)));

  // Both addresses must be usable hosts of network.cidr.
  for (const char* key : {"guest.ip", "peer.ip"}) {
    const std::string& text = std::string(key) == "guest.ip" ? g.ip : sc.peer.ip;
    auto addr = parse_ipv4(text);
    if (!addr) return fail(key, line(key), "expected an IPv4 address, got " + shown(key, text));
    std::string net = fmt::format("{}/{}", format_ipv4(cidr_.network), cidr_.prefix);
    if (!cidr_.contains(*addr))
      return blame(key, {"network.cidr"},
                   fmt::format("{} is not inside network.cidr {}", shown(key, text), net));
    if (*addr == cidr_.network || *addr == cidr_.broadcast())
      return blame(key, {"network.cidr"},
                   fmt::format("{} is the network or broadcast address of {}", shown(key, text),
                               net));
  }
  if (*parse_ipv4(g.ip) == *parse_ipv4(sc.peer.ip))
    return blame("peer.ip", {"guest.ip"},
                 fmt::format("must differ from guest.ip, both are '{}'", g.ip));
  if (sc.warm_destination) {
    auto other = parse_ipv4(sc.bystander_ip());
    if (!other || !cidr_.contains(*other) || *other == cidr_.broadcast())
      return blame("guest.ip", {"network.cidr"},
                   fmt::format("warm_destination needs a free address after guest.ip for the bystander VM, "
                               "and {} is not usable in {}/{}", sc.bystander_ip(), format_ipv4(cidr_.network),
                               cidr_.prefix));
  }
  return ok_status();
}

Status Reader::check_topology(const Scenario& sc) {
  std::vector<std::string> names;
  for (const auto& h : sc.hosts) names.push_back(h.name);
  for (const char* key : {"migration.source", "migration.destination"}) {
    const std::string& name =
        std::string(key) == "migration.source" ? sc.migration.source : sc.migration.destination;
    if (sc.host(name) == nullptr)
      return fail(key, line(key),
                  fmt::format("impossible topology: no host named {} (hosts: {})",
                              shown(key, name), join(names, ", ")));
  }
  if (sc.migration.source == sc.migration.destination)
    return blame("migration.destination", {"migration.source"},
                 "impossible topology: migration.source and migration.destination are both '" +
                     sc.migration.source + "'",
                 /*names_keys=*/true);
  // A tunnel network has no gateway on the fabric: its peer is a port on a
  // bystander host, which is neither end of the move.
  if (sc.network.is_tunnel()) {
    if (sc.peer.host.empty())
      return blame("peer.host", {"network.type"},
                   "a " + sc.network.type + " network's peer sits on a compute host: name one that is neither "
                   "migration.source nor migration.destination",
                   /*names_keys=*/true);
    // Only OVN's chassis speak Geneve.
    for (const auto& h : sc.hosts)
      if (sc.network.type == "geneve" && h.backend != core::Backend::kOvn)
        return blame("network.type", {"hosts"},
                     "a geneve network needs every host to run ovn; host '" + h.name + "' runs " +
                         core::to_string(h.backend));
    // Without l2population the OVS agent floods to every endpoint from
    // tunnel_sync, which the model has no server side for.
    for (size_t i = 0; i < sc.hosts.size(); ++i) {
      const HostSpec& h = sc.hosts[i];
      if (h.backend != core::Backend::kOpenVswitch || h.agent.l2_population) continue;
      // Blame the key that set it: the host's own, else the top level's.
      std::string key = fmt::format("hosts[{}].agent.l2_population", i);
      if (!present(key)) key = "agent.l2_population";
      return blame(key, {"hosts"},
                   "vxlan on openvswitch hosts is modelled with l2_population only; host '" + h.name +
                       "' runs openvswitch");
    }
  }
  if (!sc.peer.host.empty()) {
    if (sc.host(sc.peer.host) == nullptr)
      return fail("peer.host", line("peer.host"),
                  fmt::format("impossible topology: no host named {} (hosts: {})", shown("peer.host", sc.peer.host),
                              join(names, ", ")));
    if (sc.peer.host == sc.migration.source || sc.peer.host == sc.migration.destination)
      return blame("peer.host", {"migration.source", "migration.destination"},
                   "the peer must sit on a third host, not on '" + sc.peer.host + "', an end of the move");
  }
  // The VLAN uplink is "<physical_interface>.<vlan>" and must fit IFNAMSIZ.
  if (sc.network.type == "vlan") {
    for (size_t i = 0; i < sc.hosts.size(); ++i) {
      std::string uplink =
          fmt::format("{}.{}", sc.hosts[i].physical_interface, sc.network.segmentation_id);
      if (static_cast<int>(uplink.size()) > kIfNameMax)
        return blame(fmt::format("hosts[{}].physical_interface", i), {"network.segmentation_id"},
                     fmt::format("'{}' leaves no room for the VLAN suffix: '{}' is longer than "
                                 "{} characters",
                                 sc.hosts[i].physical_interface, uplink, kIfNameMax));
    }
  }
  return ok_status();
}

Status Reader::read_migration(const Section& top, Scenario& sc) {
  auto migration = section(top, "migration");
  if (!migration.ok()) return migration.status();
  LMH_RETURN_IF_ERROR(read_string(*migration, "source", sc.migration.source));
  LMH_RETURN_IF_ERROR(read_string(*migration, "destination", sc.migration.destination));
  LMH_RETURN_IF_ERROR(
      read_int(*migration, "precopy_ms", sc.migration.precopy_ms, between(0, 600000)));
  LMH_RETURN_IF_ERROR(read_int(*migration, "pause_ms", sc.migration.pause_ms, between(0, 60000)));
  LMH_RETURN_IF_ERROR(read_optional_int(*migration, "resume_after_dest_poll_ms",
                                        sc.migration.resume_after_dest_poll_ms, between(0, 600000)));
  std::string kind = core::to_string(sc.migration.kind);
  LMH_RETURN_IF_ERROR(read_string(*migration, "kind", kind));
  auto parsed_kind = core::parse_migration_kind(kind);
  if (!parsed_kind.ok()) return fail("migration.kind", line("migration.kind"), parsed_kind.status().message());
  sc.migration.kind = *parsed_kind;
  LMH_RETURN_IF_ERROR(read_string(*migration, "resize_outcome", sc.migration.resize_outcome));
  if (sc.migration.resize_outcome != "confirm" && sc.migration.resize_outcome != "revert")
    return fail("migration.resize_outcome", line("migration.resize_outcome"),
                "expected confirm or revert, got '" + sc.migration.resize_outcome + "'");
  LMH_RETURN_IF_ERROR(read_int(*migration, "verify_ms", sc.migration.verify_ms, between(0, 600000)));
  LMH_RETURN_IF_ERROR(read_bool(*migration, "force", sc.migration.force));
  return ok_status();
}

Status Reader::read_probe_and_agent(const Section& top, Scenario& sc) {
  auto probe = section(top, "probe");
  if (!probe.ok()) return probe.status();
  LMH_RETURN_IF_ERROR(read_int(*probe, "interval_ms", sc.probe.interval_ms, between(1, 1000)));
  LMH_RETURN_IF_ERROR(
      read_int(*probe, "reply_timeout_ms", sc.probe.reply_timeout_ms, between(1, 60000)));
  LMH_RETURN_IF_ERROR(read_int(*probe, "settle_ms", sc.probe.settle_ms, between(0, 60000)));
  LMH_RETURN_IF_ERROR(read_int(*probe, "observe_ms", sc.probe.observe_ms, between(100, 600000)));

  auto agent = section(top, "agent");
  if (!agent.ok()) return agent.status();
  LMH_RETURN_IF_ERROR(read_agent_settings(*agent, sc.agent));
  LMH_RETURN_IF_ERROR(read_string(*agent, "vxlan_group", sc.agent.vxlan_group));
  if (!parse_ipv4(sc.agent.vxlan_group) || (*parse_ipv4(sc.agent.vxlan_group) >> 28) != 0xE)
    return fail("agent.vxlan_group", line("agent.vxlan_group"),
                "expected an IPv4 multicast address (224.0.0.0/4), got '" + sc.agent.vxlan_group + "'");

  auto underlay = section(top, "underlay");
  if (!underlay.ok()) return underlay.status();
  LMH_RETURN_IF_ERROR(read_int(*underlay, "vlan", sc.underlay.vlan, between(1, 4094)));
  LMH_RETURN_IF_ERROR(read_string(*underlay, "cidr", sc.underlay.cidr));
  static const std::regex kCidr24(R"(([0-9.]+)/24)");
  std::smatch m;
  if (!std::regex_match(sc.underlay.cidr, m, kCidr24) || !parse_ipv4(m[1].str()) ||
      (*parse_ipv4(m[1].str()) & 0xffu) != 0)
    return fail("underlay.cidr", line("underlay.cidr"),
                "expected an IPv4 /24 network like 198.19.0.0/24, got '" + sc.underlay.cidr + "'");
  // An OVN chassis always has its Geneve endpoint on the underlay, whatever
  // the network's type.
  bool endpoints = sc.network.is_tunnel();
  for (const auto& h : sc.hosts) endpoints |= h.backend == core::Backend::kOvn;
  if (endpoints && sc.network.type == "vlan" && sc.underlay.vlan == sc.network.segmentation_id)
    return blame("network.segmentation_id", {"underlay.vlan"},
                 fmt::format("must differ from underlay.vlan ({}), where the OVN chassis have their Geneve endpoints",
                             sc.underlay.vlan));
  if (sc.network.is_tunnel() && sc.underlay.vlan == sc.network.segmentation_id)
    return blame("underlay.vlan", {"network.segmentation_id"}, "must differ from the network's segmentation_id");
  return ok_status();
}

// Reads the keys a host may set for its agent ('s' is the top-level
// `agent:` or a host's) over the values already in 'agent'.
Status Reader::read_agent_settings(const Section& s, AgentSpec& agent) {
  LMH_RETURN_IF_ERROR(read_int(s, "polling_interval_ms", agent.polling_interval_ms, between(100, 600000)));
  LMH_RETURN_IF_ERROR(read_bool(s, "l2_population", agent.l2_population));
  LMH_RETURN_IF_ERROR(read_bool(s, "arp_responder", agent.arp_responder));
  return read_int(s, "udp_dstport", agent.udp_dstport, between(0, 65535));
}

// The same for nova.conf ('s' is the top-level `nova:` or a host's).
Status Reader::read_nova_settings(const Section& s, NovaSpec& nova) {
  LMH_RETURN_IF_ERROR(read_bool(s, "live_migration_wait_for_vif_plug", nova.live_migration_wait_for_vif_plug));
  LMH_RETURN_IF_ERROR(read_int(s, "vif_plugging_timeout_s", nova.vif_plugging_timeout_s, between(0, 3600)));
  LMH_RETURN_IF_ERROR(read_bool(s, "vif_plugging_is_fatal", nova.vif_plugging_is_fatal));
  core::MigrationTuning& lt = nova.libvirt;
  LMH_RETURN_IF_ERROR(read_int(s, "live_migration_downtime_ms", lt.downtime_ms, at_least(100)));
  LMH_RETURN_IF_ERROR(read_int(s, "live_migration_downtime_steps", lt.downtime_steps, at_least(3)));
  LMH_RETURN_IF_ERROR(read_int(s, "live_migration_downtime_delay_s", lt.downtime_delay_s, at_least(3)));
  LMH_RETURN_IF_ERROR(read_int(s, "live_migration_completion_timeout_s", lt.completion_timeout_s_per_gib,
                               at_least(0)));
  LMH_RETURN_IF_ERROR(read_string(s, "live_migration_timeout_action", lt.timeout_action));
  if (lt.timeout_action != "abort" && lt.timeout_action != "force_complete") {
    std::string key = s.key("live_migration_timeout_action");
    return fail(key, line(key), "expected abort or force_complete, got '" + lt.timeout_action + "'");
  }
  return ok_status();
}

Status Reader::read_nova(const Section& top, Scenario& sc) {
  auto nova = section(top, "nova");
  if (!nova.ok()) return nova.status();
  LMH_RETURN_IF_ERROR(read_nova_settings(*nova, sc.nova));
  return read_int(*nova, "rpc_response_timeout_s", sc.nova.rpc_response_timeout_s, between(1, 3600));
}

// Each host's agent and nova.conf: the top-level sections (read before),
// then the host's own `agent:` and `nova:` keys.
Status Reader::read_host_settings(const Section& top, Scenario& sc) {
  YAML::Node list = top.get("hosts");
  const bool listed = list.IsDefined() && list.IsSequence();  // else the default hosts
  for (size_t i = 0; i < sc.hosts.size(); ++i) {
    HostSpec& h = sc.hosts[i];
    h.agent = sc.agent;
    h.nova = sc.nova;
    if (!listed) continue;
    std::string path = fmt::format("hosts[{}]", i);
    Section hs{list[i], path, line_of(list[i], line("hosts"))};
    auto agent = section(hs, "agent");
    if (!agent.ok()) return agent.status();
    LMH_RETURN_IF_ERROR(read_agent_settings(*agent, h.agent));
    auto nova = section(hs, "nova");
    if (!nova.ok()) return nova.status();
    LMH_RETURN_IF_ERROR(read_nova_settings(*nova, h.nova));
  }
  return ok_status();
}

Status Reader::read_behaviour(const Section& top, Scenario& sc) {
  auto behaviour = section(top, "behaviour");
  if (!behaviour.ok()) return behaviour.status();
  LMH_RETURN_IF_ERROR(
      read_bool(*behaviour, "pre_plug_vlan_uplink", sc.behaviour.pre_plug_vlan_uplink));
  LMH_RETURN_IF_ERROR(
      read_bool(*behaviour, "vif_plugged_from_agent_only", sc.behaviour.vif_plugged_from_agent_only));
  LMH_RETURN_IF_ERROR(
      read_bool(*behaviour, "lb_agent_honours_migrating_to", sc.behaviour.lb_agent_honours_migrating_to));
  LMH_RETURN_IF_ERROR(
      read_bool(*behaviour, "ovs_agent_wires_migrating_to", sc.behaviour.ovs_agent_wires_migrating_to));
  LMH_RETURN_IF_ERROR(
      read_bool(*behaviour, "l2pop_on_binding_activate", sc.behaviour.l2pop_on_binding_activate));
  {
    std::string text = core::dest_xml_bridge_name(sc.behaviour.dest_xml_bridge);
    LMH_RETURN_IF_ERROR(read_string(*behaviour, "dest_xml_bridge", text));
    auto mode = core::parse_dest_xml_bridge(text);
    if (!mode.ok())
      return fail("behaviour.dest_xml_bridge", line("behaviour.dest_xml_bridge"),
                  "expected source or destination, got '" + text + "'");
    sc.behaviour.dest_xml_bridge = *mode;
  }
  LMH_RETURN_IF_ERROR(read_bool(*behaviour, "ovn_multichassis_binding", sc.behaviour.ovn_multichassis_binding));
  {
    // "none" in the file: neutron's empty string, the strategy switched off.
    std::string text = sc.behaviour.ovn_activation_strategy.empty() ? "none" : sc.behaviour.ovn_activation_strategy;
    LMH_RETURN_IF_ERROR(read_string(*behaviour, "ovn_activation_strategy", text));
    if (text != "rarp" && text != "none")
      return fail("behaviour.ovn_activation_strategy", line("behaviour.ovn_activation_strategy"),
                  "expected rarp or none, got '" + text + "'");
    sc.behaviour.ovn_activation_strategy = text == "none" ? "" : text;
  }
  LMH_RETURN_IF_ERROR(read_bool(*behaviour, "wait_only_for_plug_time_events",
                                sc.behaviour.wait_only_for_plug_time_events));
  LMH_RETURN_IF_ERROR(read_bool(*behaviour, "announce_self_after_migration",
                                sc.behaviour.announce_self_after_migration));
  LMH_RETURN_IF_ERROR(read_int(*behaviour, "announce_self_count", sc.behaviour.announce_self_count, between(1, 100)));
  LMH_RETURN_IF_ERROR(read_int(*behaviour, "announce_self_interval_ms", sc.behaviour.announce_self_interval_ms,
                               between(0, 600000)));
  return ok_status();
}

Status Reader::read(const YAML::Node& root, Scenario& sc) {
  Section top{root, "", line_of(root, 1)};
  LMH_RETURN_IF_ERROR(check_keys(top, ""));

  static const std::regex kName("[A-Za-z0-9._-]+");
  if (!top.get("name").IsDefined()) return fail("name", top.line, "required key is missing");
  LMH_RETURN_IF_ERROR(read_string(top, "name", sc.name));
  if (!std::regex_match(sc.name, kName))
    return fail("name", line("name"), "must match [A-Za-z0-9._-]+, got '" + sc.name + "'");
  LMH_RETURN_IF_ERROR(read_string(top, "description", sc.description));
  std::string tier = to_string(sc.tier);
  LMH_RETURN_IF_ERROR(read_string(top, "tier", tier));
  auto parsed_tier = parse_tier(tier);
  if (!parsed_tier.ok()) return fail("tier", line("tier"), parsed_tier.status().message());
  sc.tier = *parsed_tier;
  LMH_RETURN_IF_ERROR(read_bool(top, "warm_destination", sc.warm_destination));
  LMH_RETURN_IF_ERROR(read_hosts(top, sc));
  LMH_RETURN_IF_ERROR(read_faults(top, sc));

  auto fabric = section(top, "fabric");
  if (!fabric.ok()) return fabric.status();
  LMH_RETURN_IF_ERROR(read_int(*fabric, "mac_ageing_s", sc.fabric.mac_ageing_s, between(15, 3600)));

  LMH_RETURN_IF_ERROR(read_network(top, sc));
  LMH_RETURN_IF_ERROR(read_guest_and_peer(top, sc));

  LMH_RETURN_IF_ERROR(read_migration(top, sc));
  LMH_RETURN_IF_ERROR(read_probe_and_agent(top, sc));
  LMH_RETURN_IF_ERROR(read_nova(top, sc));
  LMH_RETURN_IF_ERROR(read_host_settings(top, sc));
  LMH_RETURN_IF_ERROR(read_behaviour(top, sc));

  auto expect = section(top, "expect");
  if (!expect.ok()) return expect.status();
  LMH_RETURN_IF_ERROR(
      read_double(*expect, "max_downtime_ms", sc.expect.max_downtime_ms, at_least(0)));
  LMH_RETURN_IF_ERROR(
      read_int(*expect, "recover_within_ms", sc.expect.recover_within_ms, at_least(0)));

  return check_topology(sc);
}

// Applies --set 'text' ("dotted.key=value") to 'root'; on success stores the
// key in 'key' and the override, without stray spaces, in 'normalised'.
// Missing intermediate maps are created.
Status apply_override(YAML::Node& root, const std::string& file, const std::string& text,
                      std::string& key, std::string& normalised) {
  auto eq = text.find('=');
  if (eq == std::string::npos)
    return invalid_argument(file + ": --set " + text + ": expected key=value");
  key = trim(text.substr(0, eq));
  std::string value = trim(text.substr(eq + 1));
  if (key.empty()) return invalid_argument(file + ": --set " + text + ": expected key=value");
  if (!is_scalar_key(key)) return invalid_argument(file + ": --set " + key + ": unknown key");
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    return invalid_argument(file + ": --set " + key + ": cannot parse value '" + value +
                            "': " + e.msg);
  }
  // A fresh node carries no position from the value's own one-line document.
  YAML::Node leaf(YAML::NodeType::Null);
  if (parsed.IsScalar()) leaf = YAML::Node(parsed.Scalar());
  else if (!parsed.IsNull())
    return invalid_argument(file + ": --set " + key + ": expected a single value, got " +
                            describe(parsed));

  std::vector<std::string> segs;
  for (size_t b = 0, e; b <= key.size(); b = e + 1) {
    e = key.find('.', b);
    if (e == std::string::npos) e = key.size();
    segs.push_back(key.substr(b, e - b));
  }
  YAML::Node cur = root;
  std::string path;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    path += (i ? "." : "") + segs[i];
    YAML::Node next = cur[segs[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[segs[i]] = YAML::Node(YAML::NodeType::Map);
    } else if (!next.IsMap()) {
      return invalid_argument(fmt::format("{}:{}: {}: expected a map, got {}", file,
                                          line_of(next, 1), path, describe(next)));
    }
    cur.reset(cur[segs[i]]);  // rebinding; plain assignment would overwrite the node
  }
  cur[segs.back()] = leaf;
  normalised = key + "=" + value;
  return ok_status();
}

}  // namespace

std::string Scenario::bystander_ip() const {
  auto ip = parse_ipv4(guest.ip);
  auto gw = parse_ipv4(peer.ip);
  if (!ip || !gw) return "";
  return format_ipv4(*ip + 1 == *gw ? *ip + 2 : *ip + 1);
}

std::map<std::string, std::string> Scenario::behaviour_map() const {
  auto text = [](bool b) { return b ? "true" : "false"; };
  std::map<std::string, std::string> out{{"pre_plug_vlan_uplink", text(behaviour.pre_plug_vlan_uplink)},
          {"vif_plugged_from_agent_only", text(behaviour.vif_plugged_from_agent_only)},
          {"lb_agent_honours_migrating_to", text(behaviour.lb_agent_honours_migrating_to)},
          {"ovs_agent_wires_migrating_to", text(behaviour.ovs_agent_wires_migrating_to)},
          {"l2pop_on_binding_activate", text(behaviour.l2pop_on_binding_activate)},
          {"wait_only_for_plug_time_events", text(behaviour.wait_only_for_plug_time_events)},
          {"dest_xml_bridge", core::dest_xml_bridge_name(behaviour.dest_xml_bridge)},
          {"announce_self_after_migration", text(behaviour.announce_self_after_migration)}};
  // ML2/OVN's switches only where a host runs it.
  for (const auto& h : hosts) {
    if (h.backend != core::Backend::kOvn) continue;
    out["ovn_multichassis_binding"] = text(behaviour.ovn_multichassis_binding);
    out["ovn_activation_strategy"] = behaviour.ovn_activation_strategy.empty() ? "none" : behaviour.ovn_activation_strategy;
    break;
  }
  return out;
}

std::string Scenario::display_name() const {
  if (overrides.empty()) return name;
  std::vector<std::string> shown;
  for (const auto& o : overrides) {
    std::string_view prefix = kBehaviourPrefix;
    shown.push_back(o.compare(0, prefix.size(), prefix) == 0 ? o.substr(prefix.size()) : o);
  }
  return name + "[" + join(shown, ",") + "]";
}

StatusOr<Scenario> parse_scenario(const std::string& yaml_text, const std::string& source_name,
                                  const std::vector<std::string>& overrides) {
  // One document: the first, after checking that no second one follows
  // (YAML::Load reads the first alone).
  YAML::Node root;
  try {
    const auto docs = first_documents(yaml_text, 2);
    if (docs.size() > 1)
      return invalid_argument(fmt::format("{}:{}: (top level): only one YAML document is allowed", source_name,
                                          docs[1].node.line + 1));
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return invalid_argument(
        fmt::format("{}:{}: syntax error: {}", source_name, e.mark.line + 1, e.msg));
  } catch (const YAML::Exception& e) {
    return invalid_argument(fmt::format("{}:{}: syntax error: {}", source_name,
                                        std::max(e.mark.line, 0) + 1, e.msg));
  }
  if (!root.IsMap())
    return invalid_argument(
        fmt::format("{}:{}: (top level): expected a map of scenario keys, got {}", source_name,
                    line_of(root, 1), describe(root)));

  Scenario sc;
  sc.source_file = source_name;
  std::set<std::string> overridden;
  for (const auto& o : overrides) {
    std::string key, normalised;
    LMH_RETURN_IF_ERROR(apply_override(root, source_name, o, key, normalised));
    overridden.insert(key);
    sc.overrides.push_back(normalised);
  }

  Reader reader(source_name, std::move(overridden));
  try {
    LMH_RETURN_IF_ERROR(reader.read(root, sc));
  } catch (const YAML::Exception& e) {
    // Reading uses only checked accessors; this is a yaml-cpp surprise.
    return invalid_argument(
        fmt::format("{}:{}: {}", source_name, std::max(e.mark.line, 0) + 1, e.msg));
  }
  return sc;
}

StatusOr<Scenario> load_scenario(const std::string& path,
                                 const std::vector<std::string>& overrides) {
  auto cannot_read = [&](int err) {
    return invalid_argument("cannot read " + path + ": " + std::strerror(err));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_read(errno);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return cannot_read(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parse_scenario(text, path, overrides);
}

}  // namespace lmh::harness
