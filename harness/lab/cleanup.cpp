#include "harness/lab/cleanup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "harness/lab/lab.h"
#include "harness/system/files.h"
#include "harness/system/namespaces.h"

namespace lmh::harness {

namespace fs = std::filesystem;

namespace {

// A zombie is dead: it only waits for its parent to reap it (a daemon
// whose owner is still there, or that init will reap).
bool pid_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  const std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  const auto state = stat.rfind(") ");
  return state == std::string::npos || stat.compare(state + 2, 1, "Z") != 0;
}

std::string comm_of(pid_t pid) {
  std::string c = read_text_file("/proc/" + std::to_string(pid) + "/comm");
  while (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 200 && pid_alive(pid); ++i) ::usleep(5000);
}

// "lmh-<run>-<what>" -> "<run>"
std::string run_of_namespace(const std::string& ns) {
  std::string rest = ns.substr(4);
  return rest.substr(0, rest.find('-'));
}

// Kills every process whose network namespace is the one mounted at 'ns_path'.
void kill_processes_in(const std::string& ns_path, CleanupReport& rep) {
  struct stat target;
  if (::stat(ns_path.c_str(), &target) != 0) return;
  for (const auto& e : fs::directory_iterator("/proc", fs::directory_options::skip_permission_denied)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    struct stat st;
    if (::stat(("/proc/" + name + "/ns/net").c_str(), &st) != 0) continue;
    if (st.st_ino == target.st_ino && st.st_dev == target.st_dev) {
      std::string comm = comm_of(pid);
      kill_and_reap(pid);
      rep.removed.push_back("process " + name + " (" + comm + ")");
    }
  }
}

}  // namespace

CleanupReport cleanup_stale_runs(bool all) {
  CleanupReport rep;
  std::set<std::string> live_runs;
  // State directories: daemons by pid file, then the directory.
  std::error_code ec;
  if (fs::exists(kStateRoot, ec)) {
    for (const auto& d : fs::directory_iterator(kStateRoot, ec)) {
      std::string run = d.path().filename();
      pid_t owner = read_pid_file(d.path() / "owner.pid");
      // A run writes owner.pid right after creating its directory; a young
      // directory without one is being set up, not abandoned.
      if (!all && owner <= 0) {
        auto age = fs::file_time_type::clock::now() - fs::last_write_time(d.path(), ec);
        if (!ec && age < std::chrono::seconds(30)) {
          live_runs.insert(run);
          continue;
        }
      }
      if (!all && owner != ::getpid() && pid_alive(owner)) {
        live_runs.insert(run);
        rep.kept.push_back("run " + run + " (owner pid " + std::to_string(owner) + " alive)");
        continue;
      }
      if (owner == ::getpid() && !all) {
        live_runs.insert(run);
        continue;
      }
      // Recursive: each lab host's Open vSwitch keeps its pid files in its
      // own subdirectory (ovs-<host>/).
      // increment(ec): a directory may vanish while we walk it (a
      // concurrent run tearing down); the range-for's ++ would throw.
      for (fs::recursive_directory_iterator it(d.path(), ec), end; !ec && it != end; it.increment(ec)) {
        const auto& f = *it;
        if (f.path().extension() != ".pid" || f.path().filename() == "owner.pid") continue;
        pid_t pid = read_pid_file(f.path());
        // Only a process that is still ours: its command line names this
        // run's directory, or (a QEMU of a per-host libvirtd, whose paths are
        // all inside its mount namespace) its mounts bind from that directory.
        std::string proc = "/proc/" + std::to_string(pid);
        if (pid_alive(pid) && (read_text_file(proc + "/cmdline").find(d.path().string()) != std::string::npos ||
                               read_text_file(proc + "/mountinfo").find("/lmh/" + run + "/") != std::string::npos)) {
          std::string comm = comm_of(pid);
          kill_and_reap(pid);
          rep.removed.push_back("process " + std::to_string(pid) + " (" + comm + ")");
        }
      }
    }
  }
  // Namespaces of runs that are not alive (the probe's are named by pid).
  for (const auto& ns : list_named_netns("lmh-")) {
    std::string run = run_of_namespace(ns);
    if (run == "probe") {
      pid_t pid = static_cast<pid_t>(std::atol(ns.substr(std::string("lmh-probe-").size()).c_str()));
      if (!all && pid_alive(pid)) continue;
    } else if (live_runs.count(run)) {
      continue;
    }
    kill_processes_in(std::string(kNetnsDir) + "/" + ns, rep);
    auto s = delete_named_netns(ns);
    if (s.ok()) rep.removed.push_back("namespace " + ns);
    else rep.errors.push_back(s.to_string());
  }
  if (fs::exists(kStateRoot, ec)) {
    for (const auto& d : fs::directory_iterator(kStateRoot, ec)) {
      std::string run = d.path().filename();
      if (live_runs.count(run)) continue;
      fs::remove_all(d.path(), ec);
      rep.removed.push_back("dir " + d.path().string());
    }
  }
  return rep;
}

}  // namespace lmh::harness
