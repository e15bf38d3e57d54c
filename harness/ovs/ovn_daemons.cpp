#include "harness/ovs/ovn_daemons.h"

#include <unistd.h>

#include <filesystem>
#include <map>

#include "harness/system/wait.h"

namespace lmh::harness {

namespace {

constexpr const char* kNbSchema = "/usr/share/ovn/ovn-nb.ovsschema";
constexpr const char* kSbSchema = "/usr/share/ovn/ovn-sb.ovsschema";

// Everything OVN would put under /var/run/ovn, /etc/ovn or /var/log/ovn
// goes to 'dir'.
std::map<std::string, std::string> ovn_env(const std::string& dir) {
  return {{"OVN_RUNDIR", dir}, {"OVN_DBDIR", dir}, {"OVN_LOGDIR", dir}, {"OVN_SYSCONFDIR", dir},
          {"OVS_RUNDIR", dir}, {"OVS_DBDIR", dir}, {"OVS_LOGDIR", dir}, {"OVS_SYSCONFDIR", dir}};
}

Status make_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? environment_error("create " + dir + ": " + ec.message()) : ok_status();
}

}  // namespace

StatusOr<std::unique_ptr<OvnCentral>> OvnCentral::start(const Options& o) {
  if (find_program("ovn-northd").empty() || find_program("ovn-sbctl").empty() || !std::filesystem::exists(kNbSchema))
    return environment_error("OVN is not installed (packages ovn-central, ovn-common)");
  LMH_RETURN_IF_ERROR(make_dir(o.state_dir));
  std::unique_ptr<OvnCentral> c(new OvnCentral(o));
  LMH_RETURN_IF_ERROR(c->start_database("ovnnb_db", kNbSchema, c->nb_));
  LMH_RETURN_IF_ERROR(c->start_database("ovnsb_db", kSbSchema, c->sb_));
  const std::string& dir = o.state_dir;
  auto northd = Daemon::start({{"ovn-northd", "--ovnnb-db=unix:" + c->nb_socket(), "--ovnsb-db=unix:" + c->sb_socket(),
                                "--unixctl=" + dir + "/ovn-northd.ctl", "--log-file=" + dir + "/ovn-northd.log"},
                               o.netns_fd, ovn_env(dir), dir + "/ovn-northd.out", dir + "/ovn-northd.pid"});
  if (!northd.ok()) return northd.status();
  c->northd_ = std::move(northd).value();
  // Active: it holds the southbound lock and translates (a standby would not).
  bool active = wait_until(
      [&] {
        auto out = run_checked({"ovn-appctl", "-t", dir + "/ovn-northd.ctl", "status"}, o.timeout);
        return (out.ok() && out->find("active") != std::string::npos) || !c->northd_.running();
      },
      o.timeout, std::chrono::milliseconds(20));
  if (!active || !c->northd_.running())
    return environment_error("ovn-northd did not become active (see " + dir + "/ovn-northd.log)");
  return c;
}

Status OvnCentral::start_database(const std::string& name, const std::string& schema, Daemon& daemon) {
  const std::string& dir = options_.state_dir;
  const std::string db = dir + "/" + name + ".db";
  ::unlink(db.c_str());
  auto created = run_checked({"ovsdb-tool", "create", db, schema}, options_.timeout);
  if (!created.ok()) return created.status();
  const std::string sock = dir + "/" + name + ".sock";
  auto d = Daemon::start({{"ovsdb-server", db, "--remote=punix:" + sock, "--unixctl=" + dir + "/" + name + ".ctl",
                           "--log-file=" + dir + "/" + name + ".log"},
                          options_.netns_fd, ovn_env(dir), dir + "/" + name + ".out", dir + "/" + name + ".pid"});
  if (!d.ok()) return d.status();
  daemon = std::move(d).value();
  if (!wait_until([&] { return std::filesystem::exists(sock) || !daemon.running(); }, options_.timeout,
                  std::chrono::milliseconds(2)) ||
      !daemon.running())
    return environment_error(name + " did not come up (see " + dir + "/" + name + ".log)");
  return ok_status();
}

OvnCentral::~OvnCentral() { stop(); }

void OvnCentral::stop() {
  northd_.stop();
  sb_.stop();
  nb_.stop();
}

bool OvnCentral::healthy() { return nb_.running() && sb_.running() && northd_.running(); }

StatusOr<std::string> OvnCentral::sbctl(std::vector<std::string> args) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count();
  args.insert(args.begin(), {"ovn-sbctl", "--db=unix:" + sb_socket(), "--timeout=" + std::to_string(seconds)});
  return run_checked(args, options_.timeout + std::chrono::seconds(1));
}

StatusOr<std::string> OvnCentral::nbctl(std::vector<std::string> args) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count();
  args.insert(args.begin(), {"ovn-nbctl", "--db=unix:" + nb_socket(), "--timeout=" + std::to_string(seconds)});
  return run_checked(args, options_.timeout + std::chrono::seconds(1));
}

StatusOr<std::unique_ptr<OvnController>> OvnController::start(const Options& o) {
  if (find_program("ovn-controller").empty()) return environment_error("OVN is not installed (package ovn-host)");
  if (!o.ovs) return invalid_argument("ovn-controller needs its host's Open vSwitch");
  LMH_RETURN_IF_ERROR(make_dir(o.state_dir));
  // What ovn-controller reads at start. hostname: otherwise every chassis
  // of the lab reports the machine's one hostname.
  const std::map<std::string, std::string> ids = {
      {"system-id", o.chassis},           {"hostname", o.chassis},
      {"ovn-remote", o.sb_remote},        {"ovn-encap-type", "geneve"},
      {"ovn-encap-ip", o.encap_ip},       {"ovn-bridge-mappings", o.bridge_mappings},
      {"ovn-bridge-datapath-type", o.datapath_type}};
  for (const auto& [key, value] : ids)
    LMH_RETURN_IF_ERROR(o.ovs->set_external_id(key, value).with_context("external_ids:" + key));
  std::unique_ptr<OvnController> c(new OvnController(o));
  const std::string& dir = o.state_dir;
  // OVS_RUNDIR: the host's ovs-vswitchd sockets (br-int.mgmt); OVN_RUNDIR:
  // its own control socket, one per chassis (23.03 has no --unixctl).
  auto env = ovn_env(dir);
  env["OVS_RUNDIR"] = o.ovs_run_dir;
  auto d = Daemon::start({{"ovn-controller", "unix:" + o.ovs_db_socket, "--log-file=" + dir + "/ovn-controller.log"},
                          o.netns_fd, env, dir + "/ovn-controller.out", dir + "/ovn-controller.pid"});
  if (!d.ok()) return d.status();
  c->controller_ = std::move(d).value();
  return c;
}

OvnController::~OvnController() { stop(); }

}  // namespace lmh::harness
