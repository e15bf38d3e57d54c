// lmh: live-migration harness. Subcommands: run, matrix, flake, validate-cloud,
// cleanup, doctor, faults, report, xml. Exit codes: 0 all pass, 1 a scenario failed its threshold or an
// invariant, 2 usage or input error, 3 environment (a scenario errored), 130
// interrupted.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "faults/fault_plan.h"
#include "faults/fault_points.h"
#include "harness/lab/cleanup.h"
#include "harness/lab/lab.h"
#include "harness/lab/libvirt_hypervisor.h"
#include "harness/run/judge.h"
#include "harness/run/known_breaks.h"
#include "harness/run/matrix_file.h"
#include "harness/run/progress_line.h"
#include "harness/run/run_jobs.h"
#include "harness/run/runner.h"
#include "harness/run/scenario.h"
#include "harness/run/validate_cloud.h"
#include "harness/run/xml_command.h"
#include "harness/system/capabilities.h"
#include "harness/system/files.h"
#include "harness/system/log.h"
#include "harness/virt/accel_probe.h"
#include "reports/bench_report.h"
#include "reports/html_report.h"
#include "reports/repeated_runs.h"
#include "reports/writers.h"

namespace {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitInput = 2;
constexpr int kExitEnvironment = 3;
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_interrupted{false};
bool g_verbose = false;  // --verbose: debug logs on stderr

void on_signal(int) { g_interrupted.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;  // the flag is polled; system calls just go on
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int cmd_doctor() {
  auto caps = lmh::harness::probe_capabilities("lmh-probe-" + std::to_string(::getpid()));
  std::printf("%-22s %-5s %s\n", "CAPABILITY", "OK", "DETAIL / FALLBACK");
  for (const auto& c : caps.list) {
    std::printf("%-22s %-5s %s\n", c.name.c_str(), c.available ? "yes" : "no", c.detail.c_str());
    if (!c.available && !c.fallback.empty()) std::printf("%-22s %-5s -> %s\n", "", "", c.fallback.c_str());
  }
  auto blocking = caps.blocking_for_emulated_tier();
  if (!blocking.empty()) {
    std::printf("\nthe emulated tier cannot run here:\n");
    for (const auto& b : blocking) std::printf("  %s\n", b.c_str());
    return kExitEnvironment;
  }
  std::printf("\nemulated tier: ready\n");
  // The real tier: libvirtd and QEMU present, the guest image built, and
  // which accelerator actually boots it (probed once per machine boot).
  if (lmh::harness::find_program("libvirtd").empty() || lmh::harness::find_program("qemu-system-x86_64").empty()) {
    std::printf("libvirt tier: not available (libvirtd or qemu-system-x86_64 missing: make deps)\n");
    return kExitPass;
  }
  auto image = lmh::harness::real_tier_guest_image();
  if (!image.ok()) {
    std::printf("libvirt tier: not available (%s)\n", image.status().message().c_str());
    return kExitPass;
  }
  lmh::harness::AccelProbeOptions probe;
  probe.image = *image;
  auto accel = lmh::harness::probe_accel(probe);
  std::printf("libvirt tier: ready, accel %s (%s%s)\n", accel.accel.c_str(), accel.reason.c_str(),
              accel.from_cache ? ", cached" : "");
  return kExitPass;
}

int cmd_cleanup(bool all) {
  auto rep = lmh::harness::cleanup_stale_runs(all);
  for (const auto& r : rep.removed) std::printf("removed %s\n", r.c_str());
  for (const auto& k : rep.kept) std::printf("kept %s\n", k.c_str());
  for (const auto& e : rep.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  if (rep.removed.empty() && rep.errors.empty()) std::printf("nothing to clean\n");
  return rep.errors.empty() ? kExitPass : kExitEnvironment;
}

int cmd_faults() {
  for (const auto& p : lmh::faults::known_fault_points())
    std::printf("%-48s %-37s %s\n", p.name.c_str(), p.action_list(",").c_str(), p.description.c_str());
  return kExitPass;
}

int cmd_report(const std::string& path, bool html) {
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "lmh: cannot read %s\n", path.c_str());
    return kExitInput;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto report = lmh::reports::from_json_text(ss.str());
  if (!report.ok()) {
    std::fprintf(stderr, "lmh: %s: %s\n", path.c_str(), report.status().message().c_str());
    return kExitInput;
  }
  if (html) {
    // Beside the result, where its pcaps and serial logs are.
    const std::string out = (std::filesystem::path(path).parent_path() / "report.html").string();
    if (auto w = lmh::harness::write_text_file(out, lmh::reports::to_html(*report)); !w.ok()) {
      std::fprintf(stderr, "lmh: %s\n", w.message().c_str());
      return kExitEnvironment;
    }
    std::cout << out << "\n";
    return kExitPass;
  }
  std::cout << lmh::reports::summary_table(*report);
  return kExitPass;
}

// What the run gates on: a scenario with an expected verdict (from a
// matrix file) must get that verdict; one without must pass.
using ExpectedVerdicts = std::vector<std::optional<lmh::reports::Verdict>>;

// How `run` and `matrix` carry out their scenarios.
struct ExecuteOptions {
  bool matrix = false;  // gate on invariants, print the fault table
  ExpectedVerdicts expected;
  // Per scenario, the `lmh run` arguments that load it again in a child
  // (file, --set, --fault): what --jobs runs.
  std::vector<std::vector<std::string>> child_args;
  int jobs = 1;
  lmh::harness::Shard shard;
  // A child of --jobs: run the one scenario as number 'number' and write
  // its result to part-<number>.json only.
  int number = 0;
  bool part = false;
  // matrix --expect: the invariants known to break; the gate is then on
  // what differs from the list.
  std::optional<std::vector<lmh::harness::KnownBreak>> known_breaks;
};

int execute(std::vector<lmh::harness::Scenario> scenarios, const std::string& results_root, std::string run_id,
            const ExecuteOptions& how);

// Loads every argument (scenario files, FILE[k=v,...], matrix files) with
// 'sets' on top; prints the error and returns nullopt on bad input.
std::optional<std::vector<lmh::harness::Scenario>> load_scenario_args(const std::vector<std::string>& args,
                                                                      const std::vector<std::string>& sets,
                                                                      ExpectedVerdicts& expected,
                                                                      std::vector<std::vector<std::string>>* child_args =
                                                                          nullptr) {
  std::vector<lmh::harness::Scenario> scenarios;
  auto load = [&](const lmh::harness::ScenarioArg& a, std::optional<lmh::reports::Verdict> want,
                  const std::string& where) {
    std::vector<std::string> overrides = a.overrides;
    overrides.insert(overrides.end(), sets.begin(), sets.end());
    auto sc = lmh::harness::load_scenario(a.file, overrides);
    if (!sc.ok()) {
      std::fprintf(stderr, "lmh: %s%s\n", where.empty() ? "" : (where + ": ").c_str(), sc.status().message().c_str());
      return false;
    }
    scenarios.push_back(std::move(sc).value());
    expected.push_back(want);
    if (child_args) {
      std::vector<std::string> again = {a.file};
      for (const auto& o : overrides) again.insert(again.end(), {"--set", o});
      child_args->push_back(std::move(again));
    }
    return true;
  };
  for (const auto& arg : args) {
    if (lmh::harness::is_matrix_file(arg)) {
      auto entries = lmh::harness::load_matrix_file(arg);
      if (!entries.ok()) {
        std::fprintf(stderr, "lmh: %s\n", entries.status().message().c_str());
        return std::nullopt;
      }
      for (const auto& e : *entries)
        if (!load(e.scenario, e.expected, e.source)) return std::nullopt;
    } else if (!load(lmh::harness::parse_scenario_arg(arg), std::nullopt, "")) {
      return std::nullopt;
    }
  }
  return scenarios;
}

int cmd_run(const std::vector<std::string>& files, const std::vector<std::string>& sets,
            const std::vector<std::string>& fault_texts, std::string results_root, std::string run_id,
            ExecuteOptions how) {
  // Validate every input before touching the machine.
  std::vector<lmh::faults::FaultSpec> cli_faults;
  for (const auto& text : fault_texts) {
    auto spec = lmh::faults::parse_fault_spec(text);
    if (!spec.ok()) {
      std::fprintf(stderr, "lmh: --fault: %s\n", spec.status().message().c_str());
      return kExitInput;
    }
    cli_faults.push_back(std::move(spec).value());
  }
  auto scenarios = load_scenario_args(files, sets, how.expected, &how.child_args);
  if (!scenarios) return kExitInput;
  if (how.part && scenarios->size() != 1) {
    std::fprintf(stderr, "lmh: --part runs exactly one scenario\n");
    return kExitInput;
  }
  for (auto& args : how.child_args)
    for (const auto& text : fault_texts) args.insert(args.end(), {"--fault", text});
  for (auto& sc : *scenarios) {
    for (const auto& spec : cli_faults) {
      if (std::string why = lmh::harness::fault_not_applicable(sc, spec); !why.empty()) {
        std::fprintf(stderr, "lmh: --fault %s: %s (%s)\n", spec.text.c_str(), why.c_str(), sc.source_file.c_str());
        return kExitInput;
      }
    }
    sc.faults.insert(sc.faults.end(), cli_faults.begin(), cli_faults.end());
  }
  return execute(std::move(*scenarios), results_root, run_id, how);
}

// Checks what every run needs before touching the machine and reaps what
// killed runs left; nullopt when ready (then 'caps' is filled), else the
// exit code. 'run_id' is validated and, when empty, chosen.
std::optional<int> prepare_machine(std::string& run_id, lmh::harness::Capabilities& caps) {
  // The run id names namespaces and directories; cleanup parses it back.
  if (!run_id.empty() && (run_id.size() > 8 || run_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos)) {
    std::fprintf(stderr, "lmh: --run-id '%s': use 1 to 8 characters from a-z and 0-9\n", run_id.c_str());
    return kExitInput;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "lmh: run needs root (network namespaces, veths, bridges)\n");
    return kExitEnvironment;
  }
  install_signal_handlers();
  // Reap what killed runs left before building anything new.
  auto reaped = lmh::harness::cleanup_stale_runs(false);
  for (const auto& r : reaped.removed) std::fprintf(stderr, "lmh: reaped stale %s\n", r.c_str());
  spdlog::debug("stale runs reaped: {}", reaped.removed.size());
  caps = lmh::harness::probe_capabilities("lmh-probe-" + std::to_string(::getpid()));
  for (const auto& c : caps.list)
    spdlog::debug("capability {}: {} ({})", c.name, c.available ? "yes" : "no", c.detail);
  auto blocking = caps.blocking_for_emulated_tier();
  if (!blocking.empty()) {
    for (const auto& b : blocking) std::fprintf(stderr, "lmh: missing %s\n", b.c_str());
    return kExitEnvironment;
  }
  if (run_id.empty()) run_id = lmh::harness::new_run_id();
  return std::nullopt;
}

// --jobs: runs in child lmh processes (this binary) under 'run_id'.
lmh::harness::ChildRunOptions child_run_options(const std::string& results_root, const std::string& run_id, int jobs) {
  lmh::harness::ChildRunOptions o;
  o.lmh_binary = std::filesystem::read_symlink("/proc/self/exe").string();
  o.results_root = results_root;
  o.run_id = run_id;
  o.results_dir = results_root + "/" + run_id;
  o.jobs = jobs;
  o.verbose = g_verbose;
  o.interrupt = &g_interrupted;
  return o;
}

// Runs validated 'scenarios' on this machine: set-up checks, one lab per
// scenario (numbered 1.. in the order given; --shard keeps its slice of the
// numbers, --jobs runs that many labs at once in child processes), the
// summary, result files. 'how.matrix' gates on invariants (a fault may cost
// downtime; it must never break an invariant) and prints the fault matrix.
int execute(std::vector<lmh::harness::Scenario> scenarios, const std::string& results_root, std::string run_id,
            const ExecuteOptions& how) {
  lmh::harness::Capabilities caps;
  if (auto rc = prepare_machine(run_id, caps)) return *rc;
  lmh::reports::RunReport report;
  report.run_id = run_id;
  report.started_at = utc_now_iso();
  std::string dir = results_root + "/" + run_id;
  std::filesystem::create_directories(dir);
  lmh::harness::RunOptions opt{run_id, dir, &g_interrupted, g_verbose, {}};
  if (how.part) {
    // A child of --jobs: its one run, its result for the parent only.
    auto r = lmh::harness::run_scenario(scenarios.front(), caps, opt, how.number);
    if (!r.ok()) return kExitInterrupted;
    report.scenarios.push_back(std::move(r).value());
    std::ofstream(lmh::harness::part_file(dir, how.number)) << lmh::reports::to_json_text(report);
    return kExitPass;
  }
  // The numbers this shard runs, and where each result goes.
  std::vector<int> numbers;
  for (int k = 1; k <= static_cast<int>(scenarios.size()); ++k)
    if (how.shard.contains(k)) numbers.push_back(k);
  ExpectedVerdicts expected;
  for (int k : numbers) expected.push_back(static_cast<size_t>(k) <= how.expected.size() ? how.expected[k - 1] : std::nullopt);
  std::vector<std::optional<lmh::reports::ScenarioResult>> results(numbers.size());
  const size_t total = numbers.size();
  size_t finished = 0;
  // On a terminal, a status line (run, phase, elapsed); in a log, a line
  // as each run starts.
  const bool tty = !g_verbose && lmh::harness::ProgressLine::stderr_is_a_terminal();
  lmh::harness::ProgressLine progress(stderr, tty);
  auto print_done = [&](const lmh::reports::ScenarioResult& r) {
    const auto& m = r.metrics;
    progress.print(fmt::format("[{}/{}] {}: {} (downtime {:.1f} ms, loss {}/{}{}{})", ++finished, total, r.name,
                               lmh::reports::to_string(r.verdict), m.downtime_ms, m.loss, m.probes,
                               r.verdict_reason.empty() ? "" : "; ", r.verdict_reason));
  };
  bool interrupted = false;
  if (how.jobs <= 1 || numbers.size() <= 1) {
    for (size_t i = 0; i < numbers.size(); ++i) {
      const auto& sc = scenarios[numbers[i] - 1];
      const std::string label = fmt::format("[{}/{}] {}", finished + 1, total, sc.display_name());
      if (tty) progress.restart();
      else std::fprintf(stderr, "%s ...\n", label.c_str());
      opt.on_phase = [&](const char* phase) { progress.set(label + ": " + phase); };
      auto r = lmh::harness::run_scenario(sc, caps, opt, numbers[i]);
      if (!r.ok()) {
        progress.print("lmh: " + r.status().message() + "; lab torn down");
        interrupted = true;
        break;
      }
      print_done(*r);
      results[i] = std::move(r).value();
    }
  } else {
    std::vector<lmh::harness::ChildRun> runs;
    for (int k : numbers)
      runs.push_back({k, scenarios[k - 1].display_name(), how.child_args.at(k - 1),
                      scenarios[k - 1].tier == lmh::harness::Tier::kLibvirt});
    auto copt = child_run_options(results_root, run_id, how.jobs);
    progress.print(fmt::format("lmh: {} runs, {} at a time", total, how.jobs));
    std::set<int> running;  // as run_children starts and ends them
    auto show_running = [&] {
      std::string names;
      for (int k : running) names += (names.empty() ? "" : ", ") + std::to_string(k);
      progress.set(fmt::format("[{}/{} done] running {}:", finished, total, names));
    };
    copt.on_start = [&](const lmh::harness::ChildRun& run) {
      running.insert(run.number);
      show_running();
    };
    lmh::Status s = lmh::harness::run_children(runs, copt, [&](const lmh::harness::ChildRun& run, auto r) {
      r.name = run.name;  // as a sequential run names it (a matrix run's fault included)
      print_done(r);
      running.erase(run.number);
      show_running();
      results[std::find(numbers.begin(), numbers.end(), run.number) - numbers.begin()] = std::move(r);
    });
    interrupted = !s.ok();
  }
  for (auto& r : results)
    if (r) report.scenarios.push_back(std::move(*r));
  if (interrupted) {
    (void)lmh::reports::write_run_files(report, dir);
    return kExitInterrupted;
  }
  auto written = lmh::reports::write_run_files(report, dir);
  spdlog::debug("results written to {}", dir);
  if (!written.ok()) std::fprintf(stderr, "lmh: %s\n", written.message().c_str());
  std::cout << lmh::reports::summary_table(report);
  std::cout << "results: " << dir << "/result.json, " << dir << "/junit.xml\n";
  // Input was validated before anything ran, so an error verdict is the
  // environment's (a daemon died, a capture point never opened).
  for (const auto& s : report.scenarios)
    if (s.verdict == lmh::reports::Verdict::kError) return kExitEnvironment;
  if (how.matrix) {
    int broken = 0;
    std::printf("\n%-58s %-9s %-11s %s\n", "FAULT", "INJECTED", "MIGRATION", "INVARIANTS");
    for (const auto& s : report.scenarios) {
      std::string fault = s.faults.empty() ? "-" : s.faults.back().point + "=" + s.faults.back().action;
      int injected = s.faults.empty() ? 0 : s.faults.back().injected;
      std::string inv;
      for (const auto& i : s.invariants)
        if (!i.ok) inv += (inv.empty() ? "" : ", ") + i.name + " (" + i.detail + ")";
      if (!inv.empty()) ++broken;
      std::printf("%-58s %-9d %-11s %s\n", fault.c_str(), injected, s.migration_status.c_str(),
                  inv.empty() ? "ok" : inv.c_str());
    }
    std::printf("%zu fault runs: %d broke an invariant\n", report.scenarios.size(), broken);
    if (!how.known_breaks) return broken ? kExitFail : kExitPass;
    std::vector<lmh::harness::FaultRunInvariants> runs;
    for (const auto& s : report.scenarios) {
      if (s.faults.empty()) continue;
      lmh::harness::FaultRunInvariants run{s.faults.back().point, s.faults.back().action, {}};
      for (const auto& i : s.invariants) run.invariants.emplace_back(i.name, i.ok);
      runs.push_back(std::move(run));
    }
    const auto gate = lmh::harness::gate_breaks(*how.known_breaks, runs);
    std::printf("--expect: %zu known broken invariant(s) broke as listed, %zu new, %zu listed no longer break\n",
                gate.expected.size(), gate.unexpected.size(), gate.stale.size());
    for (const auto& u : gate.unexpected) std::printf("new broken invariant: %s\n", u.c_str());
    for (const auto& st : gate.stale) std::printf("stale: %s\n", st.c_str());
    return gate.passed() ? kExitPass : kExitFail;
  }
  int unexpected = 0;
  for (size_t k = 0; k < report.scenarios.size(); ++k) {
    const auto& s = report.scenarios[k];
    auto want = k < expected.size() && expected[k] ? *expected[k] : lmh::reports::Verdict::kPass;
    if (s.verdict == want) continue;
    ++unexpected;
    if (k < expected.size() && expected[k])
      std::printf("not as expected: %s %s, the matrix file expects %s\n", s.name.c_str(),
                  lmh::reports::to_string(s.verdict), lmh::reports::to_string(want));
  }
  return unexpected ? kExitFail : kExitPass;
}

// lmh flake: every entry run again and again, round after round (so a
// disturbance of the machine spreads over all entries, not one), against
// the verdict expected of it. The evidence of a run whose verdict was not
// the expected one (its pcaps, its result in result.json) is kept; the
// other runs keep only their figures.
// What `lmh flake` and `lmh bench` share: scenarios run round after round.
struct RepeatOptions {
  bool bench = false;  // figures and a baseline gate, not verdicts
  std::vector<std::string> args, sets;
  int runs = 0;  // 0: flake 30 emulated / 10 libvirt; bench 10
  std::string tier;
  std::vector<std::string> backends;  // bench: only scenarios whose destination runs one of these
  std::string results_root, run_id;
  std::string baseline;  // bench: Google Benchmark JSON to compare medians with
  double tolerance_pct = 10;
  int jobs = 1;  // labs at once (child lmh processes)
};

// The backend a scenario measures: its destination host's.
std::string destination_backend(const lmh::harness::Scenario& sc) {
  const auto* h = sc.host(sc.migration.destination);
  return h ? lmh::core::to_string(h->backend) : "";
}

int cmd_repeat(RepeatOptions ro) {
  const std::string what = ro.bench ? "bench" : "flake";
  if (ro.bench && ro.args.empty()) {
    // The shipped list next to the build tree (build/lmh -> scenarios/), or
    // in the working directory.
    const auto exe = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    for (const auto& candidate : {exe.parent_path() / "scenarios/bench.matrix", std::filesystem::path("scenarios/bench.matrix")})
      if (std::filesystem::exists(candidate)) {
        ro.args.push_back(candidate.string());
        break;
      }
    if (ro.args.empty()) {
      std::fprintf(stderr, "lmh: bench: no scenarios given and no scenarios/bench.matrix found\n");
      return kExitInput;
    }
  }
  for (const auto& b : ro.backends)
    if (!lmh::core::parse_backend(b).ok()) {
      std::fprintf(stderr, "lmh: --backends: unknown backend '%s' (linuxbridge, openvswitch, ovn)\n", b.c_str());
      return kExitInput;
    }
  ExpectedVerdicts expected;
  std::vector<std::vector<std::string>> all_child_args;
  auto scenarios = load_scenario_args(ro.args, ro.sets, expected, &all_child_args);
  if (!scenarios) return kExitInput;
  std::vector<std::vector<std::string>> child_args;  // of the chosen ones
  const int runs_arg = ro.runs;
  const std::string& tier_arg = ro.tier;
  const std::string& results_root = ro.results_root;
  std::string run_id = ro.run_id;
  std::vector<lmh::harness::Scenario> chosen;
  std::vector<lmh::reports::RepeatedEntry> entries;
  std::vector<int> runs_of;
  for (size_t k = 0; k < scenarios->size(); ++k) {
    auto& sc = (*scenarios)[k];
    const std::string tier = lmh::harness::to_string(sc.tier);
    if (!tier_arg.empty() && tier_arg != tier) continue;
    if (!ro.backends.empty() &&
        std::find(ro.backends.begin(), ro.backends.end(), destination_backend(sc)) == ro.backends.end())
      continue;
    // Real guests take about four times an emulated run: 10 runs, not 30.
    runs_of.push_back(runs_arg > 0 ? runs_arg : ro.bench || sc.tier != lmh::harness::Tier::kEmulated ? 10 : 30);
    entries.push_back({sc.display_name(), tier, expected[k].value_or(lmh::reports::Verdict::kPass), {}});
    chosen.push_back(std::move(sc));
    child_args.push_back(all_child_args[k]);
  }
  if (chosen.empty()) {
    std::fprintf(stderr, "lmh: %s: no scenario of tier '%s' and backends given\n", what.c_str(), tier_arg.c_str());
    return kExitInput;
  }
  std::optional<std::string> baseline_text;
  if (!ro.baseline.empty()) {
    std::ifstream f(ro.baseline);
    if (!f) {
      std::fprintf(stderr, "lmh: --baseline %s: cannot read it\n", ro.baseline.c_str());
      return kExitInput;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    baseline_text = ss.str();
    // Refuse a file that is not a benchmark file before an hour of runs.
    if (auto c = lmh::reports::compare_to_baseline({}, *baseline_text, ro.tolerance_pct); !c.ok()) {
      std::fprintf(stderr, "lmh: --baseline %s: %s\n", ro.baseline.c_str(), c.status().message().c_str());
      return kExitInput;
    }
  }
  lmh::harness::Capabilities caps;
  if (auto rc = prepare_machine(run_id, caps)) return *rc;
  const std::string dir = results_root + "/" + run_id;
  std::filesystem::create_directories(dir);
  lmh::harness::RunOptions opt{run_id, dir, &g_interrupted, g_verbose, {}};
  lmh::reports::RunReport evidence;  // full results of the runs worth reading
  evidence.run_id = run_id;
  evidence.started_at = utc_now_iso();
  // Resuming: the same --run-id again continues its rounds (a measurement
  // of hours can be split, or interrupted and picked up).
  int index = 0;
  std::vector<lmh::reports::RepeatedEntry> others;  // in flake.json, not run this time
  const std::string runs_file = dir + (ro.bench ? "/bench-runs.json" : "/flake.json");
  if (std::filesystem::exists(runs_file)) {
    auto earlier = lmh::reports::repeated_from_json(lmh::harness::read_text_file(runs_file));
    if (!earlier.ok()) {
      std::fprintf(stderr, "lmh: %s: %s\n", runs_file.c_str(), earlier.status().message().c_str());
      return kExitInput;
    }
    for (auto& old : *earlier) {
      index += static_cast<int>(old.runs.size());
      auto same = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == old.name; });
      if (same != entries.end()) same->runs = std::move(old.runs);
      else others.push_back(std::move(old));  // e.g. the other tier's entries: kept in the file
    }
    if (auto prior_report = lmh::reports::from_json_text(lmh::harness::read_text_file(dir + "/result.json"));
        prior_report.ok())
      evidence = *prior_report;
    std::fprintf(stderr, "lmh: %s: resuming %s after %d runs\n", what.c_str(), dir.c_str(), index);
  }
  auto all_entries = [&] {
    auto all = entries;
    all.insert(all.end(), others.begin(), others.end());
    return all;
  };
  auto write = [&] {
    std::ofstream(runs_file) << lmh::reports::repeated_json(run_id, all_entries());
    (void)lmh::reports::write_run_files(evidence, dir);
  };
  const int rounds = *std::max_element(runs_of.begin(), runs_of.end());
  int total = 0, done = 0;
  for (size_t k = 0; k < chosen.size(); ++k) total += std::max(0, runs_of[k] - static_cast<int>(entries[k].runs.size()));
  // What each finished run leaves: its figures; its evidence only when
  // its verdict was not the expected one.
  auto record = [&](size_t k, int round, int number, const lmh::reports::ScenarioResult& r, double wall_ms) {
    ++done;
    auto& e = entries[k];
    lmh::reports::RepeatedRun run{round, r.verdict, r.verdict_reason, r.metrics.downtime_ms, r.metrics.recovery_ms,
                                  wall_ms, ""};
    run.overloaded = lmh::harness::overloaded(r.metrics.max_send_gap_ms, r.metrics.interval_ms);
    if (r.verdict != e.expected) {
      run.evidence = "result.json scenario " + std::to_string(evidence.scenarios.size() + 1) + ", " +
                     std::to_string(number) + "-*";
      evidence.scenarios.push_back(r);
    } else {
      for (const auto& pcap : r.pcaps) std::filesystem::remove(dir + "/" + pcap);
      for (const auto& log : r.serial_logs) std::filesystem::remove(dir + "/" + log);
    }
    std::fprintf(stderr, "[%d/%d] %s round %d: %s%s (downtime %.1f ms)\n", done, total, e.name.c_str(), round,
                 lmh::reports::to_string(r.verdict), r.verdict == e.expected ? "" : " (NOT AS EXPECTED)",
                 r.metrics.downtime_ms);
    e.runs.push_back(std::move(run));
    if (done % 10 == 0) write();  // a long soak can be read while it runs
  };
  // Round after round, so a disturbance spreads over every entry.
  struct Pending {
    size_t k;
    int round, number;
  };
  std::vector<Pending> pending;
  for (int round = 1; round <= rounds; ++round)
    for (size_t k = 0; k < chosen.size(); ++k)
      if (round <= runs_of[k] && round > static_cast<int>(entries[k].runs.size()))
        pending.push_back({k, round, ++index});
  auto interrupted = [&] {
    write();
    std::cout << lmh::reports::repeated_table(all_entries());
    return kExitInterrupted;
  };
  if (ro.jobs <= 1) {
    for (const auto& p : pending) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = lmh::harness::run_scenario(chosen[p.k], caps, opt, p.number);
      const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (!r.ok()) {
        std::fprintf(stderr, "lmh: %s; lab torn down\n", r.status().message().c_str());
        return interrupted();
      }
      record(p.k, p.round, p.number, *r, wall_ms);
    }
  } else {
    std::vector<lmh::harness::ChildRun> runs;
    std::map<int, Pending> by_number;
    for (const auto& p : pending) {
      runs.push_back({p.number, entries[p.k].name, child_args[p.k], chosen[p.k].tier == lmh::harness::Tier::kLibvirt});
      by_number[p.number] = p;
    }
    const auto copt = child_run_options(results_root, run_id, ro.jobs);
    std::fprintf(stderr, "lmh: %s: %zu runs, %d at a time\n", what.c_str(), runs.size(), ro.jobs);
    lmh::Status st = lmh::harness::run_children(runs, copt, [&](const lmh::harness::ChildRun& run, auto r) {
      const Pending& p = by_number.at(run.number);
      r.name = run.name;
      record(p.k, p.round, p.number, r, r.wall_ms);
    });
    if (!st.ok()) return interrupted();
    // In round order in the file, whatever order they finished in.
    for (auto& e : entries)
      std::stable_sort(e.runs.begin(), e.runs.end(), [](const auto& a, const auto& b) { return a.round < b.round; });
  }
  write();
  if (!ro.bench) {
    std::cout << lmh::reports::repeated_table(all_entries());
    std::cout << "results: " << runs_file << "\n";
    for (const auto& e : entries)
      if (e.unexpected() || e.count(lmh::reports::Verdict::kError)) return kExitFail;
    return kExitPass;
  }
  lmh::reports::BenchContext context;
  context.date = utc_now_iso();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  context.host_name = host;
  context.num_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  double load[3] = {};
  if (::getloadavg(load, 3) == 3) context.load_avg = {load[0], load[1], load[2]};
  std::ofstream(dir + "/bench.json") << lmh::reports::bench_google_json(entries, context);
  std::cout << lmh::reports::bench_table(entries);
  std::cout << "results: " << dir << "/bench.json (Google Benchmark JSON), " << runs_file << "\n";
  int rc = kExitPass;
  for (const auto& e : entries)
    if (e.count(lmh::reports::Verdict::kError)) rc = kExitEnvironment;
  if (baseline_text) {
    auto c = lmh::reports::compare_to_baseline(entries, *baseline_text, ro.tolerance_pct);
    for (const auto& m : c->compared)
      std::printf("%-70s baseline %8.1f ms  now %8.1f ms  %+6.1f %%%s\n", m.name.c_str(), m.baseline_ms, m.now_ms,
                  m.change_pct, m.change_pct > ro.tolerance_pct ? "  REGRESSION" : "");
    for (const auto& n : c->not_in_baseline) std::printf("%-70s not in the baseline\n", n.c_str());
    std::printf("--baseline: %zu median(s) compared, %zu beyond +%.1f %%\n", c->compared.size(),
                c->regressions.size(), ro.tolerance_pct);
    if (!c->regressions.empty()) rc = kExitFail;
  }
  return rc;
}

