// Named places where a fault can be injected. The registry lets `lmh faults`
// list every point, parse_fault_spec reject unknown names (suggesting the
// closest one), and reports name points; fault_plan.h binds actions to them.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lmh::faults {

struct FaultPoint {
  std::string name;         // "agent.lb.enslave_uplink"
  std::string description;
  // The actions this point implements, by name ("delay", "drop", ...). A
  // plan naming any other action here is refused when it is parsed, so a
  // fault never silently means nothing.
  std::vector<std::string> actions;
};

// Every point lmh knows, in a stable order (grouped by component, roughly in
// the order the migration flow reaches them). rpc points are per method:
// "rpc.call.<method>" and "rpc.cast.<method>".
const std::vector<FaultPoint>& known_fault_points();
bool is_known_fault_point(const std::string& name);
// The registry entry of 'name', or null.
const FaultPoint* find_fault_point(const std::string& name);

// The known point closest to 'name' by edit distance (insert, delete,
// substitute, swap two neighbours; ties go to the earlier point in
// known_fault_points()), when it is close enough to be a likely typo:
// distance <= max(2, size of 'name' / 3). nullopt when none is that close.
std::optional<std::string> closest_fault_point(const std::string& name);

// Counts how often each point was reached and how often a fault fired there
// (tests and reports read these; a fault is a configuration, not an `if`).
class FaultCounters {
 public:
  void reached(const std::string& point);
  void injected(const std::string& point);
  int reached_count(const std::string& point) const;
  int injected_count(const std::string& point) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> reached_;
  std::map<std::string, int> injected_;
};

}  // namespace lmh::faults
