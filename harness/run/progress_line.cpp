#include "harness/run/progress_line.h"

#include <unistd.h>

#include <fmt/format.h>

namespace lmh::harness {

namespace {
constexpr auto kRedrawInterval = std::chrono::milliseconds(250);
// Clear the line, cursor to its start.
constexpr const char* kClearLine = "\r\033[K";
}  // namespace

ProgressLine::ProgressLine(std::FILE* out, bool enabled) : out_(out), enabled_(enabled) {
  if (enabled_) ticker_ = std::thread([this] { loop(); });
}

ProgressLine::~ProgressLine() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    std::fputs(kClearLine, out_);
    std::fflush(out_);
  }
  cv_.notify_all();
  ticker_.join();
}

bool ProgressLine::stderr_is_a_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressLine::set(std::string text) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  text_ = std::move(text);
  draw_locked();
}

void ProgressLine::restart() {
  std::lock_guard<std::mutex> lock(mu_);
  since_ = std::chrono::steady_clock::now();
}

void ProgressLine::print(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_) std::fputs(kClearLine, out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  if (enabled_) draw_locked();
  std::fflush(out_);
}

std::string ProgressLine::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  return enabled_ ? line_locked() : "";
}

std::string ProgressLine::line_locked() const {
  if (text_.empty()) return "";
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
  return fmt::format("{} {:.1f} s", text_, s);
}

void ProgressLine::draw_locked() {
  if (text_.empty()) return;
  std::fputs((kClearLine + line_locked()).c_str(), out_);
  std::fflush(out_);
}

void ProgressLine::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kRedrawInterval);
    if (!stop_) draw_locked();
  }
}

}  // namespace lmh::harness
