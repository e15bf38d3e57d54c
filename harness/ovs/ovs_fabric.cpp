#include "harness/ovs/ovs_fabric.h"

#include <map>
#include <sstream>

#include "harness/system/process.h"

namespace lmh::harness {

StatusOr<std::unique_ptr<OvsFabric>> OvsFabric::start(const Options& o) {
  std::unique_ptr<OvsFabric> f(new OvsFabric(o));
  // OvsDaemons sets flow-limit=0: the fabric must move a MAC on the first
  // frame from its new port, as a hardware switch does (see ovs_daemons.cpp).
  auto daemons = OvsDaemons::start({o.state_dir, o.netns_fd});
  if (!daemons.ok()) return daemons.status();
  f->daemons_ = std::move(daemons).value();
  OvsdbIdlDatabase::Options idl;
  idl.db_socket = f->daemons_->db_socket();
  idl.run_dir = f->daemons_->run_dir();
  f->db_ = std::make_unique<OvsdbIdlDatabase>(idl);
  // Writes return once ovs-vswitchd applied them: the bridge forwards now.
  Status br = f->db_->ensure_bridge(o.bridge, "netdev");
  if (br.ok())
    br = f->db_->configure_bridge(o.bridge, "standalone",
                                  {{"mac-aging-time", std::to_string(o.mac_ageing_s)}});
  if (!br.ok()) return br.with_context("fabric bridge");
  return f;
}

OvsFabric::~OvsFabric() = default;

Status OvsFabric::add_access_port(const std::string& port, int vlan) {
  return db_->add_port(options_.bridge, port, {}, vlan);
}

Status OvsFabric::add_trunk_port(const std::string& port) {
  return db_->add_port(options_.bridge, port, {}, std::nullopt);
}

Status OvsFabric::delete_port(const std::string& port) {
  return db_->delete_port(port);
}

bool OvsFabric::healthy() { return daemons_->healthy(); }

StatusOr<std::vector<FdbEntry>> OvsFabric::fdb() {
  auto interfaces = db_->list_interfaces();
  if (!interfaces.ok()) return interfaces.status();
  std::map<std::string, std::string> by_ofport;
  for (const auto& i : *interfaces) by_ofport[std::to_string(i.ofport)] = i.name;
  auto out = run_checked({"ovs-appctl", "-t", daemons_->vswitchd_ctl(), "fdb/show", options_.bridge});
  if (!out.ok()) return out.status();
  std::vector<FdbEntry> entries;
  std::istringstream is(*out);
  std::string line;
  std::getline(is, line);  // header: port VLAN MAC Age
  while (std::getline(is, line)) {
    std::istringstream ls(line);
    std::string port, mac, age;
    int vlan = 0;
    if (!(ls >> port >> vlan >> mac >> age)) continue;
    FdbEntry e;
    e.port = by_ofport.count(port) ? by_ofport[port] : port;
    e.vlan = vlan;
    e.mac = mac;
    e.age_s = age == "?" ? 0 : std::atoi(age.c_str());
    entries.push_back(e);
  }
  return entries;
}

StatusOr<std::string> OvsFabric::port_of(const std::string& mac, int vlan) {
  auto entries = fdb();
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) if (e.mac == mac && e.vlan == vlan) return e.port;
  return std::string();
}

}  // namespace lmh::harness
