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

TEST(Timeline, FindsTypedEventsByKindAndHostWhateverTheirText) {
  SimulatedClock clock;
  Timeline tl(clock);
  // The text of a failed switchover also starts "resumed on": only the
  // kind and host tell where the guest runs.
  tl.record(EventKind::kGuestPaused, "src", "guest", "paused on src");
  clock.advance(30ms);
  tl.record(EventKind::kGuestResumed, "src", "guest", "resumed on src (migration failed)");
  tl.record("guest", "resumed on dst, says a note");
  clock.advance(5ms);
  tl.record(EventKind::kGuestResumed, "dst", "guest", "back on dst");
  EXPECT_EQ(tl.all(EventKind::kGuestResumed).size(), 2u);
  auto on_dst = tl.first(EventKind::kGuestResumed, "dst");
  ASSERT_TRUE(on_dst.has_value());
  EXPECT_EQ(on_dst->event, "back on dst");
  EXPECT_EQ(on_dst->t - tl.events()[0].t, 35ms);
  EXPECT_EQ(tl.first(EventKind::kGuestResumed)->host, "src");
  EXPECT_FALSE(tl.first(EventKind::kAnnounceSent).has_value());
  EXPECT_EQ(tl.events()[2].kind, EventKind::kNote);
  // Recorded late at its own instant, a typed event still sorts in time.
  tl.record_at(tl.events()[0].t + 10ms, EventKind::kAnnounceSent, "dst", "guest", "announce RARP 1");
  EXPECT_EQ(tl.events()[1].kind, EventKind::kAnnounceSent);
  EXPECT_STREQ(to_string(EventKind::kGuestResumed), "guest_resumed");
  EXPECT_STREQ(to_string(EventKind::kPrepare), "prepare");
}

TEST(Timeline, TellsItsListenerOfTypedEventsOnly) {
  SimulatedClock clock;
  Timeline tl(clock);
  std::vector<std::string> told;
  tl.set_listener([&](const TimelineEvent& e) {
    // Outside the lock: the listener may read the timeline.
    told.push_back(std::string(to_string(e.kind)) + "@" + e.host + " " + std::to_string(tl.events().size()));
  });
  tl.record("runner", "a note");
  tl.record(EventKind::kBegin, "src", "compute.src", "migration begins");
  tl.record_at(tl.events()[0].t, EventKind::kGuestPaused, "src", "guest", "paused on src");
  EXPECT_EQ(told, (std::vector<std::string>{"begin@src 2", "guest_paused@src 3"}));
  tl.set_listener({});
  tl.record(EventKind::kGuestResumed, "dst", "guest", "resumed");
  EXPECT_EQ(told.size(), 2u);
}

}  // namespace
}  // namespace lmh::core
