#include "harness/run/run_jobs.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <thread>

#include "harness/system/files.h"
#include "harness/system/process.h"
#include "reports/writers.h"

namespace lmh::harness {

using namespace std::chrono_literals;

namespace {

// How often the parent looks at its children.
constexpr auto kChildPoll = 20ms;
// How long children get to tear their labs down after SIGINT.
constexpr auto kChildTeardownGrace = 60s;

std::string tail(const std::string& text, size_t n) {
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

struct RunningChild {
  const ChildRun* run = nullptr;
  Daemon process;
  std::string log;
};

reports::ScenarioResult error_result(const ChildRun& run, const std::string& why) {
  reports::ScenarioResult r;
  r.name = run.name;
  r.verdict = reports::Verdict::kError;
  r.verdict_reason = why;
  return r;
}

// The child's result from its part file; the file and, when the child
// gave a result, its log go (the log stays as evidence otherwise).
reports::ScenarioResult collect(const ChildRunOptions& options, RunningChild& c) {
  const std::string part = part_file(options.results_dir, c.run->number);
  std::error_code ec;
  if (!std::filesystem::exists(part, ec)) {
    return error_result(*c.run, "the lmh process of this run (" + c.process.how_it_ended() +
                                    ") wrote no result; its log " + c.log + ": " +
                                    tail(read_text_file(c.log), 600));
  }
  auto report = reports::from_json_text(read_text_file(part));
  std::filesystem::remove(part, ec);
  if (!report.ok() || report->scenarios.size() != 1)
    return error_result(*c.run, "unreadable result from the lmh process of this run: " +
                                    (report.ok() ? "not one scenario" : report.status().message()));
  std::filesystem::remove(c.log, ec);
  return std::move(report->scenarios.front());
}

}  // namespace

StatusOr<Shard> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  auto number = [](const std::string& s) -> std::optional<int> {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoi(s);
  };
  const auto i = slash == std::string::npos ? std::nullopt : number(text.substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : number(text.substr(slash + 1));
  if (!i || !n) return invalid_argument("--shard '" + text + "': expected I/N, e.g. 2/4");
  if (*n < 1 || *i < 1 || *i > *n)
    return invalid_argument("--shard '" + text + "': I must be between 1 and N (N >= 1)");
  return Shard{*i, *n};
}

std::string part_file(const std::string& results_dir, int number) {
  return results_dir + "/part-" + std::to_string(number) + ".json";
}

std::vector<std::string> child_argv(const ChildRunOptions& options, const ChildRun& run) {
  std::vector<std::string> argv = {options.lmh_binary};
  if (options.verbose) argv.push_back("-v");
  argv.push_back("run");
  argv.insert(argv.end(), run.run_args.begin(), run.run_args.end());
  argv.insert(argv.end(), {"--results", options.results_root, "--run-id", options.run_id, "--index",
                           std::to_string(run.number), "--part"});
  return argv;
}

Status run_children(const std::vector<ChildRun>& runs, const ChildRunOptions& options, const ChildRunDone& done) {
  std::deque<const ChildRun*> waiting;
  for (const auto& r : runs) waiting.push_back(&r);
  std::vector<RunningChild> running;
  auto interrupted = [&] { return options.interrupt && options.interrupt->load(); };
  auto may_start = [&](const ChildRun* next) {
    if (running.empty()) return true;
    if (next->exclusive || running.front().run->exclusive) return false;
    return static_cast<int>(running.size()) < std::max(1, options.jobs);
  };
  while (!waiting.empty() || !running.empty()) {
    while (!interrupted() && !waiting.empty() && may_start(waiting.front())) {
      const ChildRun* run = waiting.front();
      waiting.pop_front();
      RunningChild c;
      c.run = run;
      c.log = options.results_dir + "/" + std::to_string(run->number) + "-lmh.log";
      std::error_code ec;
      std::filesystem::remove(c.log, ec);
      SpawnOptions spawn(child_argv(options, *run), -1, {}, c.log);
      auto process = Daemon::start(spawn);
      if (!process.ok()) {
        done(*run, error_result(*run, "could not start its lmh process: " + process.status().message()));
        continue;
      }
      c.process = std::move(process).value();
      running.push_back(std::move(c));
      if (options.on_start) options.on_start(*run);
    }
    if (interrupted() && !waiting.empty()) waiting.clear();
    if (interrupted()) {
      for (auto& c : running)
        if (c.process.running()) ::kill(c.process.pid(), SIGINT);
      const auto deadline = std::chrono::steady_clock::now() + kChildTeardownGrace;
      for (auto& c : running) {
        while (c.process.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(kChildPoll);
        c.process.stop();
        done(*c.run, collect(options, c));
      }
      return cancelled("interrupted");
    }
    for (auto it = running.begin(); it != running.end();) {
      if (it->process.running()) {
        ++it;
        continue;
      }
      done(*it->run, collect(options, *it));
      it = running.erase(it);
    }
    std::this_thread::sleep_for(kChildPoll);
  }
  return ok_status();
}

}  // namespace lmh::harness
