// Child processes: commands run to completion with their output captured
// (ovs-vsctl, ovs-appctl, ovsdb-tool), and daemons started inside a network
// namespace that live as long as their RAII owner (ovsdb-server,
// ovs-vswitchd). Daemons get PR_SET_PDEATHSIG so they die with lmh even on
// SIGKILL; `lmh cleanup` handles what survives anyway via pid files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::harness {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs 'argv' (argv[0] looked up in PATH) and waits at most 'timeout'.
// Non-zero exit is not an error here: callers read exit_code.
StatusOr<CommandResult> run_command(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                    const std::map<std::string, std::string>& env = {});

// Like run_command, but a non-zero exit becomes an error with the stderr text.
StatusOr<std::string> run_checked(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                  const std::map<std::string, std::string>& env = {});

class Daemon {
 public:
  struct Options {
    std::vector<std::string> argv;
    int netns_fd = -1;  // namespace to run in (-1: ours)
    std::map<std::string, std::string> env;
    std::string log_path;  // stdout+stderr
    std::string pid_path;  // written by us, removed at stop
  };
  static StatusOr<Daemon> start(const Options& options);
  Daemon() = default;
  Daemon(Daemon&& o) noexcept;
  Daemon& operator=(Daemon&& o) noexcept;
  ~Daemon();

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then SIGKILL after 'grace'; reaps; idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  pid_t pid_ = -1;
  std::string pid_path_;
};

// Absolute path of 'program' in PATH (or /usr/sbin, /sbin), "" when absent.
std::string find_program(const std::string& program);

}  // namespace lmh::harness
