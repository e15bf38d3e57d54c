#include "harness/ovs/ovsdb_idl.h"

#include <arpa/inet.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "harness/ovs/ovsdb_c.h"
#include "harness/system/process.h"

namespace lmh::harness {

namespace {

// The Status for C API result 'code' on 'db'.
Status to_status(int code, const lmh_ovsdb* db) {
  std::string message = lmh_ovsdb_error(db);
  switch (static_cast<lmh_ovsdb_code>(code)) {
    case LMH_OVSDB_OK: return ok_status();
    case LMH_OVSDB_INVALID_ARGUMENT: return invalid_argument(message);
    case LMH_OVSDB_NOT_FOUND: return not_found(message);
    case LMH_OVSDB_FAILED_PRECONDITION: return failed_precondition(message);
    case LMH_OVSDB_UNAVAILABLE: return unavailable(message);
    case LMH_OVSDB_DEADLINE_EXCEEDED: return deadline_exceeded(message);
    case LMH_OVSDB_INTERNAL: return internal_error(message);
  }
  return internal_error("unknown OVSDB result " + std::to_string(code) + ": " + message);
}

// 'map' as the C API's key/value array (pointing into 'map').
std::vector<lmh_ovsdb_kv> to_kvs(const std::map<std::string, std::string>& map) {
  std::vector<lmh_ovsdb_kv> kvs;
  for (const auto& [k, v] : map) kvs.push_back({k.c_str(), v.c_str()});
  return kvs;
}

void collect_name(void* aux, const char* name) { static_cast<std::vector<std::string>*>(aux)->push_back(name); }

void collect_port(void* aux, const char* name, int tag, const lmh_ovsdb_kv* ids, size_t n) {
  core::OvsPort port;
  port.name = name;
  if (tag >= 0) port.tag = tag;
  for (size_t i = 0; i < n; ++i) port.external_ids[ids[i].key] = ids[i].value;
  static_cast<std::vector<core::OvsPort>*>(aux)->push_back(std::move(port));
}

void collect_interface(void* aux, const char* name, const char* type, int64_t ofport) {
  static_cast<std::vector<OvsInterface>*>(aux)->push_back({name, type, static_cast<int>(ofport)});
}

int timeout_ms(std::chrono::milliseconds t) { return static_cast<int>(t.count()); }

}  // namespace

PhysnetBridge neutron_physnet_bridge(const std::string& bridge) {
  return {bridge, "int-" + bridge, "phy-" + bridge};
}

OvsdbIdlDatabase::OvsdbIdlDatabase(Options options)
    : options_(std::move(options)),
      db_(lmh_ovsdb_open(("unix:" + options_.db_socket).c_str(), timeout_ms(options_.timeout)), &lmh_ovsdb_close) {
  lmh_ovsdb_set_wait_applied(db_.get(), options_.wait_for_vswitchd);
}

OvsdbIdlDatabase::~OvsdbIdlDatabase() = default;

void OvsdbIdlDatabase::set_timeout(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mu_);
    options_.timeout = timeout;
    lmh_ovsdb_set_timeout(db_.get(), timeout_ms(timeout));
  }
  std::lock_guard lock(flows_mu_);
  for (auto& [bridge, connection] : openflow_) connection->set_timeout(timeout);
}

void OvsdbIdlDatabase::set_wait_for_vswitchd(bool wait) {
  std::lock_guard lock(mu_);
  options_.wait_for_vswitchd = wait;
  lmh_ovsdb_set_wait_applied(db_.get(), wait);
}

Status OvsdbIdlDatabase::ensure_bridge(const std::string& name, const std::string& datapath_type) {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_ensure_bridge(db_.get(), name.c_str(), datapath_type.c_str()), db_.get());
}

bool OvsdbIdlDatabase::bridge_exists(const std::string& name) {
  std::lock_guard lock(mu_);
  bool exists = false;
  return lmh_ovsdb_bridge_exists(db_.get(), name.c_str(), &exists) == LMH_OVSDB_OK && exists;
}

