// Each backend's uplink and fabric port for a network: where capture
// listens and which switch port a host's frames cross.
#include "harness/lab/lab_backend.h"

#include <gtest/gtest.h>

namespace lmh::harness {
namespace {

const TopologyNetwork kVlan{"net", "vlan", "physnet1", 100, "198.18.0.0/24"};
const TopologyNetwork kFlat{"flat", "flat", "physnet1", 0, "198.18.1.0/24"};

TopologyHost host(core::Backend backend) {
  TopologyHost h;
  h.name = "dst";
  h.backend = backend;
  h.physical_interface = "eth1";
  return h;
}

Capabilities with_8021q(bool on) {
  Capabilities c;
  c.vlan_8021q = on;
  return c;
}

TEST(LabBackend, LinuxBridgeUplinkIsTheVlanSubinterfaceOrTheNic) {
  const LabBackend& lb = lab_backend(core::Backend::kLinuxBridge);
  EXPECT_EQ(lb.uplink_name(host(core::Backend::kLinuxBridge), kVlan), "eth1.100");
  EXPECT_EQ(lb.uplink_name(host(core::Backend::kLinuxBridge), kFlat), "eth1");
}

TEST(LabBackend, LinuxBridgeVlanCrossesItsOwnAccessPortWithout8021q) {
  const LabBackend& lb = lab_backend(core::Backend::kLinuxBridge);
  EXPECT_EQ(lb.fabric_port(with_8021q(false), host(core::Backend::kLinuxBridge), kVlan), "dst-v100");
  EXPECT_EQ(lb.fabric_port(with_8021q(true), host(core::Backend::kLinuxBridge), kVlan), "dst-nic");
  EXPECT_EQ(lb.fabric_port(with_8021q(false), host(core::Backend::kLinuxBridge), kFlat), "dst-nic");
}

TEST(LabBackend, OvsTagsOnItsNicForEveryNetwork) {
  const LabBackend& ovs = lab_backend(core::Backend::kOpenVswitch);
  for (const auto& net : {kVlan, kFlat}) {
    EXPECT_EQ(ovs.uplink_name(host(core::Backend::kOpenVswitch), net), "eth1");
    EXPECT_EQ(ovs.fabric_port(with_8021q(false), host(core::Backend::kOpenVswitch), net), "dst-nic");
  }
}

TEST(LabBackend, EveryBackendHasALabSide) {
  for (core::Backend b : core::all_backends())
    EXPECT_NE(&lab_backend(b), nullptr) << core::to_string(b);
  EXPECT_NE(&lab_backend(core::Backend::kLinuxBridge), &lab_backend(core::Backend::kOpenVswitch));
}

}  // namespace
}  // namespace lmh::harness
