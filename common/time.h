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

// Returns CLOCK_REALTIME minus CLOCK_MONOTONIC (steady_clock), from the
// sample whose two monotonic reads bracket the realtime read most tightly.
// Kernel packet stamps (SO_TIMESTAMPNS, pcap) are wall-clock; subtracting
// this puts them on MonoClock.
inline std::chrono::nanoseconds wall_minus_mono() {
  std::chrono::nanoseconds best_offset{0};
  std::chrono::nanoseconds best_width = std::chrono::nanoseconds::max();
  for (int i = 0; i < 5; ++i) {
    auto before = MonoClock::now().time_since_epoch();
    auto wall = std::chrono::system_clock::now().time_since_epoch();
    auto after = MonoClock::now().time_since_epoch();
    auto width = std::chrono::duration_cast<std::chrono::nanoseconds>(after - before);
    if (width < best_width) {
      best_width = width;
      best_offset = std::chrono::duration_cast<std::chrono::nanoseconds>(wall) -
                    std::chrono::duration_cast<std::chrono::nanoseconds>(before + (after - before) / 2);
    }
  }
  return best_offset;
}

}  // namespace lmh