Status OvsdbIdlDatabase::add_port(const std::string& bridge, const std::string& port,
                                  const std::map<std::string, std::string>& external_ids, std::optional<int> tag) {
  if (tag && (*tag < 0 || *tag > 4095)) return invalid_argument("port " + port + ": tag " + std::to_string(*tag));
  std::vector<lmh_ovsdb_kv> ids = to_kvs(external_ids);
  lmh_ovsdb_port_spec spec{};
  spec.bridge = bridge.c_str();
  spec.name = port.c_str();
  spec.set_external_ids = true;
  spec.external_ids = ids.data();
  spec.n_external_ids = ids.size();
  spec.tag = tag.value_or(-1);
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_add_ports(db_.get(), &spec, 1), db_.get());
}

Status OvsdbIdlDatabase::delete_port(const std::string& port) {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_delete_port(db_.get(), port.c_str()), db_.get());
}

StatusOr<std::string> OvsdbIdlDatabase::port_bridge(const std::string& port) {
  std::lock_guard lock(mu_);
  std::vector<std::string> bridges;
  int code = lmh_ovsdb_port_bridge(db_.get(), port.c_str(), collect_name, &bridges);
  if (code != LMH_OVSDB_OK) return to_status(code, db_.get());
  return bridges.empty() ? std::string() : bridges.front();
}

StatusOr<std::vector<core::OvsPort>> OvsdbIdlDatabase::list_ports(const std::string& bridge) {
  std::vector<core::OvsPort> ports;
  {
    std::lock_guard lock(mu_);
    int code = lmh_ovsdb_list_ports(db_.get(), bridge.c_str(), collect_port, &ports);
    if (code != LMH_OVSDB_OK) return to_status(code, db_.get());
  }
  std::sort(ports.begin(), ports.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return ports;
}

Status OvsdbIdlDatabase::set_tag(const std::string& port, int tag) {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_set_tag(db_.get(), port.c_str(), tag), db_.get());
}

Status OvsdbIdlDatabase::set_other_config(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_set_system_other_config(db_.get(), key.c_str(), value.c_str()), db_.get());
}

Status OvsdbIdlDatabase::set_external_id(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_set_system_external_id(db_.get(), key.c_str(), value.c_str()), db_.get());
}

Status OvsdbIdlDatabase::sync_vswitchd() {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_sync_vswitchd(db_.get()), db_.get());
}

Status OvsdbIdlDatabase::configure_bridge(const std::string& bridge, std::optional<std::string> fail_mode,
                                          const std::map<std::string, std::string>& other_config) {
  std::vector<lmh_ovsdb_kv> kvs = to_kvs(other_config);
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_configure_bridge(db_.get(), bridge.c_str(), fail_mode ? fail_mode->c_str() : nullptr,
                                              kvs.data(), kvs.size()),
                   db_.get());
}

Status OvsdbIdlDatabase::delete_bridge(const std::string& bridge) {
  {
    // Its management socket goes with it.
    std::lock_guard lock(flows_mu_);
    openflow_.erase(bridge);
  }
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_delete_bridge(db_.get(), bridge.c_str()), db_.get());
}

StatusOr<std::vector<std::string>> OvsdbIdlDatabase::list_bridges() {
  std::vector<std::string> bridges;
  {
    std::lock_guard lock(mu_);
    int code = lmh_ovsdb_list_bridges(db_.get(), collect_name, &bridges);
    if (code != LMH_OVSDB_OK) return to_status(code, db_.get());
  }
  std::sort(bridges.begin(), bridges.end());
  return bridges;
}

Status OvsdbIdlDatabase::ensure_internal_port(const std::string& bridge, const std::string& port) {
  lmh_ovsdb_port_spec spec{};
  spec.bridge = bridge.c_str();
  spec.name = port.c_str();
  spec.type = "internal";
  spec.tag = -1;
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_add_ports(db_.get(), &spec, 1), db_.get());
}

