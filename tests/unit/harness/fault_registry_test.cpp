// The fault point registry against the source: every point is described and
// implements an action, every definition in core/ and harness/ is
// registered (none lost to the linker), and every defined point is consulted
// by the code. This binary links core and harness, so it sees all points.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "faults/fault_points.h"

namespace lmh::faults {
namespace {

namespace fs = std::filesystem;

// Path (relative to the source root) -> text, for the .h and .cpp files of
// the modules that define and consult fault points.
std::map<std::string, std::string> sources() {
  std::map<std::string, std::string> out;
  const fs::path root(LMH_SOURCE_DIR);
  for (const char* folder : {"core", "harness"}) {
    // harness/ has a sub-folder per layer.
    for (const auto& e : fs::recursive_directory_iterator(root / folder)) {
      const std::string ext = e.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      std::ifstream f(e.path());
      std::stringstream ss;
      ss << f.rdbuf();
      out[fs::relative(e.path(), root).string()] = ss.str();
    }
  }
  return out;
}

struct Definition {
  std::string file;
  std::string variable;  // kAgentLbScan
  std::string name;      // agent.lb.scan
};

// Every `<variable> = faults::define_fault_point({ .name = "<name>"` in the source.
std::vector<Definition> definitions() {
  static const std::regex kDefine(R"re((\w+)\s*=\s*faults::define_fault_point\(\{\s*\.name\s*=\s*"([^"]+)")re");
  std::vector<Definition> out;
  for (const auto& [file, text] : sources())
    for (std::sregex_iterator it(text.begin(), text.end(), kDefine), end; it != end; ++it)
      out.push_back({file, (*it)[1], (*it)[2]});
  return out;
}

TEST(FaultRegistry, EveryPointIsDescribedAndImplementsAnAction) {
  for (const auto& p : known_fault_points()) {
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_EQ(p.description.find('\n'), std::string::npos) << p.name;
    ASSERT_FALSE(p.actions.empty()) << p.name;
    EXPECT_EQ(std::set<ActionKind>(p.actions.begin(), p.actions.end()).size(), p.actions.size()) << p.name;
    EXPECT_FALSE(p.implements(ActionKind::kNone)) << p.name;
    EXPECT_NE(p.tiers & kAllTiers, 0u) << p.name;
    for (const auto* implied : {&p.fatal.live, &p.fatal.cold, &p.loses_vif_plugged})
      for (ActionKind k : *implied) EXPECT_TRUE(p.implements(k)) << p.name << " " << action_name(k);
  }
}

TEST(FaultRegistry, OrderedByPhaseThenName) {
  const auto& points = known_fault_points();
  EXPECT_TRUE(std::is_sorted(points.begin(), points.end(), [](const auto& a, const auto& b) {
    return std::tie(a.phase, a.name) < std::tie(b.phase, b.name);
  }));
}

TEST(FaultRegistry, HoldsExactlyThePointsTheSourceDefines) {
  std::set<std::string> defined;
  for (const auto& d : definitions()) EXPECT_TRUE(defined.insert(d.name).second) << d.name << " defined twice";
  std::set<std::string> registered;
  for (const auto& p : known_fault_points()) registered.insert(p.name);
  EXPECT_EQ(registered, defined);
  EXPECT_EQ(registered.size(), 28u);
}

TEST(FaultRegistry, EveryDefinedPointIsConsulted) {
  const auto files = sources();
  for (const auto& d : definitions()) {
    // Lines that use the variable, other than its definition and extern
    // declarations.
    const std::regex word("\\b" + d.variable + "\\b");
    int uses = 0;
    for (const auto& [file, text] : files) {
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);)
        uses += std::regex_search(line, word) && line.find("define_fault_point") == std::string::npos &&
                line.rfind("extern ", 0) != 0;
    }
    EXPECT_GE(uses, 1) << d.name << " (" << d.variable << " in " << d.file << ") is defined but never consulted";
  }
}

// A point is consulted through its descriptor, never by its name in a
// string (comments may quote it).
TEST(FaultRegistry, NoPointNameIsWrittenOutsideItsDefinition) {
  const auto files = sources();
  for (const auto& p : known_fault_points()) {
    const std::string quoted = "\"" + p.name + "\"";
    int count = 0;
    for (const auto& [file, text] : files) {
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        size_t at = line.find(quoted);
        if (at != std::string::npos && line.rfind("//", at) == std::string::npos) ++count;
      }
    }
    EXPECT_EQ(count, 1) << p.name;
  }
}

}  // namespace
}  // namespace lmh::faults
