// Child processes, all started by one spawner on Boost.Process: commands run
// to completion with their output captured (ovs-vsctl, ovs-appctl,
// ovsdb-tool), and daemons that live as long as their RAII owner
// (ovsdb-server, ovs-vswitchd, libvirtd, the KVM probe's QEMU), optionally
// inside a network namespace and with a set-up step of their own (libvirtd's
// private mounts). Daemons get PR_SET_PDEATHSIG so they die with lmh even on
// SIGKILL; `lmh cleanup` handles what survives anyway via pid files.
//
// Every child runs in its own process group (a Ctrl-C meant for lmh must not
// kill what its teardown still needs; lmh stops children in order) with
// stdin on /dev/null. argv[0] is always resolved by find_program().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lmh::harness {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs 'argv' (argv[0] resolved by find_program) and waits at most
// 'timeout'; its stdout and stderr are captured. 'env' is added to (or
// replaces entries of) lmh's environment. Non-zero exit is not an error here:
// callers read exit_code (128 + N when killed by signal N).
StatusOr<CommandResult> run_command(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                    const std::map<std::string, std::string>& env = {});

// Like run_command, but a non-zero exit becomes an error with the stderr text.
StatusOr<std::string> run_checked(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                  const std::map<std::string, std::string>& env = {});

// Runs in the child between fork and exec, after its stdio, process group
// and network namespace are set. Only async-signal-safe calls: no
// allocation, no locks (everything it uses is built before the spawn).
// Returns nullptr when done, or a literal naming the step that failed (errno
// set): the child then exits, and the spawn fails with "<step>: <errno text>"
// (also written to the child's stderr, i.e. its log).
using ChildSetup = std::function<const char*()>;

// What a daemon is started with. The constructor takes the first five
// fields in order, as callers write them ({argv, netns_fd, env, log_path,
// pid_path}); the others are set by name.
struct SpawnOptions {
  SpawnOptions(std::vector<std::string> argv_ = {}, int netns_fd_ = -1,
               std::map<std::string, std::string> env_ = {}, std::string log_path_ = {},
               std::string pid_path_ = {})
      : argv(std::move(argv_)), netns_fd(netns_fd_), env(std::move(env_)), log_path(std::move(log_path_)),
        pid_path(std::move(pid_path_)) {}

  std::vector<std::string> argv;           // argv[0] resolved by find_program
  int netns_fd = -1;                       // network namespace to run in (-1: ours)
  std::map<std::string, std::string> env;  // added to (or replacing) ours
  std::string log_path;                    // stdout+stderr appended here ("": lmh's)
  std::string pid_path;                    // written by us, removed at stop ("": none)
  bool die_with_parent = true;             // PR_SET_PDEATHSIG(SIGKILL)
  ChildSetup child_setup;                  // extra child-side step (may be empty)
};

class Daemon {
 public:
  using Options = SpawnOptions;
  // Starts 'options.argv' and returns once it executes (exec failed, or a
  // child-side step failed: an error). Environment when argv[0] is not found.
  static StatusOr<Daemon> start(const Options& options);
  Daemon() = default;
  Daemon(Daemon&& o) noexcept;
  Daemon& operator=(Daemon&& o) noexcept;
  ~Daemon();

  pid_t pid() const { return pid_; }
  // Is it still running? Reaps it when it exited (see how_it_ended()).
  bool running();
  // "exited N" or "killed by signal N" once running() reaped it, else "".
  const std::string& how_it_ended() const { return ended_; }
  // SIGTERM, then SIGKILL after 'grace'; reaps; removes the pid file;
  // idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  pid_t pid_ = -1;
  std::string pid_path_;
  std::string ended_;
};

// Absolute path of 'program' in PATH (or /usr/sbin, /sbin), "" when absent.
std::string find_program(const std::string& program);

}  // namespace lmh::harness