Status OvsdbIdlDatabase::add_patch_pair(const std::string& bridge_a, const std::string& port_a,
                                        const std::string& bridge_b, const std::string& port_b) {
  lmh_ovsdb_kv peer_of_a{"peer", port_b.c_str()};
  lmh_ovsdb_kv peer_of_b{"peer", port_a.c_str()};
  lmh_ovsdb_port_spec specs[2]{};
  specs[0].bridge = bridge_a.c_str();
  specs[0].name = port_a.c_str();
  specs[0].options = &peer_of_a;
  specs[1].bridge = bridge_b.c_str();
  specs[1].name = port_b.c_str();
  specs[1].options = &peer_of_b;
  for (auto& s : specs) {
    s.type = "patch";
    s.n_options = 1;
    s.tag = -1;
  }
  std::lock_guard lock(mu_);
  return to_status(lmh_ovsdb_add_ports(db_.get(), specs, 2), db_.get());
}

StatusOr<std::vector<OvsInterface>> OvsdbIdlDatabase::list_interfaces() {
  std::vector<OvsInterface> interfaces;
  {
    std::lock_guard lock(mu_);
    int code = lmh_ovsdb_list_interfaces(db_.get(), collect_interface, &interfaces);
    if (code != LMH_OVSDB_OK) return to_status(code, db_.get());
  }
  std::sort(interfaces.begin(), interfaces.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return interfaces;
}

// Flows. OpenFlow reaches ovs-vswitchd through the bridge's management
// socket in its run directory, so it needs no setns into the host; port
// names in flows are resolved against the switch, as ovs-ofctl does.

std::string OvsdbIdlDatabase::mgmt_target(const std::string& bridge) const {
  return "unix:" + options_.run_dir + "/" + bridge + ".mgmt";
}

std::chrono::milliseconds OvsdbIdlDatabase::timeout() {
  std::lock_guard lock(mu_);
  return options_.timeout;
}

// Takes mu_ (for the timeout) with flows_mu_ held; nothing takes them the
// other way round.
OpenFlowConnection& OvsdbIdlDatabase::openflow(const std::string& bridge) {
  auto& connection = openflow_[bridge];
  if (!connection) connection = std::make_unique<OpenFlowConnection>(mgmt_target(bridge), timeout());
  return *connection;
}

Status OvsdbIdlDatabase::add_flow(const std::string& bridge, const std::string& flow) {
  std::lock_guard lock(flows_mu_);
  return openflow(bridge).add_flow(flow).with_context("flow on " + bridge);
}

Status OvsdbIdlDatabase::delete_flows(const std::string& bridge, const std::string& match, bool strict) {
  std::lock_guard lock(flows_mu_);
  return openflow(bridge).delete_flows(match, strict).with_context("flow on " + bridge);
}

StatusOr<const PhysnetBridge*> OvsdbIdlDatabase::physnet_bridge(const std::string& physnet) const {
  auto it = options_.physnets.find(physnet);
  if (it == options_.physnets.end()) return not_found("no bridge mapping for physical network " + physnet);
  return &it->second;
}

Status OvsdbIdlDatabase::install_base_flows() {
  const std::string& br_int = options_.integration_bridge;
  LMH_RETURN_IF_ERROR(add_flow(br_int, "table=0,priority=0,actions=NORMAL"));
  for (const auto& [physnet, phys] : options_.physnets) {
    LMH_RETURN_IF_ERROR(add_flow(br_int, "table=0,priority=2,in_port=" + phys.int_patch_port + ",actions=drop"));
    LMH_RETURN_IF_ERROR(add_flow(phys.bridge, "table=0,priority=0,actions=NORMAL"));
    LMH_RETURN_IF_ERROR(add_flow(phys.bridge, "table=0,priority=2,in_port=" + phys.phys_patch_port + ",actions=drop"));
  }
  return ok_status();
}

namespace {

// The matches of neutron's translation flows for 'local_vlan' (br_phys.py
// and br_int.py provision_local_vlan, table 0): outbound on the physical
// bridge (priority 4) and inbound on br-int (priority 3).
struct TranslationMatches {
  std::string phys;
  std::string integration;
};

StatusOr<TranslationMatches> translation_matches(const PhysnetBridge& p, int local_vlan,
                                                 const std::string& network_type, int segmentation_id) {
  const std::string lvid = std::to_string(local_vlan);
  TranslationMatches m;
  m.phys = "table=0,priority=4,in_port=" + p.phys_patch_port + ",dl_vlan=" + lvid;
  if (network_type == "vlan") {
    m.integration = "table=0,priority=3,in_port=" + p.int_patch_port + ",dl_vlan=" + std::to_string(segmentation_id);
  } else if (network_type == "flat") {
    // Untagged (VID 0 included), as OFPVID_NONE matches in neutron.
    m.integration = "table=0,priority=3,in_port=" + p.int_patch_port + ",vlan_tci=0x0000/0x1fff";
  } else {
    return invalid_argument("network type " + network_type + " has no physical bridge flows in the lab");
  }
  return m;
}

}  // namespace

Status OvsdbIdlDatabase::provision_local_vlan(int local_vlan, const std::string& physnet,
                                              const std::string& network_type, int segmentation_id) {
  if (network_type == "vxlan") return provision_tunnel(local_vlan, physnet, segmentation_id);
  auto phys = physnet_bridge(physnet);
  if (!phys.ok()) return phys.status();
  if (local_vlan < 1 || local_vlan > 4094) return invalid_argument("local VLAN " + std::to_string(local_vlan));
  if (network_type == "vlan" && (segmentation_id < 1 || segmentation_id > 4094))
    return invalid_argument("segmentation id " + std::to_string(segmentation_id));
  auto m = translation_matches(**phys, local_vlan, network_type, segmentation_id);
  if (!m.ok()) return m.status();
  const std::string to_local = "mod_vlan_vid:" + std::to_string(local_vlan) + ",NORMAL";
  const std::string to_wire =
      network_type == "vlan" ? "mod_vlan_vid:" + std::to_string(segmentation_id) + ",NORMAL" : "strip_vlan,NORMAL";
  LMH_RETURN_IF_ERROR(add_flow((*phys)->bridge, m->phys + ",actions=" + to_wire));
  return add_flow(options_.integration_bridge, m->integration + ",actions=" + to_local);
}

Status OvsdbIdlDatabase::reclaim_local_vlan(int local_vlan, const std::string& physnet,
                                            const std::string& network_type, int segmentation_id) {
  if (network_type == "vxlan") return reclaim_tunnel(local_vlan, physnet, segmentation_id);
  auto phys = physnet_bridge(physnet);
  if (!phys.ok()) return phys.status();
  auto m = translation_matches(**phys, local_vlan, network_type, segmentation_id);
  if (!m.ok()) return m.status();
  // --strict: exactly these flows; deleting none is success.
  LMH_RETURN_IF_ERROR(delete_flows((*phys)->bridge, m->phys, true));
  return delete_flows(options_.integration_bridge, m->integration, true);
}

// The tunnel bridge (br-tun), as neutron's OVS agent programs it for VXLAN
// (openflow/native/br_tun.py, constants.py). Flows name ports, as the other
// flows here do; they are resolved against the switch.

namespace {

// neutron's br-tun tables (constants.py).
constexpr int kPatchLvToTun = 2;
constexpr int kGreTunToLv = 3;
constexpr int kVxlanTunToLv = 4;
constexpr int kGeneveTunToLv = 6;
constexpr int kLearnFromTun = 10;
constexpr int kUcastToTun = 20;
constexpr int kArpResponder = 21;
constexpr int kFloodToTun = 22;
constexpr int kMaxVni = (1 << 24) - 1;  // VXLAN's 24-bit network identifier

std::string table(int t) { return "table=" + std::to_string(t); }

Status check_local_vlan(int local_vlan) {
  if (local_vlan < 1 || local_vlan > 4094) return invalid_argument("local VLAN " + std::to_string(local_vlan));
  return ok_status();
}

Status check_vni(int vni) {
  if (vni < 1 || vni > kMaxVni) return invalid_argument("VNI " + std::to_string(vni) + " is outside 1..16777215");
  return ok_status();
}

// Port names go into flow text, so only what a device name may hold and
// nothing OVS's flow parser would read as syntax (',', '=', ':', spaces,
// '('), nor as another port: it takes a number, or a reserved name in any
// case, for that port before it looks names up.
Status check_port_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 15 && name.find_first_not_of("0123456789") != std::string::npos;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  for (const char* reserved : {"in_port", "table", "normal", "flood", "all", "controller", "local", "none"})
    ok = ok && ::strcasecmp(name.c_str(), reserved) != 0;
  return ok ? ok_status() : invalid_argument("port name '" + name + "'");
}

// 'ip' as a 32-bit number (host order); nullopt unless dotted IPv4.
std::optional<uint32_t> parse_ipv4(const std::string& ip) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

// 'mac' ("fa:16:3e:00:00:01", either case) as a 48-bit number; nullopt
// unless six colon-separated pairs of hex digits.
std::optional<uint64_t> parse_mac(const std::string& mac) {
  if (mac.size() != 17) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < mac.size(); ++i) {
    const unsigned char c = mac[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
      continue;
    }
    if (!std::isxdigit(c)) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
  }
  return v;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// Leaves br-tun as VNI 'vni': the VLAN tag off, the tunnel key set (the
// ports' out_key=flow reads it).
std::string to_tunnel(int vni) { return "strip_vlan,load:" + std::to_string(vni) + "->NXM_NX_TUN_ID[]"; }

Status check_tunnel_port(const core::OvsTunnelPort& p) {
  LMH_RETURN_IF_ERROR(check_port_name(p.name));
  if (!parse_ipv4(p.remote_ip)) return invalid_argument("tunnel port " + p.name + ": remote_ip '" + p.remote_ip + "'");
  if (!parse_ipv4(p.local_ip)) return invalid_argument("tunnel port " + p.name + ": local_ip '" + p.local_ip + "'");
  if (p.dst_port < 1 || p.dst_port > 65535)
    return invalid_argument("tunnel port " + p.name + ": dst_port " + std::to_string(p.dst_port));
  return ok_status();
}

}  // namespace