// lmh matrix: 'file' once per fault point x action.
int cmd_matrix(const std::string& file, const std::vector<std::string>& sets, const std::string& points_arg,
               const std::string& actions_arg, const std::string& expect_file, const std::string& results_root,
               const std::string& run_id, ExecuteOptions how) {
  auto base = lmh::harness::load_scenario(file, sets);
  if (!base.ok()) {
    std::fprintf(stderr, "lmh: %s\n", base.status().message().c_str());
    return kExitInput;
  }
  if (!expect_file.empty()) {
    auto known = lmh::harness::load_known_breaks(expect_file);
    if (!known.ok()) {
      std::fprintf(stderr, "lmh: --expect %s\n", known.status().message().c_str());
      return kExitInput;
    }
    how.known_breaks = std::move(known).value();
  }
  auto split = [](const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) out.push_back(item);
    return out;
  };
  std::vector<std::string> points;
  if (points_arg == "all") {
    for (const auto& p : lmh::faults::known_fault_points()) points.push_back(p.name);
  } else {
    points = split(points_arg);
  }
  std::vector<std::string> actions = split(actions_arg);
  std::vector<lmh::harness::Scenario> scenarios;
  for (const auto& point : points) {
    for (const auto& action : actions) {
      // Only what the point implements: "all x all" is the full table of
      // real combinations, not a list of refusals.
      const auto* fp = lmh::faults::find_fault_point(point);
      std::string kind = action.substr(0, action.find(':'));
      if (fp && std::none_of(fp->actions.begin(), fp->actions.end(),
                             [&](auto a) { return kind == lmh::faults::action_name(a); }))
        continue;
      auto spec = lmh::faults::parse_fault_spec(point + "=" + action);
      if (spec.ok() && points_arg == "all" && !lmh::harness::fault_not_applicable(*base, *spec).empty()) continue;
      if (!spec.ok()) {
        std::fprintf(stderr, "lmh: --faults/--actions: %s\n", spec.status().message().c_str());
        return kExitInput;
      }
      lmh::harness::Scenario sc = *base;
      sc.faults.push_back(std::move(spec).value());
      sc.overrides.push_back("fault=" + point + "=" + action);
      scenarios.push_back(std::move(sc));
      std::vector<std::string> again = {file};
      for (const auto& o : sets) again.insert(again.end(), {"--set", o});
      again.insert(again.end(), {"--fault", point + "=" + action});
      how.child_args.push_back(std::move(again));
    }
  }
  if (scenarios.empty()) {
    std::fprintf(stderr, "lmh: matrix: no fault point given implements any action given (see `lmh faults`)\n");
    return kExitInput;
  }
  how.matrix = true;
  return execute(std::move(scenarios), results_root, run_id, how);
}

