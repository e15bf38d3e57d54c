// One status line at the bottom of a terminal ("[3/21] lb-vlan-cold-
// destination: migrate 4.2 s"), redrawn in place while a run goes on;
// the lines the run prints for good go above it. Off when stderr is not a
// terminal (CI logs get the plain lines only) and under --verbose (debug
// lines would tear it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace lmh::harness {

class ProgressLine {
 public:
  // 'enabled' false: set() does nothing, print() just prints.
  ProgressLine(std::FILE* out, bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // The line's text; the time since the last restart() is appended.
  void set(std::string text);
  void restart();
  // Prints 'line' (with its newline) above the status line.
  void print(const std::string& line);

  // What the status line shows now ("" when off): for tests.
  std::string render() const;
  static bool stderr_is_a_terminal();

 private:
  std::string line_locked() const;
  void draw_locked();
  void loop();

  std::FILE* out_;
  bool enabled_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  bool stop_ = false;
  std::thread ticker_;
};

}  // namespace lmh::harness