StatusOr<const TunnelBridge*> OvsdbIdlDatabase::tunnel_bridge() const {
  if (!options_.tunnel) return failed_precondition("this host has no tunnel bridge");
  return &*options_.tunnel;
}

Status OvsdbIdlDatabase::tun_add_flow(const std::string& flow) {
  auto tun = tunnel_bridge();
  if (!tun.ok()) return tun.status();
  return add_flow((*tun)->bridge, flow);
}

Status OvsdbIdlDatabase::tun_delete_flows(const std::string& match, bool strict) {
  auto tun = tunnel_bridge();
  if (!tun.ok()) return tun.status();
  return delete_flows((*tun)->bridge, match, strict);
}

// kNotFound unless every port of 'ports' is on br-tun: a flow to a port of
// another bridge would be refused, or worse, mean a different port.
Status OvsdbIdlDatabase::require_tunnel_ports(const std::vector<std::string>& ports) {
  auto tun = tunnel_bridge();
  if (!tun.ok()) return tun.status();
  for (const auto& p : ports) {
    auto bridge = port_bridge(p);
    if (!bridge.ok()) return bridge.status();
    if (*bridge != (*tun)->bridge) return not_found("no tunnel port " + p + " on " + (*tun)->bridge);
  }
  return ok_status();
}

