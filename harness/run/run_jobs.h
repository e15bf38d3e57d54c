// Running many scenario runs: a deterministic slice of them (--shard I/N, so
// a CI matrix splits the work across machines) and several at once (--jobs
// N). Parallel runs are separate lmh processes, one per run ("lmh run
// --index K --part"): each builds its own lab under the run id and its
// number, exactly as a sequential run would name it, and writes its result
// as part-K.json, which the parent merges in order. Processes, not threads:
// OVS's and libvirt's client libraries keep process-wide state.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "reports/result.h"

namespace lmh::harness {

// Shard 'index' of 'count' (1-based): runs whose number k has
// (k - 1) % count == index - 1. Round-robin rather than blocks, so each
// shard gets a share of every kind of scenario in a matrix.
struct Shard {
  int index = 1;
  int count = 1;
  bool contains(int run_number) const { return (run_number - 1) % count == index - 1; }
};

// "I/N" with 1 <= I <= N; kInvalidArgument naming what is wrong.
StatusOr<Shard> parse_shard(const std::string& text);

// One run done by a child lmh: its number and the arguments of `lmh run`
// that load that one scenario (file, overrides, --set, --fault).
struct ChildRun {
  int number = 0;
  std::string name;  // for progress lines
  std::vector<std::string> run_args;
  // Runs alone: nothing else starts while it runs, and it starts when
  // nothing else runs. The real tier's QEMU guests under TCG need the CPU
  // (two at once broke a guest's virtio ring here, README "Known limits").
  bool exclusive = false;
};

struct ChildRunOptions {
  std::string lmh_binary;   // absolute path
  std::string results_root;
  std::string run_id;
  std::string results_dir;  // results_root/run_id: where part-K.json goes
  int jobs = 2;
  bool verbose = false;
  const std::atomic<bool>* interrupt = nullptr;
  // Told as each run's process starts (for progress lines).
  std::function<void(const ChildRun&)> on_start;
};

// Called on the caller's thread as each run ends, in the order they end:
// its result, or an error result saying why the child gave none.
using ChildRunDone = std::function<void(const ChildRun&, reports::ScenarioResult)>;

// The argv of the child for 'run'.
std::vector<std::string> child_argv(const ChildRunOptions& options, const ChildRun& run);

// Runs 'runs', at most options.jobs at a time. On interrupt it stops
// starting runs, passes SIGINT to the running children (each tears its own
// lab down) and waits for them; returns kCancelled then.
Status run_children(const std::vector<ChildRun>& runs, const ChildRunOptions& options, const ChildRunDone& done);

// The file a child writes its result to.
std::string part_file(const std::string& results_dir, int number);

}  // namespace lmh::harness
