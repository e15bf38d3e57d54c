#include "harness/run/known_breaks.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/invariants.h"
#include "faults/fault_plan.h"
#include "faults/fault_points.h"

namespace lmh::harness {

namespace {

// "delay:500" and "delay:500@nth:1" are both the delay action: a listed
// action matches the run's action text exactly, or "*".
bool matches(const KnownBreak& k, const FaultRunInvariants& run) {
  return k.point == run.point && (k.action == "*" || k.action == run.action);
}

}  // namespace

StatusOr<std::vector<KnownBreak>> parse_known_breaks(const std::string& text, const std::string& source_name) {
  std::vector<KnownBreak> out;
  std::istringstream in(text);
  int line_no = 0;
  const auto& names = core::invariant_names();
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const std::string where = source_name + ":" + std::to_string(line_no);
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string fault, invariant, extra;
    if (!(words >> fault)) continue;
    if (!(words >> invariant) || (words >> extra))
      return invalid_argument(where + ": expected 'POINT=ACTION INVARIANT' (two words), got '" + line + "'");
    const size_t eq = fault.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == fault.size())
      return invalid_argument(where + ": '" + fault + "': expected POINT=ACTION or POINT=*");
    KnownBreak k{fault.substr(0, eq), fault.substr(eq + 1), invariant, where};
    if (k.action == "*") {
      if (!faults::is_known_fault_point(k.point)) {
        auto near = faults::closest_fault_point(k.point);
        return invalid_argument(where + ": unknown fault point '" + k.point + "'" +
                                (near ? " (did you mean '" + *near + "'?)" : std::string()));
      }
    } else if (auto spec = faults::parse_fault_spec(fault); !spec.ok()) {
      return invalid_argument(where + ": " + spec.status().message());
    }
    if (std::find(names.begin(), names.end(), invariant) == names.end()) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      return invalid_argument(where + ": unknown invariant '" + invariant + "' (one of " + all + ")");
    }
    out.push_back(std::move(k));
  }
  return out;
}

StatusOr<std::vector<KnownBreak>> load_known_breaks(const std::string& path) {
  std::ifstream f(path);
  if (!f) return not_found(path + ": cannot read the list of known broken invariants");
  std::stringstream text;
  text << f.rdbuf();
  return parse_known_breaks(text.str(), path);
}

BreakGate gate_breaks(const std::vector<KnownBreak>& known, const std::vector<FaultRunInvariants>& runs) {
  BreakGate gate;
  std::vector<bool> still_breaks(known.size(), false), ran(known.size(), false);
  for (const auto& run : runs) {
    for (const auto& [name, ok] : run.invariants) {
      bool listed = false;
      for (size_t i = 0; i < known.size(); ++i) {
        if (!matches(known[i], run) || known[i].invariant != name) continue;
        ran[i] = true;
        if (!ok) still_breaks[i] = true;
        listed = true;
      }
      if (ok) continue;
      (listed ? gate.expected : gate.unexpected).push_back(run.point + "=" + run.action + ": " + name);
    }
  }
  for (size_t i = 0; i < known.size(); ++i)
    if (ran[i] && !still_breaks[i])
      gate.stale.push_back(known[i].source + ": " + known[i].point + "=" + known[i].action + " " +
                           known[i].invariant + " is listed as broken and no longer breaks");
  return gate;
}

}  // namespace lmh::harness
