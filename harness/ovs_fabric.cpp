#include "harness/ovs_fabric.h"

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "harness/wait.h"

namespace lmh::harness {

namespace {
constexpr const char* kSchema = "/usr/share/openvswitch/vswitch.ovsschema";
}

StatusOr<std::unique_ptr<OvsFabric>> OvsFabric::start(const Options& o) {
  if (find_program("ovs-vswitchd").empty() || find_program("ovsdb-server").empty())
    return environment_error("Open vSwitch is not installed (package openvswitch-switch)");
  std::unique_ptr<OvsFabric> f(new OvsFabric(o));
  const std::string& d = o.state_dir;
  std::map<std::string, std::string> env = {
      {"OVS_RUNDIR", d}, {"OVS_DBDIR", d}, {"OVS_LOGDIR", d}, {"OVS_SYSCONFDIR", d}};
  std::string db = d + "/conf.db";
  ::unlink(db.c_str());
  auto created = run_checked({"ovsdb-tool", "create", db, kSchema});
  if (!created.ok()) return created.status();
  auto ovsdb = Daemon::start({{"ovsdb-server", db, "--remote=punix:" + f->db_socket(),
                               "--unixctl=" + d + "/ovsdb-server.ctl", "--log-file=" + d + "/ovsdb-server.log"},
                              o.netns_fd, env, d + "/ovsdb-server.out", d + "/ovsdb-server.pid"});
  if (!ovsdb.ok()) return ovsdb.status();
  f->ovsdb_ = std::move(ovsdb).value();
  // Ready when the database answers.
  bool db_ready = wait_until([&] { return f->vsctl({"init"}, false).ok(); }, std::chrono::seconds(10), std::chrono::milliseconds(20));
  if (!db_ready) return environment_error("ovsdb-server did not come up (see " + d + "/ovsdb-server.log)");
  // A hardware switch decides every frame against its MAC table, so a MAC
  // moves on the first frame from its new port. OVS learns at once too, but
  // frames matching a cached datapath flow keep going to the old port until
  // ovs-vswitchd's main loop revalidates (measured here: ~510 ms after a
  // RARP), which would be fabric-made downtime. With flow-limit 0 no flow is
  // cached and every frame is forwarded by the learning table, like hardware.
  // The lab carries a few hundred frames per second, so the cost is small.
  auto tune = f->vsctl({"set", "Open_vSwitch", ".", "other_config:flow-limit=0"}, false);
  if (!tune.ok()) return tune.status();
  auto vswitchd = Daemon::start({{"ovs-vswitchd", "unix:" + f->db_socket(), "--disable-system",
                                  "--unixctl=" + d + "/ovs-vswitchd.ctl", "--log-file=" + d + "/ovs-vswitchd.log"},
                                 o.netns_fd, env, d + "/ovs-vswitchd.out", d + "/ovs-vswitchd.pid"});
  if (!vswitchd.ok()) return vswitchd.status();
  f->vswitchd_ = std::move(vswitchd).value();
  // add-br without --no-wait returns once ovs-vswitchd applied it: the health check.
  auto br = f->vsctl({"add-br", o.bridge, "--", "set", "bridge", o.bridge, "datapath_type=netdev",
                      "other_config:mac-aging-time=" + std::to_string(o.mac_ageing_s),
                      "fail_mode=standalone"});
  if (!br.ok()) return br.status().with_context("fabric bridge");
  return f;
}

OvsFabric::~OvsFabric() {
  vswitchd_.stop();
  ovsdb_.stop();
}

StatusOr<std::string> OvsFabric::vsctl(std::vector<std::string> args, bool wait) {
  std::vector<std::string> argv = {"ovs-vsctl", "--db=unix:" + db_socket(), "--timeout=10"};
  if (!wait) argv.push_back("--no-wait");
  argv.insert(argv.end(), args.begin(), args.end());
  return run_checked(argv, std::chrono::seconds(15));
}

Status OvsFabric::add_access_port(const std::string& port, int vlan) {
  return vsctl({"--may-exist", "add-port", options_.bridge, port, "tag=" + std::to_string(vlan)}).status();
}

Status OvsFabric::add_trunk_port(const std::string& port) {
  return vsctl({"--may-exist", "add-port", options_.bridge, port}).status();
}

Status OvsFabric::delete_port(const std::string& port) {
  return vsctl({"--if-exists", "del-port", options_.bridge, port}).status();
}

bool OvsFabric::healthy() { return ovsdb_.running() && vswitchd_.running(); }

StatusOr<std::vector<FdbEntry>> OvsFabric::fdb() {
  auto ports = vsctl({"--format=csv", "--data=bare", "--no-headings", "--columns=name,ofport", "list", "Interface"}, false);
  if (!ports.ok()) return ports.status();
  std::map<std::string, std::string> by_ofport;
  std::istringstream ps(*ports);
  for (std::string line; std::getline(ps, line);) {
    auto comma = line.find(',');
    if (comma != std::string::npos) by_ofport[line.substr(comma + 1)] = line.substr(0, comma);
  }
  auto out = run_checked({"ovs-appctl", "-t", options_.state_dir + "/ovs-vswitchd.ctl", "fdb/show", options_.bridge});
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
