// Writing scenarios back as files: every shipped scenario and one with every
// key away from its default survive load -> write -> parse -> write.
#include "harness/run/scenario_yaml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace lmh::harness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kDir = std::string(LMH_SOURCE_DIR) + "/scenarios/";

// Expects 'b' (read back from what was written of 'a') to equal 'a' but
// for source_file and overrides.
void expect_same(const Scenario& a, const Scenario& b) {
  EXPECT_EQ(b.name, a.name);
  EXPECT_EQ(b.description, a.description);
  EXPECT_EQ(b.tier, a.tier);
  EXPECT_EQ(b.warm_destination, a.warm_destination);
  EXPECT_EQ(b.hosts, a.hosts);  // per-host agent and nova included
  EXPECT_EQ(b.fabric, a.fabric);
  EXPECT_EQ(b.network, a.network);
  EXPECT_EQ(b.guest, a.guest);
  EXPECT_EQ(b.peer, a.peer);
  EXPECT_EQ(b.underlay, a.underlay);
  EXPECT_EQ(b.migration, a.migration);
  EXPECT_EQ(b.probe, a.probe);
  EXPECT_EQ(b.agent, a.agent);
  EXPECT_EQ(b.nova, a.nova);
  EXPECT_EQ(b.behaviour, a.behaviour);
  EXPECT_EQ(b.behaviour_map(), a.behaviour_map());
  ASSERT_EQ(b.faults.size(), a.faults.size());
  for (size_t i = 0; i < a.faults.size(); ++i) EXPECT_EQ(b.faults[i].text, a.faults[i].text);
  EXPECT_EQ(b.fault_seed, a.fault_seed);
  EXPECT_EQ(b.expect, a.expect);
}

// Writes 'sc', reads the text back and writes that again: expects both
// texts and the two scenarios to be the same.
void expect_round_trip(const Scenario& sc) {
  const std::string text = scenario_to_yaml(sc);
  auto back = parse_scenario(text, "written.yaml");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << text;
  EXPECT_EQ(scenario_to_yaml(*back), text);
  expect_same(sc, *back);
}

TEST(ScenarioYaml, EveryShippedScenarioReadsBackTheSame) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().filename().string());
    auto sc = load_scenario(entry.path().string());
    ASSERT_TRUE(sc.ok()) << sc.status().message();
    expect_round_trip(*sc);
    ++files;
  }
  EXPECT_GE(files, 14);
}

TEST(ScenarioYaml, EveryKeyAwayFromItsDefaultReadsBackTheSame) {
  auto sc = parse_scenario(R"(name: every-key
description: "a description: with a colon, and a second\nline"
tier: emulated
warm_destination: false
hosts:
  - {name: src, agent: {udp_dstport: 4789}, nova: {vif_plugging_is_fatal: false}}
  - {name: dst, backend: openvswitch, firewall_driver: iptables_hybrid, service_enabled: false,
     memory_mb: 512, hypervisor_version: 6000000,
     agent: {polling_interval_ms: 500, arp_responder: true},
     nova: {live_migration_wait_for_vif_plug: false, live_migration_timeout_action: force_complete}}
  - {name: by, backend: linuxbridge, physical_interface: eth2}
fabric: {mac_ageing_s: 15}
network: {type: vxlan, segmentation_id: 1001, cidr: 10.1.0.0/16}
guest: {name: g, mac: fa:16:3e:00:00:02, ip: 10.1.2.3, traffic_after_resume_ms: 0, boot_ms: 10, memory_mb: 64}
peer:
  ip: 10.1.0.1
  host: by
  neigh: {base_reachable_time_ms: 1, delay_first_probe_time_s: 0, retrans_time_ms: 0}
underlay: {vlan: 4001, cidr: 198.19.1.0/24}
migration: {precopy_ms: 0, pause_ms: 7, resume_after_dest_poll_ms: 250, kind: resize, resize_outcome: revert,
            verify_ms: 5, force: true}
probe: {interval_ms: 2, reply_timeout_ms: 100, settle_ms: 0, observe_ms: 100}
agent: {polling_interval_ms: 100, l2_population: true, vxlan_group: 239.1.1.2}
nova: {vif_plugging_timeout_s: 3, rpc_response_timeout_s: 5, live_migration_downtime_ms: 100,
       live_migration_downtime_steps: 3, live_migration_downtime_delay_s: 3,
       live_migration_completion_timeout_s: 0}
behaviour: {pre_plug_vlan_uplink: true, vif_plugged_from_agent_only: true, lb_agent_honours_migrating_to: true,
            ovn_multichassis_binding: false, ovn_activation_strategy: none, l2pop_on_binding_activate: true,
            ovs_agent_wires_migrating_to: true, dest_xml_bridge: destination,
            announce_self_after_migration: true, announce_self_count: 5, announce_self_interval_ms: 0}
faults:
  - agent.lb.enslave_uplink=delay:3000
  - hypervisor.migrate=fail:disk copy aborted@nth:2
fault_seed: 42
expect: {max_downtime_ms: 12.5, recover_within_ms: 0}
)",
                           "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  ASSERT_EQ(sc->hosts[1].agent.polling_interval_ms, 500);
  ASSERT_EQ(sc->behaviour.ovn_activation_strategy, "");
  expect_round_trip(*sc);
}

TEST(ScenarioYaml, HostsCarryOnlyTheKeysThatDifferAndOverridesAreFoldedIn) {
  auto sc = parse_scenario(
      "name: t\nhosts:\n  - {name: src}\n  - {name: dst, agent: {polling_interval_ms: 5000, l2_population: true}}\n",
      "t.yaml", {"agent.polling_interval_ms=3000"});
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  const std::string text = scenario_to_yaml(*sc);
  EXPECT_THAT(text, StartsWith("# Scenario t as lmh read it"));
  // dst's l2_population equals the top level's: not repeated.
  EXPECT_THAT(text, HasSubstr("  - name: dst\n    backend: linuxbridge\n    firewall_driver: openvswitch\n"
                              "    physical_interface: eth1\n    service_enabled: true\n    memory_mb: 16384\n"
                              "    hypervisor_version: 7002000\n    agent:\n      polling_interval_ms: 5000\n"
                              "fabric:"));
  EXPECT_THAT(text, HasSubstr("\nagent:\n  polling_interval_ms: 3000\n"));
  EXPECT_THAT(text, Not(HasSubstr("overrides")));
  auto back = parse_scenario(text, "written.yaml");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->name, "t");
  EXPECT_TRUE(back->overrides.empty());
  EXPECT_EQ(back->hosts, sc->hosts);
}

}  // namespace
}  // namespace lmh::harness
