// What OvsHost and OvsdbIdlDatabase decide before touching Open vSwitch
// (no root, no daemons): option validation, neutron's patch port names, the
// errors of requests the lab cannot serve, and that the IDL gives up on a
// server that is not there within its timeout instead of hanging.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "harness/ovs/ovs_host.h"
#include "harness/ovs/ovsdb_idl.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;

TEST(OvsHostOptions, RejectsMappingsThatCannotBeBuilt) {
  OvsHost::Options o;
  o.state_dir = "/nonexistent/lmh-unit";
  o.bridge_mappings = {{"provider", "br-int"}};
  EXPECT_EQ(OvsHost::start(o).status().code(), StatusCode::kInvalidArgument);
  o.bridge_mappings = {{"provider", "br-ex"}};
  o.nic_for_bridge = {{"br-phys", "eth1"}};
  auto s = OvsHost::start(o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("br-phys"), std::string::npos) << s.to_string();
}

TEST(OvsdbIdlDatabase, NamesPatchPortsAsNeutron) {
  PhysnetBridge p = neutron_physnet_bridge("br-ex");
  EXPECT_EQ(p.bridge, "br-ex");
  EXPECT_EQ(p.int_patch_port, "int-br-ex");
  EXPECT_EQ(p.phys_patch_port, "phy-br-ex");
}

OvsdbIdlDatabase::Options unreachable_db() {
  OvsdbIdlDatabase::Options o;
  o.db_socket = "/nonexistent/lmh-unit-" + std::to_string(::getpid()) + "/db.sock";
  o.run_dir = "/nonexistent";
  o.physnets = {{"provider", neutron_physnet_bridge("br-ex")}};
  o.timeout = 300ms;
  return o;
}

TEST(OvsdbIdlDatabase, RefusesTranslationsItCannotProgram) {
  OvsdbIdlDatabase db(unreachable_db());
  EXPECT_EQ(db.provision_local_vlan(1, "elsewhere", "vlan", 100).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.provision_local_vlan(1, "provider", "vxlan", 100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.provision_local_vlan(0, "provider", "vlan", 100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.provision_local_vlan(1, "provider", "vlan", 4095).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db.reclaim_local_vlan(1, "elsewhere", "vlan", 100).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.add_port("br-int", "tap0", {}, 4096).code(), StatusCode::kInvalidArgument);
}

TEST(OvsdbIdlDatabase, GivesUpOnAnAbsentServerWithinItsTimeout) {
  OvsdbIdlDatabase db(unreachable_db());
  auto t0 = std::chrono::steady_clock::now();
  Status write = db.ensure_bridge("br-int", "netdev");
  auto read = db.list_ports("br-int");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(write.code(), StatusCode::kUnavailable) << write.to_string();
  EXPECT_NE(write.message().find("db.sock"), std::string::npos) << write.to_string();
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(db.bridge_exists("br-int"));
  EXPECT_GE(took, 550ms);  // each call waited its 300 ms
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace lmh::harness
