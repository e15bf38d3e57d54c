// Injected time. Core never reads the system clock: it asks a Clock, so unit
// tests run minutes of agent polling and migration phases in microseconds
// with SimulatedClock, and the lab uses RealClock (steady_clock).
#pragma once

#include <thread>

#include "common/time.h"

namespace lmh::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
  // Blocks (or, simulated, jumps) until 'deadline'.
  virtual void sleep_until(MonoTime deadline) = 0;
};

class RealClock final : public Clock {
 public:
  MonoTime now() const override { return MonoClock::now(); }
  void sleep_until(MonoTime deadline) override { std::this_thread::sleep_until(deadline); }
};

// Time moves only when someone sleeps or advances it.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(MonoTime start = MonoTime{} + std::chrono::hours(1)) : now_(start) {}
  MonoTime now() const override { return now_; }
  void sleep_until(MonoTime deadline) override {
    if (deadline > now_) now_ = deadline;
  }
  void advance(MonoClock::duration d) { now_ += d; }

 private:
  MonoTime now_;
};

}  // namespace lmh::core
