#include "core/event_loop.h"

#include <gtest/gtest.h>

#include "core/timeline.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;

TEST(EventLoop, RunsTasksInTimeOrderAndTiesInPostingOrder) {
  SimulatedClock clock;
  EventLoop loop(clock);
  std::vector<std::string> order;
  MonoTime t0 = clock.now();
  loop.post_after(30ms, [&] { order.push_back("c"); });
  loop.post_after(10ms, [&] { order.push_back("a1"); });
  loop.post_after(10ms, [&] { order.push_back("a2"); });
  loop.post_after(20ms, [&] { order.push_back("b"); });
  ASSERT_TRUE(loop.run_for(1s).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2", "b", "c"}));
  EXPECT_EQ(clock.now() - t0, 1s);
}

TEST(EventLoop, CancelledTimerDoesNotRun) {
  SimulatedClock clock;
  EventLoop loop(clock);
  int ran = 0;
  auto id = loop.post_after(5ms, [&] { ++ran; });
  loop.post_after(6ms, [&] { ran += 10; });
  loop.cancel(id);
  ASSERT_TRUE(loop.run_for(10ms).ok());
  EXPECT_EQ(ran, 10);
}

TEST(EventLoop, RunUntilStopsWhenPredicateHoldsAtThatTime) {
  SimulatedClock clock;
  EventLoop loop(clock);
  bool flag = false;
  MonoTime t0 = clock.now();
  loop.post_after(250ms, [&] { flag = true; });
  ASSERT_TRUE(loop.run_until([&] { return flag; }, t0 + 10s).ok());
  EXPECT_EQ(clock.now() - t0, 250ms);
}

TEST(EventLoop, RunUntilReportsDeadlineAndInterrupt) {
  SimulatedClock clock;
  EventLoop loop(clock);
  EXPECT_EQ(loop.run_until([] { return false; }, clock.now() + 1s).code(),
            StatusCode::kDeadlineExceeded);
  std::atomic<bool> stop{true};
  EXPECT_EQ(loop.run_until([] { return false; }, clock.now() + 1s, &stop).code(),
            StatusCode::kCancelled);
}

TEST(Timeline, StampsWithInjectedClockAndFinds) {
  SimulatedClock clock;
  Timeline tl(clock);
  tl.record("a", "x one");
  clock.advance(7ms);
  tl.record("b", "x two");
  tl.record("a", "x three");
  auto e = tl.first("a", "x t");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->event, "x three");
  EXPECT_EQ(e->t - tl.events()[0].t, 7ms);
  EXPECT_EQ(tl.all("a", "x").size(), 2u);
  EXPECT_FALSE(tl.first("c", "").has_value());
}

}  // namespace
}  // namespace lmh::core
