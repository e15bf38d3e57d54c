// Every program lmh and its tests run must come from the project's own
// set-up: a fresh Debian 12 machine has only the Essential packages and what
// `make deps` installs (the Makefile's DEBS). A program that only the
// developer's machine had (once: `ping`, used by a test) passes CI there and
// fails everywhere else; these tests make that impossible to miss.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness/system/external_programs.h"
#include "harness/system/process.h"

namespace lmh::harness {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The Makefile's DEBS list (a make variable continued with backslashes).
std::set<std::string> makefile_packages() {
  std::istringstream in(read_text(fs::path(LMH_SOURCE_DIR) / "Makefile"));
  std::set<std::string> out;
  bool in_debs = false;
  for (std::string line; std::getline(in, line);) {
    if (!in_debs) {
      auto pos = line.find("DEBS");
      if (pos != 0 || line.find(":=") == std::string::npos) continue;
      in_debs = true;
      line = line.substr(line.find(":=") + 2);
    }
    bool more = !line.empty() && line.back() == '\\';
    if (more) line.pop_back();
    std::istringstream words(line);
    for (std::string w; words >> w;) out.insert(w);
    if (!more) break;
  }
  return out;
}

struct Use {
  std::string program;
  std::string where;  // file:line
};

// Program names the sources hand to the process runner as literals: the
// first element of a command given to run_command/run_checked/Daemon::start,
// an argv built from a literal, and find_program("name"). Shell scripts declare theirs in a `needs="..."` line.
std::vector<Use> programs_in_sources() {
  static const std::vector<std::regex> patterns = {
      std::regex(R"((?:run_command|run_checked)\(\s*\{\s*"([^"]+)\")"),
      std::regex(R"(Daemon::start\(\s*\{\s*\{\s*"([^"]+)\")"),
      std::regex(R"(find_program\(\s*"([^"]+)\"\s*\))"),
      std::regex(R"(argv\s*=\s*\{\s*"([^"]+)\")"),
  };
  static const std::regex needs(R"(\nneeds="([^"]*)\")");
  std::vector<Use> out;
  const fs::path root(LMH_SOURCE_DIR);
  for (const char* dir : {"common", "core", "faults", "capture", "reports", "harness", "tools", "tests", "benchmarks"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file()) continue;
      const std::string text = read_text(e.path());
      auto line_of = [&](std::ptrdiff_t offset) {
        return fs::relative(e.path(), root).string() + ":" +
               std::to_string(1 + std::count(text.begin(), text.begin() + offset, '\n'));
      };
      if (ext == ".cpp" || ext == ".h" || ext == ".c") {
        // This file's own patterns are not uses.
        if (e.path().filename() == "external_programs_test.cpp") continue;
        for (const auto& re : patterns)
          for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
            // A path is not looked up in PATH (see check_external_programs).
            if ((*it)[1].str().find('/') == std::string::npos)
              out.push_back({(*it)[1].str(), line_of(it->position(1))});
      } else if (ext == ".sh") {
        for (auto it = std::sregex_iterator(text.begin(), text.end(), needs); it != std::sregex_iterator(); ++it) {
          std::istringstream words((*it)[1].str());
          for (std::string w; words >> w;) out.push_back({w, line_of(it->position(1))});
        }
      }
    }
  }
  return out;
}

// Where dpkg may know 'path' from: with merged /usr, a program is known by
// the path its package shipped (/bin/ip, /sbin/depmod), which may differ
// from where PATH finds it or where its symlinks end.
std::vector<std::string> dpkg_candidates(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const std::string& p : {path, fs::canonical(path, ec).string()}) {
    if (p.empty()) continue;
    out.push_back(p);
    out.push_back(p.rfind("/usr/", 0) == 0 ? p.substr(4) : "/usr" + p);
  }
  return out;
}

// dpkg's owner of each of 'paths' that it knows (one query for all: each
// dpkg-query start reads the whole database).
std::map<std::string, std::string> owners(const std::vector<std::string>& paths) {
  std::vector<std::string> argv = {"dpkg-query", "-S"};
  argv.insert(argv.end(), paths.begin(), paths.end());
  auto r = run_command(argv, std::chrono::seconds(60));  // exits 1 when some are unknown
  std::map<std::string, std::string> out;
  if (!r.ok()) return out;
  // "pkg: /path" or "pkg1, pkg2: /path"; "diversion by ..." lines skipped.
  std::istringstream lines(r->out);
  for (std::string line; std::getline(lines, line);) {
    auto colon = line.find(": ");
    if (line.rfind("diversion", 0) == 0 || colon == std::string::npos) continue;
    out[line.substr(colon + 2)] = line.substr(0, line.find_first_of(",:"));
  }
  return out;
}

// The Essential packages among 'packages'.
std::set<std::string> essential(const std::set<std::string>& packages) {
  std::vector<std::string> argv = {"dpkg-query", "-W", "--showformat=${Package} ${Essential}\n"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  auto r = run_command(argv, std::chrono::seconds(60));
  std::set<std::string> out;
  if (!r.ok()) return out;
  std::istringstream lines(r->out);
  for (std::string name, flag; lines >> name >> flag;)
    if (flag == "yes") out.insert(name);
  return out;
}

TEST(ExternalPrograms, EveryProgramTheSourcesRunIsListed) {
  auto uses = programs_in_sources();
  // The scan itself must see the runner's known users, or it finds nothing.
  std::set<std::string> seen;
  for (const auto& u : uses) seen.insert(u.program);
  for (const char* known : {"ovsdb-server", "ovs-vswitchd", "ovs-ofctl", "libvirtd", "virsh", "sh", "cpio"})
    EXPECT_TRUE(seen.count(known)) << "the source scan no longer finds " << known << ": fix its patterns";
  for (const auto& u : uses)
    EXPECT_NE(external_program(u.program), nullptr)
        << u.where << ": runs '" << u.program
        << "', which is not in harness/system/external_programs.cpp (add it with its Debian package, and the package "
           "to the Makefile's DEBS)";
}

TEST(ExternalPrograms, EveryListedProgramIsInstalledFromAPackageTheSetUpInstalls) {
  const auto debs = makefile_packages();
  ASSERT_TRUE(debs.count("cmake") && debs.count("libvirt-daemon")) << "could not read DEBS from the Makefile";
  std::map<std::string, std::string> path_of;
  std::vector<std::string> candidates;
  std::set<std::string> packages;
  for (const auto& p : external_programs()) {
    const std::string name(p.name);
    packages.insert(std::string(p.package));
    path_of[name] = find_program(name);
    if (path_of[name].empty()) {
      ADD_FAILURE() << name << " is not installed (Debian package " << p.package << ")";
      continue;
    }
    for (const auto& c : dpkg_candidates(path_of[name])) candidates.push_back(c);
  }
  const auto owner = owners(candidates);
  const auto base = essential(packages);
  for (const auto& p : external_programs()) {
    const std::string name(p.name), package(p.package);
    if (path_of[name].empty()) continue;
    std::string found;
    for (const auto& c : dpkg_candidates(path_of[name]))
      if (auto it = owner.find(c); it != owner.end() && found.empty()) found = it->second;
    EXPECT_EQ(found, package) << name << " at " << path_of[name] << " does not come from " << package;
    EXPECT_TRUE(debs.count(package) || base.count(package))
        << name << " comes from " << package << ", which is neither in the Makefile's DEBS nor Essential: "
        << "a fresh machine lacks it";
  }
}

TEST(ExternalPrograms, TheRunnerRefusesAProgramThatIsNotListed) {
  // Whether or not the machine has ping, lmh must not run it.
  auto direct = run_command({"ping", "-c", "1", "198.18.0.1"});
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(direct.status().message().find("'ping'"), std::string::npos) << direct.status().to_string();
  Daemon::Options o;
  o.argv = {"nc", "-l", "5000"};
  auto daemon = Daemon::start(o);
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(daemon.status().message().find("'nc'"), std::string::npos);
  // Listed programs and paths (lmh's own binaries, programs it resolved) run.
  auto sed = run_command({"sed", "--version"});
  ASSERT_TRUE(sed.ok()) << sed.status().to_string();
  EXPECT_EQ(sed->exit_code, 0);
  EXPECT_TRUE(check_external_programs({"/usr/bin/env", "true"}).ok());
}

}  // namespace
}  // namespace lmh::harness
