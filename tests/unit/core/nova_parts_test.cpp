// The parts nova's roles are built from, each on its own: the RPC bus, the
// instance-event waiter, nova's database and the migration status names.
// The flows through all of them are in live_migration_test and friends.
#include <gtest/gtest.h>

#include "core/compute_rpcapi.h"
#include "core/instance_events.h"
#include "core/migration_status.h"
#include "core/nova_database.h"
#include "core/rpc_bus.h"
#include "faults/fault_plan.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;

struct Parts : ::testing::Test {
  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  std::unique_ptr<faults::FaultPlan> plan;

  faults::FaultPlan* plan_of(const std::string& fault) {
    auto spec = faults::parse_fault_spec(fault);
    EXPECT_TRUE(spec.ok()) << spec.status().message();
    plan = std::make_unique<faults::FaultPlan>(std::vector<faults::FaultSpec>{*spec}, 1, /*armed=*/true);
    return plan.get();
  }
};

// ---------------------------------------------------------------- RpcBus

TEST_F(Parts, CastIsDeliveredOnALaterTurnOfTheLoop) {
  RpcBus bus(loop, timeline, nullptr);
  int delivered = 0;
  ASSERT_TRUE(bus.cast(compute_rpcapi::kPrepResize, "dst", [&] { ++delivered; }).ok());
  EXPECT_EQ(delivered, 0);  // a cast never runs in the sender's turn
  ASSERT_TRUE(loop.run_for(1ms).ok());
  EXPECT_EQ(delivered, 1);
}

TEST_F(Parts, DuplicatedCastIsDeliveredTwiceAndDelayedCastLate) {
  RpcBus dup(loop, timeline, plan_of("rpc.cast.resize_instance=duplicate"));
  int n = 0;
  ASSERT_TRUE(dup.cast(compute_rpcapi::kResizeInstance, "src", [&] { ++n; }).ok());
  ASSERT_TRUE(loop.run_for(1ms).ok());
  EXPECT_EQ(n, 2);
  RpcBus late(loop, timeline, plan_of("rpc.cast.resize_instance=delay:500"));
  ASSERT_TRUE(late.cast(compute_rpcapi::kResizeInstance, "src", [&] { ++n; }).ok());
  ASSERT_TRUE(loop.run_for(499ms).ok());
  EXPECT_EQ(n, 2);
  ASSERT_TRUE(loop.run_for(2ms).ok());
  EXPECT_EQ(n, 3);
}

TEST_F(Parts, CastThatCannotBeSentIsAnErrorAndNothingIsDelivered) {
  RpcBus bus(loop, timeline, plan_of("rpc.cast.finish_resize=fail:broker down"));
  bool delivered = false;
  Status s = bus.cast(compute_rpcapi::kFinishResize, "dst", [&] { delivered = true; });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("finish_resize"), std::string::npos) << s.message();
  ASSERT_TRUE(loop.run_for(1s).ok());
  EXPECT_FALSE(delivered);
}

TEST_F(Parts, CallReplyArrivesAfterTheCalleeRanAndLateByItsDelay) {
  RpcBus bus(loop, timeline, nullptr);
  bool ran = false;
  std::optional<Status> reply;
  bus.call(compute_rpcapi::kPreLiveMigration, "dst",
           [&] {
             ran = true;
             bus.delay_reply(300ms);  // a slow callee
             return ok_status();
           },
           [&](Status s) { reply = s; });
  EXPECT_TRUE(ran);  // the callee runs in the call
  ASSERT_TRUE(loop.run_for(299ms).ok());
  EXPECT_FALSE(reply.has_value());
  ASSERT_TRUE(loop.run_for(2ms).ok());
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->ok());
}

