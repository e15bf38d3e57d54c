// One Open vSwitch instance: ovsdb-server (with a fresh database) and
// ovs-vswitchd, run inside a network namespace with every file under one
// state directory (conf.db, db.sock, *.ctl, <bridge>.mgmt, logs, and the
// pid files `lmh cleanup` reaps by). RAII: the destructor stops
// ovs-vswitchd, then ovsdb-server. Used by the fabric switch and by every
// lab host's own OVS.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "harness/system/process.h"

namespace lmh::harness {

class OvsDaemons {
 public:
  struct Options {
    std::string state_dir;  // created if missing
    int netns_fd = -1;      // namespace the daemons run in (-1: ours)
    // ovs-vswitchd --disable-system: userspace (netdev) bridges only, no
    // kernel module needed. False when bridges use datapath "system".
    bool userspace_only = true;
    std::chrono::milliseconds timeout = std::chrono::seconds(10);  // each start step
  };
  // Creates the database (ovsdb-tool), starts ovsdb-server and waits until it
  // answers through the IDL, sets other_config:flow-limit=0, starts
  // ovs-vswitchd and waits until it applied a configuration (next_cfg ->
  // cur_cfg). kEnvironment when Open vSwitch is not installed or a daemon
  // does not come up (the message names its log).
  static StatusOr<std::unique_ptr<OvsDaemons>> start(const Options& options);
  ~OvsDaemons();
  OvsDaemons(const OvsDaemons&) = delete;
  OvsDaemons& operator=(const OvsDaemons&) = delete;

  // Are both daemons still alive?
  bool healthy();
  pid_t vswitchd_pid() const { return vswitchd_.pid(); }
  pid_t ovsdb_server_pid() const { return ovsdb_.pid(); }
  // SIGKILL to ovs-vswitchd, as a crash; ovsdb-server keeps running.
  void kill_vswitchd();
  // Stops ovs-vswitchd, then ovsdb-server (idempotent; the destructor does it).
  void stop();

  const std::string& state_dir() const { return options_.state_dir; }
  std::string db_socket() const { return options_.state_dir + "/db.sock"; }
  // ovs-vswitchd's unixctl socket (ovs-appctl -t).
  std::string vswitchd_ctl() const { return options_.state_dir + "/ovs-vswitchd.ctl"; }
  // OVS_RUNDIR of ovs-vswitchd: where its <bridge>.mgmt sockets are.
  const std::string& run_dir() const { return options_.state_dir; }

 private:
  explicit OvsDaemons(Options options) : options_(std::move(options)) {}

  Options options_;
  Daemon ovsdb_;
  Daemon vswitchd_;
};

}  // namespace lmh::harness