Status OvsdbIdlDatabase::install_tunnel_base_flows() {
  auto tun = tunnel_bridge();
  if (!tun.ok()) return tun.status();
  const std::string patch = (*tun)->tun_patch_port;
  const std::string learn =
      "learn(table=20,hard_timeout=300,priority=1,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
      "load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[])";
  const std::vector<std::string> flows = {
      "table=0,priority=1,in_port=" + patch + ",actions=resubmit(,2)",
      "table=0,priority=0,actions=drop",
      table(kPatchLvToTun) + ",priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff,actions=resubmit(,21)",
      table(kPatchLvToTun) + ",priority=0,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00,actions=resubmit(,20)",
      table(kPatchLvToTun) + ",priority=0,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=resubmit(,22)",
      table(kGreTunToLv) + ",priority=0,actions=drop",
      table(kVxlanTunToLv) + ",priority=0,actions=drop",
      table(kGeneveTunToLv) + ",priority=0,actions=drop",
      table(kLearnFromTun) + ",priority=1,actions=" + learn + ",output:" + patch,
      table(kUcastToTun) + ",priority=0,actions=resubmit(,22)",
      table(kArpResponder) + ",priority=0,actions=resubmit(,22)",
      table(kFloodToTun) + ",priority=0,actions=drop",
  };
  for (const auto& f : flows) LMH_RETURN_IF_ERROR(tun_add_flow(f));
  return ok_status();
}