TEST_F(Parts, LostCallTimesOutAfterTheResponseTimeout) {
  RpcBus bus(loop, timeline, plan_of("rpc.call.pre_live_migration=drop"));
  bus.set_response_timeout(20s);
  bool ran = false;
  std::optional<Status> reply;
  bus.call(compute_rpcapi::kPreLiveMigration, "dst", [&] { ran = true; return ok_status(); },
           [&](Status s) { reply = s; });
  ASSERT_TRUE(loop.run_for(19s).ok());
  EXPECT_FALSE(reply.has_value());
  ASSERT_TRUE(loop.run_for(2s).ok());
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(reply->message().find("MessagingTimeout"), std::string::npos);
  EXPECT_FALSE(ran);
}

TEST_F(Parts, CrashedServiceAnswersNothingAfterwards) {
  RpcBus bus(loop, timeline, plan_of("rpc.call.pre_live_migration=crash"));
  bus.set_response_timeout(5s);
  std::optional<Status> reply;
  bus.call(compute_rpcapi::kPreLiveMigration, "dst", [] { return ok_status(); }, [&](Status s) { reply = s; });
  EXPECT_FALSE(bus.service_up("dst"));
  EXPECT_TRUE(bus.service_up("src"));
  bool later = false;
  // A later cast to the dead service is accepted by the broker and never consumed.
  EXPECT_TRUE(bus.cast(compute_rpcapi::kConfirmResize, "dst", [&] { later = true; }).ok());
  ASSERT_TRUE(loop.run_for(6s).ok());
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code(), StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(later);
}

TEST(RpcMethod, IsTheNameAfterCastOrCall) {
  EXPECT_EQ(rpc_method(compute_rpcapi::kLiveMigration), "live_migration");
  EXPECT_EQ(rpc_method(compute_rpcapi::kPostLiveMigrationAtDestination), "post_live_migration_at_destination");
}

// ---------------------------------------------------------------- InstanceEvents

TEST_F(Parts, WaitEndsWhenEveryExpectedEventArrived) {
  InstanceEvents events(loop, timeline, nullptr);
  int id = events.prepare("vm", {"network-vif-plugged-p1", "network-vif-plugged-p2"});
  std::optional<Status> done;
  events.wait(id, 10s, [&](Status s) { done = s; });
  events.notify("network-vif-plugged", "p1");
  ASSERT_TRUE(loop.run_for(1ms).ok());
  EXPECT_FALSE(done.has_value());
  EXPECT_EQ(events.pending(), 1);
  events.notify("network-vif-plugged", "p2");
  ASSERT_TRUE(loop.run_for(1ms).ok());
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->ok());
  EXPECT_EQ(events.pending(), 0);
  EXPECT_EQ(events.received(), (std::vector<std::string>{"network-vif-plugged p1", "network-vif-plugged p2"}));
}

TEST_F(Parts, EventBeforeAnyWaiterIsDroppedAndTheWaitTimesOutNamingIt) {
  InstanceEvents events(loop, timeline, nullptr);
  events.notify("network-vif-plugged", "p1");  // nova drops it: nobody waits yet
  int id = events.prepare("vm", {"network-vif-plugged-p1"});
  std::optional<Status> done;
  events.wait(id, 300s, [&](Status s) { done = s; });
  ASSERT_TRUE(loop.run_for(299s).ok());
  EXPECT_FALSE(done.has_value());
  ASSERT_TRUE(loop.run_for(2s).ok());
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(done->message().find("network-vif-plugged-p1"), std::string::npos) << done->message();
}

TEST_F(Parts, LostVifPluggedNeverReachesTheWaiterAndCancelEndsTheWait) {
  InstanceEvents events(loop, timeline, plan_of("neutron.notify.vif_plugged=drop"));
  int id = events.prepare("vm", {"network-vif-plugged-p1"});
  std::optional<Status> done;
  events.wait(id, 300s, [&](Status s) { done = s; });
  events.notify("network-vif-plugged", "p1");
  ASSERT_TRUE(loop.run_for(1s).ok());
  EXPECT_TRUE(events.received().empty());
  EXPECT_EQ(events.pending(), 1);
  events.cancel(id);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->code(), StatusCode::kCancelled);
  EXPECT_EQ(events.pending(), 0);
}

