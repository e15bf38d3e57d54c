#include "harness/system/process.h"

#include "harness/system/external_programs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/process/args.hpp>
#include <boost/process/async_pipe.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>
#include <thread>

namespace lmh::harness {

namespace bp = boost::process;

namespace {

using SteadyClock = std::chrono::steady_clock;

// Writes "lmh: 'step' failed, errno N\n" to fd 2; async-signal-safe.
void write_child_error(const char* step, int err) {
  char num[16];
  int n = 0;
  do { num[n++] = static_cast<char>('0' + err % 10); err /= 10; } while (err > 0 && n < 15);
  (void)!::write(2, "lmh: ", 5);
  (void)!::write(2, step, std::strlen(step));
  (void)!::write(2, " failed, errno ", 15);
  while (n > 0) (void)!::write(2, &num[--n], 1);
  (void)!::write(2, "\n", 1);
}

// The child side of every spawn, as a Boost.Process initializer: its
// on_exec_setup runs in the child between fork and exec (after the stdio
// redirections, which come before it in the initializer list). Everything it
// reads is built before the fork; it only makes async-signal-safe calls.
// A failed step is reported to the parent through Boost.Process's error
// pipe (the spawn then fails with its errno) and ends the child.
struct ChildSide : bp::extend::handler {
  bool die_with_parent = false;
  pid_t parent = -1;
  int netns_fd = -1;
  const ChildSetup* setup = nullptr;
  pid_t* failed_pid = nullptr;  // parent side: the child that did not exec

  template <class Executor>
  [[noreturn]] void fail(Executor& exec, const char* step, int exit_code) const {
    int err = errno;
    write_child_error(step, err);
    exec.set_error(std::error_code(err, std::system_category()), step);
    ::_exit(exit_code);
  }

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);  // the parent already died
    }
    // Own process group: a Ctrl-C meant for lmh must not kill the children
    // its teardown still needs; lmh stops them in order instead.
    ::setpgid(0, 0);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) fail(exec, "setns(net)", 125);
    if (setup && *setup) {
      if (const char* step = (*setup)()) fail(exec, step, 124);
    }
  }

  template <class Executor>
  void on_error(Executor& exec, const std::error_code&) const {
    if (failed_pid && exec.pid > 0) *failed_pid = exec.pid;
  }
};

// Everything a spawn needs, resolved and built before the fork.
struct Prepared {
  std::string exe;
  std::vector<std::string> args;  // argv[1..]
  bp::environment env;
};

StatusOr<Prepared> prepare(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env) {
  if (argv.empty()) return invalid_argument("empty command");
  LMH_RETURN_IF_ERROR(check_external_programs(argv));
  std::string exe = find_program(argv[0]);
  if (exe.empty()) return environment_error(argv[0] + " not found in PATH");
  bp::environment env = boost::this_process::environment();
  for (const auto& [k, v] : extra_env) env[k] = v;
  return Prepared{std::move(exe), {argv.begin() + 1, argv.end()}, std::move(env)};
}

// Starts 'p' with the child side 'side' and the stdio initializers 'io'.
// Returns the running child (not yet waited for) or the error of the spawn;
// a child that failed before exec is reaped here.
template <class... Io>
StatusOr<bp::child> spawn(const std::vector<std::string>& argv, Prepared& p, ChildSide side, Io&&... io) {
  spdlog::debug("spawn: {}", fmt::join(argv, " "));
  pid_t failed_pid = -1;
  side.failed_pid = &failed_pid;
  std::error_code ec;
  bp::child c(bp::exe = p.exe, bp::args = p.args, p.env, bp::std_in < bp::null, std::forward<Io>(io)..., side, ec);
  if (failed_pid > 0) {
    int status = 0;
    while (::waitpid(failed_pid, &status, 0) < 0 && errno == EINTR) {}
  }
  if (ec) return environment_error(argv[0] + " did not start: " + ec.message());
  return c;
}

std::string describe_wait_status(int status) {
  return WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                           : "killed by signal " + std::to_string(WTERMSIG(status));
}

}  // namespace

std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : "";
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string full = dir + "/" + program;
      if (::access(full.c_str(), X_OK) == 0) return full;
    }
    start = end + 1;
  }
  return "";
}

