#include "harness/ovs/ovs_daemons.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "harness/ovs/ovsdb_idl.h"
#include "harness/system/wait.h"

namespace lmh::harness {

namespace {

constexpr const char* kSchema = "/usr/share/openvswitch/vswitch.ovsschema";

// Does a server listen on unix socket 'path'? (The file exists from bind(),
// a connection succeeds only after listen().)
bool unix_socket_accepts(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

StatusOr<std::unique_ptr<OvsDaemons>> OvsDaemons::start(const Options& o) {
  if (find_program("ovs-vswitchd").empty() || find_program("ovsdb-server").empty() ||
      find_program("ovsdb-tool").empty())
    return environment_error("Open vSwitch is not installed (package openvswitch-switch)");
  std::error_code ec;
  std::filesystem::create_directories(o.state_dir, ec);
  if (ec) return environment_error("create " + o.state_dir + ": " + ec.message());
  std::unique_ptr<OvsDaemons> d(new OvsDaemons(o));
  const std::string& dir = o.state_dir;
  // Everything OVS would put under /var/run, /etc or /var/log goes here.
  std::map<std::string, std::string> env = {
      {"OVS_RUNDIR", dir}, {"OVS_DBDIR", dir}, {"OVS_LOGDIR", dir}, {"OVS_SYSCONFDIR", dir}};
  std::string db = dir + "/conf.db";
  ::unlink(db.c_str());
  auto created = run_checked({"ovsdb-tool", "create", db, kSchema}, o.timeout);
  if (!created.ok()) return created.status();

  auto ovsdb = Daemon::start({{"ovsdb-server", db, "--remote=punix:" + d->db_socket(),
                               "--unixctl=" + dir + "/ovsdb-server.ctl", "--log-file=" + dir + "/ovsdb-server.log"},
                              o.netns_fd, env, dir + "/ovsdb-server.out", dir + "/ovsdb-server.pid"});
  if (!ovsdb.ok()) return ovsdb.status();
  d->ovsdb_ = std::move(ovsdb).value();
  // The IDL backs off a second after a refused connection; connecting once
  // the server listens keeps start-up fast.
  wait_until([&] { return unix_socket_accepts(d->db_socket()) || !d->ovsdb_.running(); }, o.timeout,
             std::chrono::milliseconds(2));
  if (!d->ovsdb_.running())
    return environment_error("ovsdb-server exited at start (see " + dir + "/ovsdb-server.out and .log)");

  {
    OvsdbIdlDatabase::Options idl;
    idl.db_socket = d->db_socket();
    idl.run_dir = dir;
    idl.timeout = o.timeout;
    idl.wait_for_vswitchd = false;  // not started yet
    OvsdbIdlDatabase config(idl);
    // The first write creates the Open_vSwitch row (ovs-vsctl init): the
    // database answers. Then, before ovs-vswitchd reads it:
    // A hardware switch decides every frame against its MAC table, so a MAC
    // moves on the first frame from its new port. OVS learns at once too, but
    // frames matching a cached datapath flow keep going to the old port until
    // ovs-vswitchd's main loop revalidates (measured on the fabric: ~510 ms
    // after a RARP), which would be switch-made downtime. With flow-limit 0
    // no flow is cached and every frame is forwarded by the learning table,
    // like hardware. The lab carries a few hundred frames per second, so the
    // cost is small.
    Status tuned = config.set_other_config("flow-limit", "0");
    if (!tuned.ok())
      return environment_error("ovsdb-server does not answer (see " + dir + "/ovsdb-server.log): " +
                               tuned.to_string());

    std::vector<std::string> argv = {"ovs-vswitchd", "unix:" + d->db_socket(), "--unixctl=" + d->vswitchd_ctl(),
                                     "--log-file=" + dir + "/ovs-vswitchd.log"};
    if (o.userspace_only) argv.push_back("--disable-system");
    auto vswitchd = Daemon::start({argv, o.netns_fd, env, dir + "/ovs-vswitchd.out", dir + "/ovs-vswitchd.pid"});
    if (!vswitchd.ok()) return vswitchd.status();
    d->vswitchd_ = std::move(vswitchd).value();
    // ovs-vswitchd applied a configuration: it read the database and runs.
    Status applied = config.sync_vswitchd();
    if (!applied.ok())
      return environment_error("ovs-vswitchd did not come up (see " + dir + "/ovs-vswitchd.log): " +
                               applied.to_string());
  }
  return d;
}

OvsDaemons::~OvsDaemons() { stop(); }

void OvsDaemons::stop() {
  vswitchd_.stop();
  ovsdb_.stop();
}

bool OvsDaemons::healthy() { return ovsdb_.running() && vswitchd_.running(); }

void OvsDaemons::kill_vswitchd() {
  pid_t pid = vswitchd_.pid();
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  // Reap it, so healthy() says false from now on.
  wait_until([&] { return !vswitchd_.running(); }, std::chrono::seconds(5), std::chrono::milliseconds(1));
}

}  // namespace lmh::harness
