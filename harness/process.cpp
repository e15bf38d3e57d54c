#include "harness/process.h"

#include "harness/external_programs.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

extern char** environ;

namespace lmh::harness {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Builds a NULL-terminated envp from ours plus 'extra' (before fork: the
// child must not allocate).
std::vector<std::string> make_env(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto key = kv.substr(0, kv.find('='));
    if (!extra.count(key)) env.push_back(kv);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> c_array(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
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

StatusOr<CommandResult> run_command(const std::vector<std::string>& argv_in,
                                    std::chrono::milliseconds timeout,
                                    const std::map<std::string, std::string>& extra_env) {
  if (argv_in.empty()) return invalid_argument("empty command");
  LMH_RETURN_IF_ERROR(check_external_programs(argv_in));
  std::string exe = find_program(argv_in[0]);
  if (exe.empty()) return environment_error(argv_in[0] + " not found in PATH");
  std::vector<std::string> argv = argv_in;
  std::vector<std::string> env = make_env(extra_env);
  auto cargv = c_array(argv);
  auto cenv = c_array(env);
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return internal_error("pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return internal_error("pipe");
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return internal_error(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Own process group: a Ctrl-C meant for lmh must not kill the commands
    // its teardown still needs; lmh stops in order instead.
    ::setpgid(0, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult result;
  auto deadline = SteadyClock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  char buf[4096];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) { timed_out = true; break; }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r > 0) (i == 0 ? result.out : result.err).append(buf, r);
      else { ::close(fds[i].fd); fds[i].fd = -1; --open_fds; }
    }
  }
  for (auto& f : fds) if (f.fd >= 0) ::close(f.fd);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (timed_out) return deadline_exceeded(argv_in[0] + " did not finish within " + std::to_string(timeout.count()) + " ms");
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
  LMH_RETURN_IF_ERROR(check_external_programs(o.argv));
  std::string exe = find_program(o.argv[0]);
  if (exe.empty()) return environment_error(o.argv[0] + " not found in PATH");
  std::vector<std::string> argv = o.argv;
  std::vector<std::string> env = make_env(o.env);
  auto cargv = c_array(argv);
  auto cenv = c_array(env);
  int log_fd = -1;
  if (!o.log_path.empty()) {
    log_fd = ::open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return environment_error("open " + o.log_path + ": " + std::strerror(errno));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    if (log_fd >= 0) ::close(log_fd);
    return internal_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until execve.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::setpgid(0, 0);  // Ctrl-C on the terminal goes to lmh, which stops us in order
    if (o.netns_fd >= 0 && ::setns(o.netns_fd, CLONE_NEWNET) != 0) ::_exit(125);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  Daemon d;
  d.pid_ = pid;
  d.pid_path_ = o.pid_path;
  if (!o.pid_path.empty()) {
    std::ofstream(o.pid_path) << pid << "\n";
  }
  return d;
}

Daemon::Daemon(Daemon&& o) noexcept : pid_(std::exchange(o.pid_, -1)), pid_path_(std::move(o.pid_path_)) {}

Daemon& Daemon::operator=(Daemon&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = std::exchange(o.pid_, -1);
    pid_path_ = std::move(o.pid_path_);
  }
  return *this;
}

Daemon::~Daemon() { stop(); }

bool Daemon::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return r == 0;
}

void Daemon::stop(std::chrono::milliseconds grace) {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
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
