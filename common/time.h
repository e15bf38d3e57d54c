// One monotonic time base for the whole program: std::chrono::steady_clock
// (CLOCK_MONOTONIC on Linux). Core reads it through its injected Clock;
// capture converts pcap's wall-clock stamps onto it.
#pragma once

#include <chrono>

namespace lmh {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;
using Millis = std::chrono::milliseconds;
using Micros = std::chrono::microseconds;

// Milliseconds from 'origin' to 't' as a double (for reports).
inline double ms_since(MonoTime origin, MonoTime t) {
  return std::chrono::duration<double, std::milli>(t - origin).count();
}

}  // namespace lmh