Status OvsdbIdlDatabase::provision_tunnel(int local_vlan, const std::string& physnet, int vni) {
  if (!physnet.empty()) return invalid_argument("a vxlan network has no physical network (got " + physnet + ")");
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  LMH_RETURN_IF_ERROR(check_vni(vni));
  return tun_add_flow(table(kVxlanTunToLv) + ",priority=1,tun_id=" + std::to_string(vni) +
                      ",actions=mod_vlan_vid:" + std::to_string(local_vlan) + ",resubmit(,10)");
}

Status OvsdbIdlDatabase::reclaim_tunnel(int local_vlan, const std::string& physnet, int vni) {
  if (!physnet.empty()) return invalid_argument("a vxlan network has no physical network (got " + physnet + ")");
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  LMH_RETURN_IF_ERROR(check_vni(vni));
  LMH_RETURN_IF_ERROR(tun_delete_flows(table(kVxlanTunToLv) + ",priority=1,tun_id=" + std::to_string(vni), true));
  // Not strict: every entry of the local VLAN, whatever its mac, ip or
  // ports (neutron's delete_flood_to_tun, delete_unicast_to_tun and
  // delete_arp_responder with no mac or ip). Learned entries (matching
  // the VLAN id bits only) are left to their hard_timeout, as in neutron.
  for (int t : {kUcastToTun, kArpResponder, kFloodToTun})
    LMH_RETURN_IF_ERROR(tun_delete_flows(table(t) + ",dl_vlan=" + std::to_string(local_vlan)));
  return ok_status();
}

Status OvsdbIdlDatabase::add_tunnel_port(const core::OvsTunnelPort& port) {
  LMH_RETURN_IF_ERROR(check_tunnel_port(port));
  auto tun = tunnel_bridge();
  if (!tun.ok()) return tun.status();
  const std::string dst_port = std::to_string(port.dst_port);
  // The agent's options (ovs_lib add_tunnel_port) with its default
  // dont_fragment = True; dst_port always, so the port says what it uses.
  const lmh_ovsdb_kv options[] = {{"remote_ip", port.remote_ip.c_str()}, {"local_ip", port.local_ip.c_str()},
                                  {"in_key", "flow"},                    {"out_key", "flow"},
                                  {"dst_port", dst_port.c_str()},        {"df_default", "true"}};
  lmh_ovsdb_port_spec spec{};
  spec.bridge = (*tun)->bridge.c_str();
  spec.name = port.name.c_str();
  spec.type = "vxlan";
  spec.options = options;
  spec.n_options = std::size(options);
  spec.tag = -1;
  {
    std::lock_guard lock(mu_);
    LMH_RETURN_IF_ERROR(to_status(lmh_ovsdb_add_ports(db_.get(), &spec, 1), db_.get()));
  }
  return tun_add_flow("table=0,priority=1,in_port=" + port.name + ",actions=resubmit(," +
                      std::to_string(kVxlanTunToLv) + ")");
}

Status OvsdbIdlDatabase::delete_tunnel_port(const std::string& name) {
  LMH_RETURN_IF_ERROR(check_port_name(name));
  auto tun = tunnel_bridge();
  if (!tun.ok()) return tun.status();
  auto bridge = port_bridge(name);
  if (!bridge.ok()) return bridge.status();
  if (bridge->empty()) return ok_status();
  auto interfaces = list_interfaces();
  if (!interfaces.ok()) return interfaces.status();
  auto it = std::find_if(interfaces->begin(), interfaces->end(), [&](const auto& i) { return i.name == name; });
  // Only br-tun's vxlan ports: never its patch to br-int, nor a VM's port.
  if (*bridge != (*tun)->bridge || it == interfaces->end() || it->type != "vxlan")
    return failed_precondition("port " + name + " on " + *bridge + " is not a tunnel port of " + (*tun)->bridge);
  // The flow first: the switch resolves the name only while the port exists.
  LMH_RETURN_IF_ERROR(tun_delete_flows("table=0,in_port=" + name));
  return delete_port(name);
}