// lmh validate-cloud: the cloud's migration matrix from its files.
int cmd_validate_cloud(const lmh::harness::ValidateOptions& options, const std::string& results_root,
                       std::string run_id) {
  // Every file is read and every cell built before anything is touched.
  auto plan = lmh::harness::plan_cloud_validation(options);
  if (!plan.ok()) {
    std::fprintf(stderr, "lmh: validate-cloud: %s\n", plan.status().message().c_str());
    return kExitInput;
  }
  lmh::harness::Capabilities caps;
  if (auto rc = prepare_machine(run_id, caps)) return *rc;
  const std::string dir = results_root + "/" + run_id;
  std::filesystem::create_directories(dir + "/cells");
  auto write = [&](const std::string& rel, const std::string& text) {
    std::ofstream(dir + "/" + rel) << text;
  };
  size_t to_run = 0;
  for (const auto& cell : plan->cells) {
    if (cell.status != lmh::harness::CellStatus::kRun) continue;
    ++to_run;
    write("cells/" + cell.spec.name + ".yaml", cell.yaml);
    if (!cell.target_yaml.empty()) write("cells/" + cell.spec.name + ".target.yaml", cell.target_yaml);
  }
  std::fprintf(stderr, "lmh: validate-cloud: %zu hosts, %zu classes, %zu cells (%zu to run)\n", plan->hosts.size(),
               plan->classes.size(), plan->cells.size(), to_run);

  lmh::reports::RunReport report;
  report.run_id = run_id;
  report.started_at = utc_now_iso();
  lmh::harness::RunOptions opt{run_id, dir, &g_interrupted, g_verbose, {}};
  int index = 0;
  auto run_cell = [&](const lmh::harness::Scenario& sc) -> lmh::StatusOr<lmh::reports::ScenarioResult> {
    ++index;
    std::fprintf(stderr, "[%d] %s ...\n", index, sc.display_name().c_str());
    auto r = lmh::harness::run_scenario(sc, caps, opt, index);
    if (r.ok())
      std::fprintf(stderr, "[%d] %s: %s (downtime %.1f ms)\n", index, r->name.c_str(),
                   lmh::reports::to_string(r->verdict), r->metrics.downtime_ms);
    return r;
  };
  auto result = lmh::harness::run_cloud_validation(*plan, run_cell, options.find_fixes);
  if (!result.ok()) {
    std::fprintf(stderr, "lmh: %s; lab torn down\n", result.status().message().c_str());
    return kExitInterrupted;
  }
  for (size_t i = 0; i < plan->cells.size(); ++i) {
    const auto& o = result->outcomes[i];
    if (o.as_shipped) report.scenarios.push_back(*o.as_shipped);
    if (o.target) report.scenarios.push_back(*o.target);
    if (!o.fix_yaml.empty()) write("cells/" + plan->cells[i].spec.name + ".fix.yaml", o.fix_yaml);
  }
  if (auto written = lmh::reports::write_run_files(report, dir); !written.ok())
    std::fprintf(stderr, "lmh: %s\n", written.message().c_str());
  write("validation.json", lmh::harness::validation_json(*plan, *result));
  std::cout << lmh::harness::validation_table(*plan, *result);
  std::cout << "results: " << dir << "/validation.json, " << dir << "/result.json, " << dir << "/junit.xml, " << dir
            << "/cells/\n";
  return lmh::harness::validation_exit_code(*plan, *result);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lmh: live-migration harness for the networking of VM migration"};
  app.require_subcommand(1);
  // Accepted before or after the subcommand (lmh -v run ..., lmh run ... -v).
  app.fallthrough();
  app.add_flag("-v,--verbose", g_verbose,
               "log the run's phases, daemons and every command lmh runs (debug, on stderr)");

  auto* run = app.add_subcommand("run", "run scenario files");
  std::vector<std::string> files, sets;
  std::string results = "results", run_id;
  run->add_option("scenarios", files,
                  "scenario YAML files (FILE[key=value,...] adds overrides to one file) or matrix files (*.matrix: "
                  "each scenario with its expected verdict)")
      ->required();
  run->add_option("--set", sets, "override a scenario key, e.g. behaviour.pre_plug_vlan_uplink=true");
  std::vector<std::string> fault_texts;
  run->add_option("--fault", fault_texts, "inject a fault: POINT=ACTION[:ARG][@TRIGGER] (see `lmh faults`)");
  run->add_option("--results", results, "results directory (default: results)");
  run->add_option("--run-id", run_id, "run id (default: random)");
  ExecuteOptions run_how, matrix_how;
  // Measured on 2 cores (README "Parallel runs"): two emulated labs at once
  // keep every figure and verdict of a sequential run and save 40 % of the
  // default matrix's time; three overload the machine. Real-tier runs run
  // alone whatever --jobs says.
  run_how.jobs = matrix_how.jobs = ::sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
  std::string shard_arg;
  auto add_parallel_options = [&](CLI::App* cmd, ExecuteOptions& how) {
    cmd->add_option("--jobs,-j", how.jobs,
                    "labs run at once, each in its own lmh process (default 2 on 2+ cores; real-tier runs run alone)")
        ->check(CLI::Range(1, 64));
    cmd->add_option("--shard", shard_arg, "run only slice I of N (I/N): runs I, I+N, I+2N, ... in the given order");
  };
  add_parallel_options(run, run_how);
  // A child of --jobs (not for people): run the one scenario as number K,
  // its result to part-K.json.
  run->add_option("--index", run_how.number)->group("")->check(CLI::Range(1, 1000000));
  run->add_flag("--part", run_how.part)->group("");

  auto* matrix = app.add_subcommand("matrix", "run a scenario once per fault point x action; gate on invariants");
  std::string matrix_file, matrix_points = "all", matrix_actions = "delay:500,drop,duplicate,fire-early,fail,crash";
  std::vector<std::string> matrix_sets;
  matrix->add_option("scenario", matrix_file, "scenario YAML file")->required();
  matrix->add_option("--faults", matrix_points, "fault points: all (default) or POINT,POINT,...");
  matrix->add_option("--actions", matrix_actions, "actions, default delay:500,drop,duplicate,fire-early,fail,crash");
  matrix->add_option("--set", matrix_sets, "override a scenario key");
  matrix->add_option("--results", results, "results directory (default: results)");
  matrix->add_option("--run-id", run_id, "run id (default: random)");
  add_parallel_options(matrix, matrix_how);
  std::string matrix_expect;
  matrix->add_option("--expect", matrix_expect,
                     "known broken invariants, 'POINT=ACTION INVARIANT' per line: exit 1 only on a break not listed "
                     "or a listed one that no longer breaks");

  auto* flake = app.add_subcommand(
      "flake", "run scenarios (or a matrix file's entries) many times; how often the verdict was not the expected one");
  std::vector<std::string> flake_args, flake_sets;
  int flake_runs = 0;
  std::string flake_tier;
  flake->add_option("scenarios", flake_args, "matrix files (expected verdicts) or scenario files (expected to pass)")
      ->required();
  flake->add_option("--runs", flake_runs, "runs per entry (default 30 emulated, 10 libvirt)")
      ->check(CLI::Range(1, 100000));
  int flake_jobs = 1;
  flake->add_option("--jobs,-j", flake_jobs,
                    "labs run at once, each in its own lmh process (default 1: the figures are the point)")
      ->check(CLI::Range(1, 64));
  flake->add_option("--tier", flake_tier, "only entries of this tier")->check(CLI::IsMember({"emulated", "libvirt"}));
  flake->add_option("--set", flake_sets, "override a scenario key");
  flake->add_option("--results", results, "results directory (default: results)");
  flake->add_option("--run-id", run_id, "run id (default: random)");

  auto* bench = app.add_subcommand(
      "bench", "run each backend's scenario N times: downtime and recovery median, p95, min, max (Google Benchmark JSON)");
  RepeatOptions bench_opt;
  bench_opt.bench = true;
  bench->add_option("scenarios", bench_opt.args, "matrix or scenario files (default: scenarios/bench.matrix)");
  bench->add_option("--runs", bench_opt.runs, "runs per scenario (default 10)")->check(CLI::Range(1, 100000));
  bench->add_option("--jobs,-j", bench_opt.jobs,
                    "labs run at once, each in its own lmh process (default 1: the figures are the point)")
      ->check(CLI::Range(1, 64));
  bench->add_option("--backends", bench_opt.backends, "only these destination backends: linuxbridge,openvswitch,ovn")
      ->delimiter(',');
  bench->add_option("--tier", bench_opt.tier, "only scenarios of this tier")->check(CLI::IsMember({"emulated", "libvirt"}));
  bench->add_option("--set", bench_opt.sets, "override a scenario key");
  bench->add_option("--baseline", bench_opt.baseline, "an earlier bench.json: exit 1 when a median regresses");
  bench->add_option("--tolerance", bench_opt.tolerance_pct, "percent a median may rise over the baseline (default 10)")
      ->check(CLI::Range(0.0, 10000.0));
  bench->add_option("--results", results, "results directory (default: results)");
  bench->add_option("--run-id", run_id, "run id (default: random)");

  auto* validate = app.add_subcommand(
      "validate-cloud", "build the lab from a cloud's configuration files and release; run its migration matrix");
  lmh::harness::ValidateOptions vopt;
  std::string kinds_arg = "live";
  validate->add_option("--release", vopt.release, "the cloud's release: queens .. 2026.1 (series or codename)")
      ->required();
  validate->add_option("--target-release", vopt.target_release, "run the same cloud as it would behave after upgrading");
  validate->add_option("--controller", vopt.controller_dir,
                       "directory with neutron-server's neutron.conf and ml2_conf.ini (default: the compute hosts' copies)");
  validate->add_option("--compute", vopt.compute_dirs,
                       "one compute host's directory (nova.conf, neutron.conf, ml2_conf.ini, *_agent.ini, ovs_external_ids)")
      ->required();
  validate->add_option("--kinds", kinds_arg, "migration kinds: live,cold,resize (default: live)");
  validate->add_option("--network-types", vopt.network_types, "only these network types (default: the cloud's type_drivers)")
      ->delimiter(',');
  validate->add_option("--max-downtime-ms", vopt.max_downtime_ms, "a cell fails above this downtime (default 500)");
  validate->add_flag("!--no-fixes", vopt.find_fixes, "do not search a fix for failing cells");
  validate->add_option("--results", results, "results directory (default: results)");
  validate->add_option("--run-id", run_id, "run id (default: random)");

  auto* cleanup = app.add_subcommand("cleanup", "remove what killed runs left behind");
  bool all = false;
  cleanup->add_flag("--all", all, "also remove runs whose owner is still alive");

  auto* doctor = app.add_subcommand("doctor", "probe kernel and machine capabilities");
  auto* faults = app.add_subcommand("faults", "list fault points");
  auto* report = app.add_subcommand("report", "print the summary of a result.json");
  std::string result_path;
  report->add_option("result", result_path, "result.json")->required();
  bool report_html = false;
  report->add_flag("--html", report_html, "write report.html beside it (a timeline per scenario) instead");

  auto* xml = app.add_subcommand("xml", "libvirt domain XML tools");
  xml->require_subcommand(1);
  auto* update_vif = xml->add_subcommand(
      "update-vif", "print the destination domain XML nova computes for a live migration");
  std::string domain_xml, vif_json;
  std::vector<std::string> xml_sets;
  update_vif->add_option("--domain-xml", domain_xml, "the source domain XML (virsh dumpxml)")->required();
  update_vif->add_option("--vif-json", vif_json, "JSON list of destination VIFs in nova's network-model form")
      ->required();
  update_vif->add_option("--set", xml_sets,
                         "behaviour.dest_xml_bridge=source (as shipped, default) or destination (fixed)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitPass : kExitInput;
  }
  lmh::harness::setup_logging(g_verbose);
  if (!shard_arg.empty()) {
    auto shard = lmh::harness::parse_shard(shard_arg);
    if (!shard.ok()) {
      std::fprintf(stderr, "lmh: %s\n", shard.status().message().c_str());
      return kExitInput;
    }
    run_how.shard = matrix_how.shard = *shard;
  }
  if (run_how.part != (run_how.number > 0)) {
    std::fprintf(stderr, "lmh: --part and --index go together\n");
    return kExitInput;
  }
  if (*run) return cmd_run(files, sets, fault_texts, results, run_id, run_how);
  if (*flake) {
    RepeatOptions ro;
    ro.args = flake_args;
    ro.sets = flake_sets;
    ro.runs = flake_runs;
    ro.tier = flake_tier;
    ro.jobs = flake_jobs;
    ro.results_root = results;
    ro.run_id = run_id;
    return cmd_repeat(ro);
  }
  if (*bench) {
    bench_opt.results_root = results;
    bench_opt.run_id = run_id;
    return cmd_repeat(bench_opt);
  }
  if (*matrix) return cmd_matrix(matrix_file, matrix_sets, matrix_points, matrix_actions, matrix_expect, results, run_id,
                                 matrix_how);
  if (*validate) {
    vopt.kinds.clear();
    std::stringstream ss(kinds_arg);
    for (std::string k; std::getline(ss, k, ',');) {
      auto kind = lmh::core::parse_migration_kind(k);
      if (!kind.ok()) {
        std::fprintf(stderr, "lmh: --kinds: %s\n", kind.status().message().c_str());
        return kExitInput;
      }
      vopt.kinds.push_back(*kind);
    }
    return cmd_validate_cloud(vopt, results, run_id);
  }
  if (*cleanup) return cmd_cleanup(all);
  if (*doctor) return cmd_doctor();
  if (*faults) return cmd_faults();
  if (*report) return cmd_report(result_path, report_html);
  if (*update_vif) return lmh::harness::xml_update_vif_command(domain_xml, vif_json, xml_sets, std::cout, std::cerr);
  return kExitInput;
}
