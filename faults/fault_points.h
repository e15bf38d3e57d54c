// Named places where a fault can be injected, and a plan that binds actions
// to them. The skeleton ships the registry (so `lmh faults` and reports can
// name points) and the counters; actions are applied by the fault issue.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace lmh::faults {

struct FaultPoint {
  std::string name;         // "agent.lb.enslave_uplink"
  std::string description;
};

// Every point lmh knows, in a stable order.
const std::vector<FaultPoint>& known_fault_points();
bool is_known_fault_point(const std::string& name);

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