StatusOr<CommandResult> run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                    const std::map<std::string, std::string>& extra_env) {
  auto prepared = prepare(argv, extra_env);
  if (!prepared.ok()) return prepared.status();
  boost::asio::io_context io;
  bp::async_pipe out_pipe(io), err_pipe(io);
  auto child = spawn(argv, *prepared, ChildSide{}, bp::std_out > out_pipe, bp::std_err > err_pipe);
  if (!child.ok()) return child.status();
  CommandResult result;
  auto ignore = [](const boost::system::error_code&, std::size_t) {};
  boost::asio::async_read(out_pipe, boost::asio::dynamic_buffer(result.out), ignore);
  boost::asio::async_read(err_pipe, boost::asio::dynamic_buffer(result.err), ignore);
  // Runs until both pipes reach end of file, or the deadline.
  io.run_for(timeout);
  bool timed_out = !io.stopped();
  std::error_code ec;
  if (timed_out) {
    // SIGKILL and reap (Boost's terminate() does not wait for it to die).
    ::kill(child->id(), SIGKILL);
    child->wait(ec);
    return deadline_exceeded(argv[0] + " did not finish within " + std::to_string(timeout.count()) + " ms");
  }
  child->wait(ec);
  if (ec) return internal_error("wait for " + argv[0] + ": " + ec.message());
  int status = child->native_exit_code();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  spdlog::debug("{}: exit {}", argv[0], result.exit_code);
  return result;
}

StatusOr<std::string> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                  const std::map<std::string, std::string>& env) {
  auto r = run_command(argv, timeout, env);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    std::string err = r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return internal_error(cmd + " exited " + std::to_string(r->exit_code) + ": " + err);
  }
  return r->out;
}

StatusOr<Daemon> Daemon::start(const Options& o) {
  if (o.argv.empty()) return invalid_argument("empty daemon command");
  auto prepared = prepare(o.argv, o.env);
  if (!prepared.ok()) return prepared.status();
  ChildSide side;
  side.die_with_parent = o.die_with_parent;
  side.parent = ::getpid();
  side.netns_fd = o.netns_fd;
  side.setup = &o.child_setup;
  StatusOr<bp::child> child = internal_error("not started");
  if (o.log_path.empty()) {
    child = spawn(o.argv, *prepared, side);
  } else {
    // Appended to, like the daemons' own log files.
    std::unique_ptr<FILE, int (*)(FILE*)> log(std::fopen(o.log_path.c_str(), "ae"), &std::fclose);
    if (!log) return environment_error("open " + o.log_path + ": " + std::strerror(errno));
    child = spawn(o.argv, *prepared, side, (bp::std_out & bp::std_err) > log.get());
  }
  if (!child.ok()) {
    std::string where = o.log_path.empty() ? "" : " (see " + o.log_path + ")";
    return Status(child.status().code(), child.status().message() + where);
  }
  // The Daemon owns the process from here (waitpid by pid), not Boost's
  // child object, whose destructor would kill it.
  child->detach();
  Daemon d;
  d.pid_ = child->id();
  d.pid_path_ = o.pid_path;
  if (!o.pid_path.empty()) std::ofstream(o.pid_path) << d.pid_ << "\n";
  spdlog::debug("daemon {} started, pid {}", o.argv[0], d.pid_);
  return d;
}

Daemon::Daemon(Daemon&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), pid_path_(std::move(o.pid_path_)), ended_(std::move(o.ended_)) {}

Daemon& Daemon::operator=(Daemon&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = std::exchange(o.pid_, -1);
    pid_path_ = std::move(o.pid_path_);
    ended_ = std::move(o.ended_);
  }
  return *this;
}

Daemon::~Daemon() { stop(); }

bool Daemon::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    ended_ = describe_wait_status(status);
    spdlog::debug("pid {} {}", pid_, ended_);
    pid_ = -1;
    return false;
  }
  return r == 0;
}

void Daemon::stop(std::chrono::milliseconds grace) {
  if (pid_ > 0) {
    spdlog::debug("stopping pid {}", pid_);
    ::kill(pid_, SIGTERM);
    // A daemon a fault stopped (SIGSTOP) acts on SIGTERM only once continued.
    ::kill(pid_, SIGCONT);
    auto deadline = SteadyClock::now() + grace;
    int status = 0;
    while (true) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) break;
      if (SteadyClock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }
  if (!pid_path_.empty()) {
    ::unlink(pid_path_.c_str());
    pid_path_.clear();
  }
}

}  // namespace lmh::harness