Status OvsdbIdlDatabase::set_flood_to_tunnels(int local_vlan, int vni, const std::vector<std::string>& ports) {
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  LMH_RETURN_IF_ERROR(check_vni(vni));
  for (const auto& p : ports) LMH_RETURN_IF_ERROR(check_port_name(p));
  const std::string match = table(kFloodToTun) + ",priority=1,dl_vlan=" + std::to_string(local_vlan);
  if (ports.empty()) return tun_delete_flows(match, true);
  LMH_RETURN_IF_ERROR(require_tunnel_ports(ports));
  std::string actions = to_tunnel(vni);
  for (const auto& p : ports) actions += ",output:" + p;
  return tun_add_flow(match + ",actions=" + actions);
}

Status OvsdbIdlDatabase::install_unicast_to_tunnel(int local_vlan, int vni, const std::string& port,
                                                   const std::string& mac) {
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  LMH_RETURN_IF_ERROR(check_vni(vni));
  LMH_RETURN_IF_ERROR(check_port_name(port));
  if (!parse_mac(mac)) return invalid_argument("MAC '" + mac + "'");
  LMH_RETURN_IF_ERROR(require_tunnel_ports({port}));
  // Same match and priority: add-flow replaces the entry of that mac.
  return tun_add_flow(table(kUcastToTun) + ",priority=2,dl_vlan=" + std::to_string(local_vlan) + ",dl_dst=" + mac +
                      ",actions=" + to_tunnel(vni) + ",output:" + port);
}

Status OvsdbIdlDatabase::delete_unicast_to_tunnel(int local_vlan, const std::string& mac) {
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  if (!parse_mac(mac)) return invalid_argument("MAC '" + mac + "'");
  return tun_delete_flows(table(kUcastToTun) + ",dl_vlan=" + std::to_string(local_vlan) + ",dl_dst=" + mac);
}

Status OvsdbIdlDatabase::install_arp_responder(int local_vlan, const std::string& ip, const std::string& mac) {
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  auto ip_value = parse_ipv4(ip);
  if (!ip_value) return invalid_argument("IPv4 address '" + ip + "'");
  auto mac_value = parse_mac(mac);
  if (!mac_value) return invalid_argument("MAC '" + mac + "'");
  // The request turned into its reply in place (ARP_RESPONDER_ACTIONS) and
  // sent back where it came from, still tagged with the local VLAN.
  const std::string actions = "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:" + mac +
                              ",load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
                              "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:" +
                              hex(*mac_value) + "->NXM_NX_ARP_SHA[],load:" + hex(*ip_value) +
                              "->NXM_OF_ARP_SPA[],in_port";
  return tun_add_flow(table(kArpResponder) + ",priority=1,arp,dl_vlan=" + std::to_string(local_vlan) +
                      ",arp_tpa=" + ip + ",actions=" + actions);
}

Status OvsdbIdlDatabase::delete_arp_responder(int local_vlan, const std::string& ip) {
  LMH_RETURN_IF_ERROR(check_local_vlan(local_vlan));
  if (!parse_ipv4(ip)) return invalid_argument("IPv4 address '" + ip + "'");
  return tun_delete_flows(table(kArpResponder) + ",arp,dl_vlan=" + std::to_string(local_vlan) + ",arp_tpa=" + ip);
}

StatusOr<std::vector<std::string>> OvsdbIdlDatabase::dump_flows(const std::string& bridge) {
  auto out = run_checked({"ovs-ofctl", "--names", "--no-stats", "dump-flows", mgmt_target(bridge)}, timeout());
  if (!out.ok()) return out.status();
  std::vector<std::string> flows;
  std::istringstream is(*out);
  for (std::string line; std::getline(is, line);) {
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    line = line.substr(start);
    if (line.rfind("NXST_FLOW", 0) == 0 || line.rfind("OFPST_FLOW", 0) == 0) continue;
    flows.push_back(line);
  }
  return flows;
}

}  // namespace lmh::harness
