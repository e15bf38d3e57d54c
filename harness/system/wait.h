// Waiting for a condition, never sleeping a guess (OVS_WAIT_UNTIL).
#pragma once

#include <chrono>
#include <thread>

namespace lmh::harness {

// Polls 'pred' every 'step' until it holds (true) or 'timeout' passes (false).
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace lmh::harness