// ---------------------------------------------------------------- NovaDatabase

TEST_F(Parts, MigrationIdsCountFromOneAndStatusesAreRecorded) {
  NovaDatabase db(timeline);
  Migration& a = db.add_migration({.instance_uuid = "vm", .source = "src", .dest = "dst"}, MigrationStatus::kAccepted);
  Migration& b = db.add_migration({.instance_uuid = "vm", .source = "dst", .dest = "src"}, MigrationStatus::kPreMigrating);
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(b.id, 2);
  EXPECT_EQ(db.migration(2), &b);
  EXPECT_EQ(db.migration(0), nullptr);
  EXPECT_EQ(db.migration(3), nullptr);
  db.set_status(a, MigrationStatus::kPreparing);
  EXPECT_EQ(timeline.all("conductor", "migration 1 status ").back().event, "migration 1 status preparing");
  EXPECT_EQ(timeline.all("conductor", "migration 2 status ").back().event, "migration 2 status pre-migrating");
}

TEST_F(Parts, ClaimCountsOnTheDestinationUntilTheMoveEnds) {
  NovaDatabase db(timeline);
  ASSERT_TRUE(db.add_instance({.uuid = "vm", .host = "src", .memory_mb = 512}));
  EXPECT_FALSE(db.add_instance({.uuid = "vm", .host = "dst"}));  // uuid taken
  Migration& m = db.add_migration({.instance_uuid = "vm", .source = "src", .dest = "dst"}, MigrationStatus::kAccepted);
  db.claim(m.id, "dst", 512);
  EXPECT_EQ(db.memory_used_mb("src"), 512u);
  EXPECT_EQ(db.memory_used_mb("dst"), 512u);
  db.set_status(m, MigrationStatus::kRunning);
  EXPECT_EQ(db.memory_used_mb("dst"), 512u);
  db.set_status(m, MigrationStatus::kError);  // terminal: the claim goes
  EXPECT_EQ(db.memory_used_mb("dst"), 0u);
}

TEST_F(Parts, PendingResizeIsTakenOnce) {
  NovaDatabase db(timeline);
  db.note_pending_resize("vm", 4);
  EXPECT_EQ(db.take_pending_resize("vm"), 4);
  EXPECT_EQ(db.take_pending_resize("vm"), 0);
}

TEST(MigrationStatusNames, AreNovasAndParseBack) {
  EXPECT_STREQ(migration_status_name(MigrationStatus::kPreMigrating), "pre-migrating");
  EXPECT_STREQ(migration_status_name(MigrationStatus::kPostMigrating), "post-migrating");
  for (const char* name : {"accepted", "preparing", "running", "completed", "error", "failed", "cancelled",
                           "pre-migrating", "migrating", "post-migrating", "finished", "confirming", "confirmed",
                           "reverting", "reverted"}) {
    auto s = parse_migration_status(name);
    ASSERT_TRUE(s.ok()) << name;
    EXPECT_STREQ(migration_status_name(*s), name);
  }
  EXPECT_FALSE(parse_migration_status("done").ok());
}

TEST(MigrationStatusNames, TerminalAreTheEndsOfEachFlow) {
  for (auto s : {MigrationStatus::kCompleted, MigrationStatus::kError, MigrationStatus::kFailed,
                 MigrationStatus::kCancelled, MigrationStatus::kConfirmed, MigrationStatus::kReverted})
    EXPECT_TRUE(is_terminal(s)) << s;
  // 'finished' waits for confirm or revert.
  for (auto s : {MigrationStatus::kAccepted, MigrationStatus::kRunning, MigrationStatus::kFinished,
                 MigrationStatus::kConfirming, MigrationStatus::kReverting})
    EXPECT_FALSE(is_terminal(s)) << s;
}

}  // namespace
}  // namespace lmh::core
