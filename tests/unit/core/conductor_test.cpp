// nova's conductor and scheduler, and the invariant checker, on their own:
// compute managers with fake host networks and no L2 agents, reached
// through a HostDirectory of the test's own (no Cloud).
#include <gtest/gtest.h>

#include "core/compute_manager.h"
#include "core/conductor.h"
#include "core/invariants.h"
#include "fakes.h"

namespace lmh::core {
namespace {

using namespace std::chrono_literals;
using testing::FakeHostNetwork;
using testing::FakeHypervisor;

class Directory : public HostDirectory {
 public:
  std::vector<std::string> host_names() const override {
    std::vector<std::string> v;
    for (const auto& [h, c] : computes) v.push_back(h);
    return v;
  }
  ComputeManager* compute(const std::string& host) override {
    auto it = computes.find(host);
    return it == computes.end() ? nullptr : it->second.get();
  }
  L2Agent* agent(const std::string&) override { return nullptr; }
  std::map<std::string, std::unique_ptr<ComputeManager>> computes;
};

struct ConductorTest : ::testing::Test {
  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  NovaDatabase db{timeline};
  RpcBus rpc{loop, timeline, nullptr};
  InstanceEvents events{loop, timeline, nullptr};
  NeutronServer neutron{timeline, NeutronBehaviour{}};
  std::map<std::string, FakeHostNetwork> nets;
  std::unique_ptr<FakeHypervisor> hv;
  Directory hosts;
  Behaviour behaviour;
  std::unique_ptr<NovaServices> services;

  // Hosts a, b, c (in that order); 'tweak' adjusts each one's config.
  void build(const std::function<void(HostConfig&)>& tweak = {}) {
    std::map<std::string, FakeHostNetwork*> by_host;
    for (const char* h : {"a", "b", "c"}) by_host[h] = &nets[h];
    hv = std::make_unique<FakeHypervisor>(loop, by_host);
    services = std::make_unique<NovaServices>(
        NovaServices{loop, timeline, db, rpc, events, neutron, *hv, hosts, behaviour, nullptr});
    for (const char* h : {"a", "b", "c"}) {
      HostConfig hc;
      hc.name = h;
      if (tweak) tweak(hc);
      hosts.computes[h] = std::make_unique<ComputeManager>(*services, hc, nets[h]);
    }
    // An instance without ports: the conductor's checks need none.
    ASSERT_TRUE(db.add_instance({.uuid = "vm", .name = "vm1", .host = "a", .memory_mb = 1024}));
  }
};

TEST_F(ConductorTest, SchedulerPicksTheFirstOtherHostThatPassesTheChecks) {
  build([](HostConfig& hc) { if (hc.name == "b") hc.service_enabled = false; });
  Conductor conductor(*services);
  EXPECT_EQ(conductor.pick_destination("vm", /*live=*/true), "c");  // a is the source, b disabled
  EXPECT_EQ(conductor.pick_destination("nope", true), "");
}

TEST_F(ConductorTest, RefusedMoveIsRecordedAsErrorAndLeavesTheInstanceIdle) {
  build([](HostConfig& hc) { if (hc.name == "b") hc.memory_mb = 512; });
  Conductor conductor(*services);
  auto id = conductor.live_migrate("vm", "b");
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("MigrationPreCheckError"), std::string::npos) << id.status().message();
  ASSERT_EQ(db.migration_count(), 1);
  EXPECT_EQ(db.migration(1)->status, MigrationStatus::kError);
  EXPECT_EQ(db.instance("vm")->task_state, "");
  EXPECT_EQ(db.memory_used_mb("b"), 0u);  // no claim left behind
  for (const char* dest : {"a", "x"}) EXPECT_FALSE(conductor.live_migrate("vm", dest).ok()) << dest;
}

TEST_F(ConductorTest, ForceBypassesTheFiltersButNotTheConductorsChecks) {
  build([](HostConfig& hc) {
    if (hc.name == "b") hc.service_enabled = false;
    if (hc.name == "c") { hc.service_enabled = false; hc.hypervisor_version = 6000000; }
  });
  Conductor conductor(*services);
  EXPECT_FALSE(conductor.live_migrate("vm", "b", /*force=*/false).ok());
  auto c = conductor.live_migrate("vm", "c", /*force=*/true);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("DestinationHypervisorTooOld"), std::string::npos) << c.status().message();
  auto b = conductor.live_migrate("vm", "b", /*force=*/true);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(db.migration(*b)->status, MigrationStatus::kAccepted);
  EXPECT_EQ(db.instance("vm")->task_state, "migrating");
  EXPECT_EQ(db.memory_used_mb("b"), 1024u);  // the scheduler's claim
}

TEST_F(ConductorTest, ConfirmWithoutAPendingResizeIsRefused) {
  build();
  Conductor conductor(*services);
  EXPECT_EQ(conductor.confirm_resize("vm").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(conductor.revert_resize("vm").code(), StatusCode::kFailedPrecondition);
}

TEST_F(ConductorTest, InvariantsNameTheHostsAGuestRunsOnAndANonTerminalRecord) {
  build();
  InvariantChecker checker(*services);
  Migration& m = db.add_migration({.instance_uuid = "vm", .source = "a", .dest = "b"}, MigrationStatus::kRunning);
  // Not running anywhere, record still running.
  auto report = checker.report("vm", m.id);
  std::map<std::string, InvariantResult> by_name;
  for (const auto& r : report) by_name[r.name] = r;
  ASSERT_EQ(report.size(), 6u);
  EXPECT_FALSE(by_name["one_host"].ok);
  EXPECT_EQ(by_name["one_host"].detail, "instance runs on 0 hosts ()");
  EXPECT_FALSE(by_name["migration_terminal"].ok);
  EXPECT_EQ(by_name["migration_terminal"].detail, "migration 1 ended in non-terminal status running");
  EXPECT_TRUE(by_name["no_pending_wait"].ok);
  // Ended, but not as the faults that fired imply.
  db.set_status(m, MigrationStatus::kCompleted);
  for (const auto& r : checker.report("vm", m.id, {MigrationStatus::kError})) {
    if (r.name == "migration_terminal") {
      EXPECT_EQ(r.detail, "migration 1 ended completed; the faults that fired imply error");
    }
  }
  // A wait left open is reported.
  events.prepare("vm", {"network-vif-plugged-p"});
  for (const auto& r : checker.report("vm", m.id)) {
    if (r.name == "no_pending_wait") {
      EXPECT_EQ(r.detail, "1 event wait(s) left pending");
    }
  }
}

}  // namespace
}  // namespace lmh::core
