// Core's fault points register from core alone: a program without the
// harness (this one) knows every point core's flow and its hypervisor
// contract consult, and none of the lab's.
#include "faults/fault_points.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace lmh::faults {
namespace {

TEST(CoreFaultPoints, RegisteredWithoutTheHarness) {
  std::set<std::string> names;
  for (const auto& p : known_fault_points()) names.insert(p.name);
  EXPECT_EQ(names.size(), 23u);
  for (const char* p : {"rpc.cast.live_migration", "rpc.call.pre_live_migration", "compute.pre_live_migration",
                        "neutron.notify.vif_plugged", "agent.lb.scan", "agent.ovs.port_up", "hypervisor.migrate",
                        "guest.announce", "l2pop.fdb_add", "l2pop.fdb_remove"})
    EXPECT_TRUE(names.count(p)) << p;
  // The lab's points are the harness'.
  EXPECT_FALSE(names.count("fabric.port"));
  EXPECT_FALSE(names.count("ovs.vswitchd"));
}

}  // namespace
}  // namespace lmh::faults
