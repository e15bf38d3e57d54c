#include "faults/fault_points.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <utility>

namespace lmh::faults {

namespace {

// Function-local, so a definition in any translation unit's static
// initialisation finds it constructed.
std::vector<FaultPointDescriptor>& registry() {
  static std::vector<FaultPointDescriptor> points;
  return points;
}

[[noreturn]] void bad_definition(const std::string& name, const char* why) {
  std::fprintf(stderr, "lmh: fault point '%s': %s\n", name.c_str(), why);
  std::abort();
}

// Optimal string alignment distance: Levenshtein plus adjacent swaps, so
// "scna" is one edit from "scan".
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

const char* action_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kNone: return "none";
    case ActionKind::kDelay: return "delay";
    case ActionKind::kDrop: return "drop";
    case ActionKind::kDuplicate: return "duplicate";
    case ActionKind::kFireEarly: return "fire-early";
    case ActionKind::kFail: return "fail";
    case ActionKind::kCrash: return "crash";
  }
  return "unknown";
}

bool FaultPointDescriptor::implements(ActionKind kind) const {
  return std::find(actions.begin(), actions.end(), kind) != actions.end();
}

std::string FaultPointDescriptor::action_list(const std::string& separator) const {
  std::string list;
  for (ActionKind a : actions) list += (list.empty() ? "" : separator) + action_name(a);
  return list;
}

FaultPointDescriptor define_fault_point(FaultPointDescriptor point) {
  if (point.name.empty() || point.description.empty()) bad_definition(point.name, "needs a name and a description");
  if (point.actions.empty()) bad_definition(point.name, "implements no action");
  for (const auto* implied : {&point.fatal.live, &point.fatal.cold, &point.loses_vif_plugged})
    for (ActionKind a : *implied)
      if (!point.implements(a)) bad_definition(point.name, "implies a status for an action it does not implement");
  if (find_fault_point(point.name)) bad_definition(point.name, "defined twice");
  auto& points = registry();
  // Sorted as it grows: the order does not depend on which translation unit
  // the linker initialises first.
  auto key = [](const FaultPointDescriptor& p) { return std::tie(p.phase, p.name); };
  auto at = std::upper_bound(points.begin(), points.end(), point,
                             [&](const auto& a, const auto& b) { return key(a) < key(b); });
  points.insert(at, point);
  return point;
}

const std::vector<FaultPointDescriptor>& known_fault_points() { return registry(); }

const FaultPointDescriptor* find_fault_point(const std::string& name) {
  for (const auto& p : known_fault_points())
    if (p.name == name) return &p;
  return nullptr;
}

bool is_known_fault_point(const std::string& name) { return find_fault_point(name) != nullptr; }

std::optional<std::string> closest_fault_point(const std::string& name) {
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  const FaultPointDescriptor* best = nullptr;
  size_t best_distance = 0;
  for (const auto& p : known_fault_points()) {
    // The lengths alone put 'p' past 'limit' (the distance is at least
    // their difference): skip its table, length by length of the names,
    // which a long mistyped name would fill for every point.
    const size_t gap = name.size() > p.name.size() ? name.size() - p.name.size() : p.name.size() - name.size();
    if (gap > limit) continue;
    size_t d = edit_distance(name, p.name);
    if (best == nullptr || d < best_distance) {
      best = &p;
      best_distance = d;
    }
  }
  if (best == nullptr || best_distance > limit) return std::nullopt;
  return best->name;
}

}  // namespace lmh::faults
