#include "root_snapshot.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "harness/system/process.h"

namespace lmh::testing {

namespace fs = std::filesystem;

// Found by reading every /proc/sys/net file every 20 s on an idle machine
// and around lab runs: none changed by itself there; these two move with
// what any other program on the machine does.
const std::vector<VolatileSysctl> kVolatileSysctls = {
    {"/proc/sys/net/netfilter/nf_conntrack_count",
     "the root namespace's tracked connections: any program's traffic changes it"},
    {"/proc/sys/net/ipv4/tcp_fastopen_key",
     "the kernel sets a random key when a first TCP Fast Open socket of the namespace needs one"},
};

namespace {

// The directories whose files the snapshot lists.
const char* const kWatchedRoots[] = {"/run", "/var/run", "/tmp", "/var/lib/libvirt", "/var/log"};

// Paths under the watched roots that other tenants of the machine create
// and remove all the time; none is lmh's.
struct ForeignFiles {
  std::regex pattern;
  const char* why;
};
const std::vector<ForeignFiles>& foreign_files() {
  static const std::vector<ForeignFiles> f = {
      {std::regex(R"(/tmp/cc[A-Za-z0-9]{6}\.[a-z]+)"), "GCC's temporaries of builds running beside the soak"},
      {std::regex(R"(/tmp/(bash_jobs\.|bash_tool_).*)"), "the shell sessions that start the soak"},
      {std::regex(R"(/tmp/lmh-integration\.lock)"), "the lock that serialises lab runs on a shared machine"},
  };
  return f;
}

bool foreign(const std::string& path) {
  for (const auto& f : foreign_files())
    if (std::regex_match(path, f.pattern)) return true;
  return false;
}

std::string command_output(const std::vector<std::string>& argv) {
  auto r = harness::run_command(argv, std::chrono::seconds(30));
  if (!r.ok()) return "(" + r.status().to_string() + ")\n";
  if (r->exit_code != 0) return "(exit " + std::to_string(r->exit_code) + ": " + r->err + ")\n";
  return r->out;
}

// iptables-save's dated comment lines and its packet/byte counters
// ("[12:3456]") change by themselves; the rules are what counts.
std::string without_counters(const std::string& text) {
  static const std::regex counters(R"(\[\d+:\d+\])");
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#", 0) == 0) continue;
    out += std::regex_replace(line, counters, "[-]") + "\n";
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string sysctls() {
  std::set<std::string> skip;
  for (const auto& v : kVolatileSysctls) skip.insert(v.path);
  std::vector<std::string> lines;
  std::error_code ec;
  for (fs::recursive_directory_iterator it("/proc/sys/net", ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string p = it->path();
    if (skip.count(p)) continue;
    std::ifstream f(p);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    if (f.bad()) continue;  // write-only entries (route/flush)
    std::string v = ss.str();
    std::replace(v.begin(), v.end(), '\n', ' ');
    lines.push_back(p + "=" + v);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

char type_of(const fs::directory_entry& e) {
  std::error_code ec;
  auto s = e.symlink_status(ec);
  switch (s.type()) {
    case fs::file_type::directory: return 'd';
    case fs::file_type::symlink: return 'l';
    case fs::file_type::socket: return 's';
    case fs::file_type::fifo: return 'p';
    case fs::file_type::regular: return 'f';
    default: return '?';
  }
}

std::string files(const std::vector<std::string>& skip_paths) {
  std::vector<std::string> lines;
  auto skipped = [&](const std::string& p) {
    for (const auto& s : skip_paths)
      if (p == s || p.rfind(s + "/", 0) == 0) return true;
    return foreign(p);
  };
  for (const char* root : kWatchedRoots) {
    std::error_code ec;
    if (fs::is_symlink(root, ec)) {  // /var/run -> /run: listed once
      lines.push_back(std::string("l ") + root + " -> " + fs::read_symlink(root, ec).string());
      continue;
    }
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      const std::string p = it->path();
      if (skipped(p)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
        continue;
      }
      lines.push_back(std::string(1, type_of(*it)) + " " + p);
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Every path some live process holds open. After `lmh cleanup` no process
// of lmh is left (one would be a leak of its own), so a new file that is
// open is another program's: a log of a build or a test running beside
// the soak.
std::set<std::string> open_paths() {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fec;
    for (const auto& fd : fs::directory_iterator(e.path() / "fd", fec)) {
      std::error_code lec;
      auto target = fs::read_symlink(fd.path(), lec);
      if (!lec) out.insert(target.string());
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

RootSnapshot take_root_snapshot(const std::vector<std::string>& skip_paths) {
  RootSnapshot s;
  s.sections["ip -d link"] = command_output({"ip", "-d", "link", "show"});
  s.sections["ip addr"] = command_output({"ip", "addr", "show"});
  s.sections["ip route"] = command_output({"ip", "route", "show", "table", "all"});
  s.sections["ip -6 route"] = command_output({"ip", "-6", "route", "show", "table", "all"});
  s.sections["ip rule"] = command_output({"ip", "rule", "show"});
  s.sections["ip -6 rule"] = command_output({"ip", "-6", "rule", "show"});
  s.sections["nsid"] = command_output({"ip", "netns", "list-id"});
  s.sections["nft"] = command_output({"nft", "list", "ruleset"});
  s.sections["iptables"] = without_counters(command_output({"iptables-save"}));
  s.sections["ip6tables"] = without_counters(command_output({"ip6tables-save"}));
  s.sections["sysctl"] = sysctls();
  s.sections["mountinfo"] = read_file("/proc/1/mountinfo");
  s.sections["files"] = files(skip_paths);
  return s;
}

std::vector<std::string> snapshot_diff(const RootSnapshot& before, const RootSnapshot& after) {
  std::vector<std::string> out;
  for (const auto& [name, text] : after.sections) {
    auto b = before.sections.find(name);
    const std::string old = b == before.sections.end() ? "" : b->second;
    if (old == text) continue;
    auto ol = lines_of(old), nl = lines_of(text);
    if (name == "files") {
      // New files another program holds open are not lmh's.
      const auto open = open_paths();
      std::erase_if(nl, [&](const std::string& l) {
        return l.size() > 2 && open.count(l.substr(2)) && std::find(ol.begin(), ol.end(), l) == ol.end();
      });
    }
    std::multiset<std::string> os(ol.begin(), ol.end()), ns(nl.begin(), nl.end());
    size_t shown = 0;
    for (const auto& l : nl)
      if (!os.count(l) && shown++ < 20) out.push_back(name + ": + " + l);
    for (const auto& l : ol)
      if (!ns.count(l) && shown++ < 20) out.push_back(name + ": - " + l);
    if (shown == 0 && name != "files") out.push_back(name + ": same lines in another order");
    else if (shown > 20) out.push_back(name + ": ... " + std::to_string(shown - 20) + " more");
  }
  return out;
}

}  // namespace lmh::testing
