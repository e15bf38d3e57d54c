// Reaping what killed runs left: daemons (by pid file, checked against their
// command line), processes still inside a run's namespaces, the namespaces,
// and the run's state directory. A run whose owner process is alive is left
// alone unless 'all' is set.
#pragma once

#include <string>
#include <vector>

namespace lmh::harness {

struct CleanupReport {
  std::vector<std::string> removed;  // "namespace lmh-…", "process 1234 (ovs-vswitchd)", "dir /run/lmh/…"
  std::vector<std::string> kept;     // runs still owned by a live process
  std::vector<std::string> errors;
};

CleanupReport cleanup_stale_runs(bool all);

}  // namespace lmh::harness
