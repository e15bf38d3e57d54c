// Scenario loading: the shipped files, defaults, every error class with its
// exact file:line:key text, and --set overrides.
#include "harness/run/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lmh::harness {
namespace {

using ::testing::HasSubstr;

const std::string kDir = std::string(LMH_SOURCE_DIR) + "/scenarios/";

// Returns the error message of parsing 'text' as "t.yaml" with 'overrides'
// (or "OK" when it parses).
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  auto sc = parse_scenario(text, "t.yaml", overrides);
  if (sc.ok()) return "OK";
  EXPECT_EQ(sc.status().code(), StatusCode::kInvalidArgument);
  return sc.status().message();
}

// Returns a valid scenario with 'extra' lines appended.
std::string with(const std::string& extra) { return "name: t\n" + extra; }

TEST(ScenarioShipped, WarmDestinationLoads) {
  auto sc = load_scenario(kDir + "lb-vlan-warm-destination.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->name, "lb-vlan-warm-destination");
  EXPECT_EQ(sc->source_file, kDir + "lb-vlan-warm-destination.yaml");
  EXPECT_TRUE(sc->warm_destination);
  ASSERT_EQ(sc->hosts.size(), 2u);
  EXPECT_EQ(sc->hosts[0].name, "src");
  EXPECT_EQ(sc->hosts[1].physical_interface, "eth1");
  EXPECT_EQ(sc->network.type, "vlan");
  EXPECT_EQ(sc->network.segmentation_id, 100);
  EXPECT_EQ(sc->probe.interval_ms, 5);
  EXPECT_EQ(sc->probe.observe_ms, 3000);
  EXPECT_EQ(sc->migration.pause_ms, 30);
  EXPECT_EQ(sc->agent.polling_interval_ms, 2000);
  EXPECT_DOUBLE_EQ(sc->expect.max_downtime_ms, 50);
  EXPECT_EQ(sc->expect.recover_within_ms, 1000);
  EXPECT_FALSE(sc->behaviour.pre_plug_vlan_uplink);
  EXPECT_FALSE(sc->guest.traffic_after_resume_ms.has_value());
  EXPECT_FALSE(sc->description.empty());
}

TEST(ScenarioShipped, ColdDestinationLoads) {
  auto sc = load_scenario(kDir + "lb-vlan-cold-destination.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->name, "lb-vlan-cold-destination");
  EXPECT_FALSE(sc->warm_destination);
  EXPECT_EQ(sc->probe.observe_ms, 8000);
  EXPECT_EQ(sc->guest.traffic_after_resume_ms, 4000);
  EXPECT_EQ(sc->peer.neigh.base_reachable_time_ms, 1000);
  EXPECT_EQ(sc->peer.neigh.delay_first_probe_time_s, 1);
  EXPECT_EQ(sc->peer.neigh.retrans_time_ms, 500);
  EXPECT_EQ(sc->peer.neigh.ucast_solicit, 2);
  EXPECT_EQ(sc->peer.neigh.mcast_solicit, 3);
  EXPECT_EQ(sc->display_name(), "lb-vlan-cold-destination");
}

TEST(ScenarioShipped, ColdDestinationWithTheFix) {
  auto sc = load_scenario(kDir + "lb-vlan-cold-destination.yaml",
                          {"behaviour.pre_plug_vlan_uplink=true"});
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_TRUE(sc->behaviour.pre_plug_vlan_uplink);
  EXPECT_EQ(sc->display_name(), "lb-vlan-cold-destination[pre_plug_vlan_uplink=true]");
  EXPECT_EQ(sc->behaviour_map().at("pre_plug_vlan_uplink"), "true");
}

TEST(ScenarioShipped, RealTierScenariosLoad) {
  for (const char* name : {"real-lb-vlan-cold-destination", "real-lb-vlan-warm-destination"}) {
    auto sc = load_scenario(kDir + name + ".yaml");
    ASSERT_TRUE(sc.ok()) << sc.status().to_string();
    EXPECT_EQ(sc->name, name);
    EXPECT_EQ(sc->tier, Tier::kLibvirt);
    EXPECT_LE(sc->guest.memory_mb, 128);  // TCG guests on a 2-core machine
    // Copies of the emulated ones but for the tier and its timings.
    auto emulated = load_scenario(kDir + std::string(name).substr(5) + ".yaml");
    ASSERT_TRUE(emulated.ok()) << emulated.status().to_string();
    EXPECT_EQ(sc->warm_destination, emulated->warm_destination);
    EXPECT_EQ(sc->network.segmentation_id, emulated->network.segmentation_id);
    EXPECT_EQ(sc->guest.traffic_after_resume_ms, emulated->guest.traffic_after_resume_ms);
  }
}

TEST(ScenarioTier, LibvirtTierChecksItsGuestAndFaults) {
  auto sc = parse_scenario(with("tier: libvirt\n"), "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->tier, Tier::kLibvirt);
  EXPECT_EQ(error_of(with("tier: libvirt\nguest:\n  memory_mb: 32\n")),
            "t.yaml:4: guest.memory_mb: on the libvirt tier this is the QEMU guest's RAM: must be between 64 and "
            "4096, got 32");
  // The emulated tier keeps its own bounds (the flavor's RAM only).
  EXPECT_TRUE(parse_scenario(with("guest:\n  memory_mb: 32\n"), "t.yaml").ok());
  EXPECT_EQ(error_of(with("tier: libvirt\nfaults:\n  - guest.announce=drop\n")),
            "t.yaml:4: faults[0]: fault point 'guest.announce' acts on the emulated guest; the libvirt tier's QEMU "
            "switches over and announces by itself");
  EXPECT_TRUE(parse_scenario(with("tier: libvirt\nfaults:\n  - hypervisor.migrate=fail\n"), "t.yaml").ok());
}

TEST(ScenarioLoad, UnreadableFile) {
  auto sc = load_scenario("/nonexistent/x.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sc.status().message(), "cannot read /nonexistent/x.yaml: No such file or directory");
  auto dir = load_scenario("/");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().message(), "cannot read /: Is a directory");
}

TEST(ScenarioConductor, ForceHostChecksAndRpcTimeoutAreRead) {
  auto sc = parse_scenario(with("hosts:\n  - {name: src}\n  - {name: dst, service_enabled: false, memory_mb: 512, "
                                "hypervisor_version: 6000000}\nmigration: {force: true}\n"
                                "nova: {rpc_response_timeout_s: 5}\n"),
                           "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_TRUE(sc->migration.force);
  EXPECT_TRUE(sc->hosts[0].service_enabled);
  EXPECT_FALSE(sc->hosts[1].service_enabled);
  EXPECT_EQ(sc->hosts[1].memory_mb, 512);
  EXPECT_EQ(sc->hosts[1].hypervisor_version, 6000000);
  EXPECT_EQ(sc->nova.rpc_response_timeout_s, 5);
  EXPECT_EQ(error_of(with("nova: {rpc_response_timeout_s: 0}\n")),
            "t.yaml:2: nova.rpc_response_timeout_s: must be between 1 and 3600, got 0");
}

TEST(ScenarioFaults, PointTheLabNeverReachesIsRefusedWithItsLine) {
  EXPECT_EQ(error_of(with("faults:\n  - guest.announce=drop\n  - ovs.vswitchd=crash\n")),
            "t.yaml:4: faults[1]: fault point 'ovs.vswitchd' needs a host with backend openvswitch; this scenario "
            "has none");
  // The agents' own points need a host running that agent.
  EXPECT_EQ(error_of(with("faults:\n  - agent.ovs.port_up=drop\n")),
            "t.yaml:3: faults[0]: fault point 'agent.ovs.port_up' needs a host with backend openvswitch; this "
            "scenario has none");
  // l2population's casts only exist on a tunnel network.
  EXPECT_EQ(error_of(with("faults:\n  - l2pop.fdb_add=drop\n")),
            "t.yaml:3: faults[0]: fault point 'l2pop.fdb_add' needs a vxlan network; this scenario's is vlan");
  EXPECT_EQ(error_of(with("faults:\n  - guest.announce=fail\n")),
            "t.yaml:3: faults[0]: fault 'guest.announce=fail': 'guest.announce' does not implement fail (it "
            "implements: delay, drop, duplicate)");
}

TEST(ScenarioDefaults, OnlyNameGiven) {
  auto sc = parse_scenario("name: minimal\n", "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->source_file, "t.yaml");
  EXPECT_EQ(sc->tier, Tier::kEmulated);
  EXPECT_FALSE(sc->warm_destination);
  ASSERT_EQ(sc->hosts.size(), 2u);
  EXPECT_EQ(sc->hosts[0].name, "src");
  EXPECT_EQ(sc->hosts[0].backend, core::Backend::kLinuxBridge);
  EXPECT_EQ(sc->hosts[1].name, "dst");
  EXPECT_EQ(sc->hosts[1].physical_interface, "eth1");
  EXPECT_EQ(sc->fabric.mac_ageing_s, 300);
  EXPECT_EQ(sc->network.id, "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11");
  EXPECT_EQ(sc->network.type, "vlan");
  EXPECT_EQ(sc->network.physnet, "physnet1");
  EXPECT_EQ(sc->network.segmentation_id, 100);
  EXPECT_EQ(sc->network.cidr, "198.18.0.0/24");
  EXPECT_EQ(sc->guest.name, "vm1");
  EXPECT_EQ(sc->guest.port_id, "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30");
  EXPECT_EQ(sc->guest.instance_uuid, "7c1e2a5b-3d4f-4a6b-8c9d-0e1f2a3b4c5d");
  EXPECT_EQ(sc->guest.mac, "fa:16:3e:3a:7b:01");
  EXPECT_EQ(sc->guest.ip, "198.18.0.10");
  EXPECT_FALSE(sc->guest.traffic_after_resume_ms.has_value());
  EXPECT_EQ(sc->peer.ip, "198.18.0.1");
  EXPECT_EQ(sc->peer.neigh.base_reachable_time_ms, 30000);
  EXPECT_EQ(sc->migration.source, "src");
  EXPECT_EQ(sc->migration.destination, "dst");
  EXPECT_EQ(sc->migration.precopy_ms, 500);
  EXPECT_EQ(sc->probe.interval_ms, 5);
  EXPECT_EQ(sc->probe.observe_ms, 5000);
  EXPECT_EQ(sc->agent.polling_interval_ms, 2000);
  EXPECT_FALSE(sc->behaviour.pre_plug_vlan_uplink);
  EXPECT_DOUBLE_EQ(sc->expect.max_downtime_ms, 1000);
  EXPECT_EQ(sc->expect.recover_within_ms, 5000);
  EXPECT_TRUE(sc->overrides.empty());
  EXPECT_EQ(sc->behaviour_map(),
            (std::map<std::string, std::string>{{"pre_plug_vlan_uplink", "false"},
                                                {"vif_plugged_from_agent_only", "false"},
                                                {"lb_agent_honours_migrating_to", "false"},
                                                {"ovs_agent_wires_migrating_to", "false"},
                                                {"l2pop_on_binding_activate", "false"},
                                                {"wait_only_for_plug_time_events", "false"},
                                                {"dest_xml_bridge", "source"},
                                                {"announce_self_after_migration", "false"}}));
}

TEST(ScenarioDefaults, EmptySectionsTakeDefaults) {
  auto sc = parse_scenario("name: t\nprobe:\nbehaviour: {}\n", "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->probe.interval_ms, 5);
}

TEST(ScenarioDefaults, EveryKeyAtItsPath) {
  auto sc = parse_scenario(R"(name: all.keys_1
description: every key
tier: emulated
warm_destination: true
hosts:
  - name: a1
    backend: linuxbridge
    physical_interface: ens3
  - name: b2
    physical_interface: bond0
  - name: c3
fabric: {mac_ageing_s: 15}
network:
  id: 11111111-2222-3333-4444-555555555555
  type: flat
  physnet: provider
  segmentation_id: 0
  cidr: 10.1.0.0/16
guest:
  name: g
  instance_uuid: 21111111-2222-3333-4444-555555555555
  port_id: 31111111-2222-3333-4444-555555555555
  mac: FA:16:3E:00:00:02
  ip: 10.1.2.3
  traffic_after_resume_ms: 0
peer:
  ip: 10.1.0.1
  neigh: {base_reachable_time_ms: 1, delay_first_probe_time_s: 0, retrans_time_ms: 0,
          ucast_solicit: 0, mcast_solicit: 0}
migration: {source: b2, destination: a1, precopy_ms: 0, pause_ms: 60000}
probe: {interval_ms: 1000, reply_timeout_ms: 60000, settle_ms: 0, observe_ms: 100}
agent: {polling_interval_ms: 100}
behaviour: {pre_plug_vlan_uplink: true}
expect: {max_downtime_ms: 12.5, recover_within_ms: 0}
)",
                           "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->name, "all.keys_1");
  EXPECT_EQ(sc->description, "every key");
  EXPECT_TRUE(sc->warm_destination);
  ASSERT_EQ(sc->hosts.size(), 3u);
  EXPECT_EQ(sc->hosts[1].physical_interface, "bond0");
  EXPECT_EQ(sc->hosts[2].physical_interface, "eth1");
  EXPECT_EQ(sc->fabric.mac_ageing_s, 15);
  EXPECT_EQ(sc->network.id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(sc->network.type, "flat");
  EXPECT_EQ(sc->network.physnet, "provider");
  EXPECT_EQ(sc->network.segmentation_id, 0);  // not checked for flat
  EXPECT_EQ(sc->guest.name, "g");
  EXPECT_EQ(sc->guest.mac, "FA:16:3E:00:00:02");
  EXPECT_EQ(sc->guest.traffic_after_resume_ms, 0);
  EXPECT_EQ(sc->peer.neigh.base_reachable_time_ms, 1);
  EXPECT_EQ(sc->migration.source, "b2");
  EXPECT_EQ(sc->migration.pause_ms, 60000);
  EXPECT_EQ(sc->probe.interval_ms, 1000);
  EXPECT_EQ(sc->agent.polling_interval_ms, 100);
  EXPECT_TRUE(sc->behaviour.pre_plug_vlan_uplink);
  EXPECT_DOUBLE_EQ(sc->expect.max_downtime_ms, 12.5);
  EXPECT_EQ(sc->expect.recover_within_ms, 0);
  ASSERT_NE(sc->host("c3"), nullptr);
}

TEST(ScenarioErrors, SyntaxError) {
  EXPECT_THAT(error_of("name: t\nprobe: [1, 2\n"),
              ::testing::StartsWith("t.yaml:3: syntax error: "));
  EXPECT_THAT(error_of("name: t\n  bad: indent\n"),
              ::testing::StartsWith("t.yaml:2: syntax error: "));
}

// yaml-cpp 0.7's LoadAll never returns on a token no node can start with
// (yaml-cpp issue #1040): each pass adds an empty document and leaves the
// token for the next, until memory runs out. Found by fuzz/fuzz_scenario.
TEST(ScenarioErrors, AStrayTokenAtTheTopIsASyntaxError) {
  EXPECT_EQ(error_of(","), "t.yaml:1: syntax error: unexpected ','");
  EXPECT_EQ(error_of("# Live migration\n, so its brq bridge\n"), "t.yaml:2: syntax error: unexpected ','");
  EXPECT_EQ(error_of("name: a\n---\n,\n"), "t.yaml:3: (top level): only one YAML document is allowed");
}

TEST(ScenarioErrors, TopLevelNotAMap) {
  EXPECT_EQ(error_of("- a\n- b\n"),
            "t.yaml:1: (top level): expected a map of scenario keys, got a list");
  EXPECT_EQ(error_of(""),
            "t.yaml:1: (top level): expected a map of scenario keys, got an empty value");
  EXPECT_EQ(error_of("name: a\n---\nname: b\n"),
            "t.yaml:3: (top level): only one YAML document is allowed");
}

TEST(ScenarioErrors, MissingName) {
  EXPECT_EQ(error_of("# comment\ntier: emulated\n"), "t.yaml:2: name: required key is missing");
  EXPECT_EQ(error_of("name: has space\n"),
            "t.yaml:1: name: must match [A-Za-z0-9._-]+, got 'has space'");
}

TEST(ScenarioErrors, UnknownKeyListsValidKeys) {
  EXPECT_EQ(error_of(with("probe:\n  interval_ms: 5\n  intervl_ms: 5\n")),
            "t.yaml:4: probe.intervl_ms: unknown key (valid keys: interval_ms, reply_timeout_ms, "
            "settle_ms, observe_ms)");
  EXPECT_EQ(error_of(with("bogus: 1\n")),
            "t.yaml:2: bogus: unknown key (valid keys: name, description, tier, warm_destination, "
            "hosts, fabric, network, guest, peer, underlay, migration, probe, agent, nova, behaviour, faults, "
            "fault_seed, expect)");
  EXPECT_EQ(error_of(with("peer:\n  neigh:\n    ucast: 1\n")),
            "t.yaml:4: peer.neigh.ucast: unknown key (valid keys: base_reachable_time_ms, "
            "delay_first_probe_time_s, retrans_time_ms, ucast_solicit, mcast_solicit)");
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a}\n  - {name: b, nic: eth0}\n")),
            "t.yaml:4: hosts[1].nic: unknown key (valid keys: name, backend, firewall_driver, physical_interface, "
            "service_enabled, memory_mb, hypervisor_version, agent, nova)");
}

TEST(ScenarioErrors, DuplicateKey) {
  EXPECT_EQ(error_of(with("probe:\n  settle_ms: 1\n  settle_ms: 2\n")),
            "t.yaml:4: probe.settle_ms: duplicate key (first given on line 3)");
}

TEST(ScenarioErrors, WrongTypes) {
  EXPECT_EQ(error_of(with("probe:\n  interval_ms: abc\n")),
            "t.yaml:3: probe.interval_ms: expected an integer, got 'abc'");
  EXPECT_EQ(error_of(with("probe:\n  interval_ms: 1.5\n")),
            "t.yaml:3: probe.interval_ms: expected an integer, got '1.5'");
  EXPECT_EQ(error_of(with("probe:\n  interval_ms:\n")),
            "t.yaml:3: probe.interval_ms: expected an integer, got an empty value");
  EXPECT_EQ(error_of(with("probe:\n  interval_ms: [5]\n")),
            "t.yaml:3: probe.interval_ms: expected an integer, got a list");
  EXPECT_EQ(error_of(with("warm_destination: yes\n")),
            "t.yaml:2: warm_destination: expected true or false, got 'yes'");
  EXPECT_EQ(error_of(with("behaviour:\n  pre_plug_vlan_uplink: 1\n")),
            "t.yaml:3: behaviour.pre_plug_vlan_uplink: expected true or false, got '1'");
  EXPECT_EQ(error_of(with("expect: {max_downtime_ms: fast}\n")),
            "t.yaml:2: expect.max_downtime_ms: expected a number, got 'fast'");
  EXPECT_EQ(error_of(with("description: {a: 1}\n")),
            "t.yaml:2: description: expected a string, got a map");
  EXPECT_EQ(error_of(with("probe: 5\n")), "t.yaml:2: probe: expected a map, got '5'");
  EXPECT_EQ(error_of(with("hosts: src\n")),
            "t.yaml:2: hosts: expected a list of hosts, got 'src'");
  EXPECT_EQ(error_of(with("hosts:\n  - src\n  - dst\n")),
            "t.yaml:3: hosts[0]: expected a map with name, backend, physical_interface, got 'src'");
  EXPECT_EQ(error_of(with("probe: {observe_ms: 99999999999}\n")),
            "t.yaml:2: probe.observe_ms: integer out of range, got '99999999999'");
}

TEST(ScenarioErrors, Ranges) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"probe:\n  interval_ms: 0\n",
       "t.yaml:3: probe.interval_ms: must be between 1 and 1000, got 0"},
      {"probe:\n  interval_ms: 1001\n",
       "t.yaml:3: probe.interval_ms: must be between 1 and 1000, got 1001"},
      {"probe:\n  reply_timeout_ms: 0\n",
       "t.yaml:3: probe.reply_timeout_ms: must be between 1 and 60000, got 0"},
      {"probe:\n  settle_ms: -1\n",
       "t.yaml:3: probe.settle_ms: must be between 0 and 60000, got -1"},
      {"probe:\n  observe_ms: 99\n",
       "t.yaml:3: probe.observe_ms: must be between 100 and 600000, got 99"},
      {"migration:\n  precopy_ms: 600001\n",
       "t.yaml:3: migration.precopy_ms: must be between 0 and 600000, got 600001"},
      {"migration:\n  pause_ms: 60001\n",
       "t.yaml:3: migration.pause_ms: must be between 0 and 60000, got 60001"},
      {"agent:\n  polling_interval_ms: 99\n",
       "t.yaml:3: agent.polling_interval_ms: must be between 100 and 600000, got 99"},
      {"fabric:\n  mac_ageing_s: 14\n",
       "t.yaml:3: fabric.mac_ageing_s: must be between 15 and 3600, got 14"},
      {"fabric:\n  mac_ageing_s: 3601\n",
       "t.yaml:3: fabric.mac_ageing_s: must be between 15 and 3600, got 3601"},
      {"network:\n  segmentation_id: 4095\n",
       "t.yaml:3: network.segmentation_id: must be between 1 and 4094 for a vlan network, got "
       "4095"},
      {"network:\n  segmentation_id: 0\n",
       "t.yaml:3: network.segmentation_id: must be between 1 and 4094 for a vlan network, got 0"},
      {"peer:\n  neigh:\n    base_reachable_time_ms: 0\n",
       "t.yaml:4: peer.neigh.base_reachable_time_ms: must be >= 1, got 0"},
      {"peer:\n  neigh:\n    delay_first_probe_time_s: -1\n",
       "t.yaml:4: peer.neigh.delay_first_probe_time_s: must be >= 0, got -1"},
      {"peer:\n  neigh:\n    retrans_time_ms: -1\n",
       "t.yaml:4: peer.neigh.retrans_time_ms: must be >= 0, got -1"},
      {"peer:\n  neigh:\n    ucast_solicit: -1\n",
       "t.yaml:4: peer.neigh.ucast_solicit: must be >= 0, got -1"},
      {"peer:\n  neigh:\n    mcast_solicit: -1\n",
       "t.yaml:4: peer.neigh.mcast_solicit: must be >= 0, got -1"},
      {"guest:\n  traffic_after_resume_ms: -5\n",
       "t.yaml:3: guest.traffic_after_resume_ms: must be >= 0, got -5"},
      {"expect:\n  max_downtime_ms: -0.5\n",
       "t.yaml:3: expect.max_downtime_ms: must be >= 0, got -0.5"},
      {"expect:\n  recover_within_ms: -1\n",
       "t.yaml:3: expect.recover_within_ms: must be >= 0, got -1"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(with(c.yaml)), c.error) << c.yaml;
}

TEST(ScenarioErrors, Enums) {
  EXPECT_EQ(error_of(with("tier: real\n")), "t.yaml:2: tier: must be one of: emulated, libvirt, got 'real'");
  EXPECT_EQ(error_of(with("network:\n  type: stt\n")),
            "t.yaml:3: network.type: must be one of: vlan, flat, vxlan, geneve, got 'stt'");
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a}\n  - {name: b, backend: ovs}\n")),
            "t.yaml:4: hosts[1].backend: must be one of: linuxbridge, openvswitch, ovn, got 'ovs'");
  EXPECT_EQ(error_of(with("migration:\n  kind: evacuate\n")),
            "t.yaml:3: migration.kind: expected live, cold or resize, got 'evacuate'");
}

// A vxlan network: its VNI, its underlay, and a peer on a third host.
const char* kVxlan =
    "hosts:\n  - {name: src}\n  - {name: dst}\n  - {name: by}\n"
    "network:\n  type: vxlan\n  segmentation_id: 1001\n"
    "peer:\n  ip: 198.18.0.1\n  host: by\n";

TEST(ScenarioOvn, ShippedScenariosLoadWithTheirBackendsAndSwitches) {
  auto vlan = load_scenario(kDir + "ovn-live.yaml");
  ASSERT_TRUE(vlan.ok()) << vlan.status().message();
  EXPECT_EQ(vlan->hosts[1].backend, core::Backend::kOvn);
  EXPECT_TRUE(vlan->behaviour.ovn_multichassis_binding);
  EXPECT_EQ(vlan->behaviour.ovn_activation_strategy, "rarp");
  EXPECT_EQ(vlan->behaviour_map().at("ovn_activation_strategy"), "rarp");
  auto geneve = load_scenario(kDir + "ovn-geneve-live.yaml");
  ASSERT_TRUE(geneve.ok()) << geneve.status().message();
  EXPECT_TRUE(geneve->network.is_tunnel());
  EXPECT_EQ(geneve->peer.host, "by");
  auto mixed = load_scenario(kDir + "ovs-to-ovn-live.yaml");
  ASSERT_TRUE(mixed.ok()) << mixed.status().message();
  EXPECT_EQ(mixed->hosts[0].backend, core::Backend::kOpenVswitch);
  // The OVN switches appear in results only where a host runs OVN.
  auto lb = load_scenario(kDir + "lb-vxlan-live.yaml");
  ASSERT_TRUE(lb.ok());
  EXPECT_EQ(lb->behaviour_map().count("ovn_activation_strategy"), 0u);
}

TEST(ScenarioOvn, GeneveNeedsOvnHostsAndStrategyIsRarpOrNone) {
  const std::string geneve =
      "hosts:\n  - {name: src, backend: ovn}\n  - {name: dst, backend: ovn}\n  - {name: by, backend: ovn}\n"
      "network:\n  type: geneve\n  segmentation_id: 1001\n"
      "peer:\n  ip: 198.18.0.1\n  host: by\n";
  EXPECT_EQ(error_of(with(geneve)), "OK");
  std::string mixed = geneve;
  mixed.replace(mixed.find("{name: by, backend: ovn}"), 24, "{name: by, backend: openvswitch}");
  EXPECT_EQ(error_of(with(mixed)),
            "t.yaml:7: network.type: a geneve network needs every host to run ovn; host 'by' runs openvswitch");
  auto none = parse_scenario(with(geneve + "behaviour:\n  ovn_activation_strategy: none\n"), "t.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->behaviour.ovn_activation_strategy, "");
  EXPECT_EQ(none->behaviour_map().at("ovn_activation_strategy"), "none");
  EXPECT_EQ(error_of(with(geneve), {"behaviour.ovn_activation_strategy=garp"}),
            "t.yaml: --set behaviour.ovn_activation_strategy: expected rarp or none, got 'garp'");
  // A chassis' Geneve endpoint sits on the underlay VLAN, which a VLAN
  // network must not share.
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a, backend: ovn}\n  - {name: b, backend: ovn}\n"
                          "network:\n  segmentation_id: 4000\n")),
            "t.yaml:6: network.segmentation_id: must differ from underlay.vlan (4000), where the OVN chassis have "
            "their Geneve endpoints");
}

TEST(ScenarioVxlan, ShippedLoadsWithItsThirdHostAndUnderlay) {
  auto sc = load_scenario(kDir + "lb-vxlan-live.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  EXPECT_EQ(sc->network.type, "vxlan");
  EXPECT_EQ(sc->network.segmentation_id, 1001);
  EXPECT_EQ(sc->peer.host, "by");
  EXPECT_EQ(sc->underlay.vlan, 4000);
  EXPECT_TRUE(sc->agent.l2_population);
  EXPECT_EQ(sc->agent.udp_dstport, 0);
  ASSERT_EQ(sc->hosts.size(), 3u);
}

TEST(ScenarioVxlan, VniUnderlayPeerAndBackendAreChecked) {
  EXPECT_EQ(error_of(with(kVxlan)), "OK");
  EXPECT_EQ(error_of(with(kVxlan), {"network.segmentation_id=16777216"}),
            "t.yaml: --set network.segmentation_id: is the VNI of a vxlan network: must be between 1 and 16777215, "
            "got 16777216");
  EXPECT_EQ(error_of(with("network:\n  type: vxlan\n  segmentation_id: 7\n")),
            "t.yaml:1: peer.host: a vxlan network's peer sits on a compute host: name one that is neither "
            "migration.source nor migration.destination");
  EXPECT_EQ(error_of(with(kVxlan), {"peer.host=dst"}),
            "t.yaml: --set peer.host: the peer must sit on a third host, not on 'dst', an end of the move");
  EXPECT_EQ(error_of(with(kVxlan), {"peer.host=nope"}),
            "t.yaml: --set peer.host: impossible topology: no host named 'nope' (hosts: src, dst, by)");
  EXPECT_EQ(error_of(with(std::string(kVxlan) + "underlay:\n  cidr: 198.19.0.0/16\n")),
            "t.yaml:13: underlay.cidr: expected an IPv4 /24 network like 198.19.0.0/24, got '198.19.0.0/16'");
  EXPECT_EQ(error_of(with(kVxlan), {"agent.vxlan_group=10.0.0.1"}),
            "t.yaml: --set agent.vxlan_group: expected an IPv4 multicast address (224.0.0.0/4), got '10.0.0.1'");
  std::string ovs = kVxlan;
  ovs.replace(ovs.find("{name: by}"), 10, "{name: by, backend: openvswitch}");
  EXPECT_TRUE(parse_scenario(with(ovs), "t.yaml").ok()) << error_of(with(ovs));
  EXPECT_EQ(error_of(with(ovs), {"agent.l2_population=false"}),
            "t.yaml: --set agent.l2_population: vxlan on openvswitch hosts is modelled with l2_population only; "
            "host 'by' runs openvswitch");
}

TEST(ScenarioEnums, BackendAndKindParseIntoEnums) {
  auto sc = parse_scenario(with("hosts:\n  - {name: src}\n  - {name: dst, backend: openvswitch}\n"
                                "migration:\n  kind: resize\n"),
                           "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->hosts[0].backend, core::Backend::kLinuxBridge);
  EXPECT_EQ(sc->hosts[1].backend, core::Backend::kOpenVswitch);
  EXPECT_EQ(sc->migration.kind, core::MigrationKind::kResize);
  auto cold = parse_scenario("name: t\n", "t.yaml", {"migration.kind=cold"});
  ASSERT_TRUE(cold.ok()) << cold.status().to_string();
  EXPECT_EQ(cold->migration.kind, core::MigrationKind::kCold);
}

// The runner aims the switchover at the destination agent's poll phase
// (resume_after_dest_poll_ms) through core's L2Agent, which an OVS
// destination has too (core/l2_backend_test.cpp): the loader accepts it.
TEST(ScenarioEnums, OvsDestinationWithResumeAfterDestPoll) {
  auto sc = parse_scenario(with("hosts:\n  - {name: src}\n  - {name: dst, backend: openvswitch}\n"
                                "migration:\n  resume_after_dest_poll_ms: 250\n"),
                           "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->host("dst")->backend, core::Backend::kOpenVswitch);
  EXPECT_EQ(sc->migration.resume_after_dest_poll_ms, 250);
  EXPECT_EQ(sc->migration.kind, core::MigrationKind::kLive);
}

TEST(ScenarioErrors, Hosts) {
  EXPECT_EQ(error_of(with("hosts:\n  - name: a\n  - name: Bad\n")),
            "t.yaml:4: hosts[1].name: must match [a-z][a-z0-9]{0,7} (it prefixes interface names), "
            "got 'Bad'");
  EXPECT_EQ(error_of(with("hosts:\n  - name: a\n  - name: abcdefghi\n")),
            "t.yaml:4: hosts[1].name: must match [a-z][a-z0-9]{0,7} (it prefixes interface names), "
            "got 'abcdefghi'");
  EXPECT_EQ(error_of(with("hosts:\n  - name: src\n  - name: src\n")),
            "t.yaml:4: hosts[1].name: duplicate host name 'src'");
  EXPECT_EQ(error_of(with("hosts:\n  - name: src\n")),
            "t.yaml:3: hosts: at least 2 hosts are needed, got 1");
  EXPECT_EQ(error_of(with("hosts: []\n")), "t.yaml:2: hosts: at least 2 hosts are needed, got 0");
  EXPECT_EQ(error_of(with("hosts:\n  - name: src\n  - backend: linuxbridge\n")),
            "t.yaml:4: hosts[1].name: required key is missing");
}

TEST(ScenarioErrors, ImpossibleTopology) {
  EXPECT_EQ(error_of(with("migration:\n  source: src\n  destination: src\n")),
            "t.yaml:4: migration.destination: impossible topology: migration.source and "
            "migration.destination are both 'src'");
  EXPECT_EQ(error_of(with("migration:\n  source: nowhere\n")),
            "t.yaml:3: migration.source: impossible topology: no host named 'nowhere' "
            "(hosts: src, dst)");
  // A defaulted key is reported at its parent's line and says so.
  EXPECT_EQ(error_of(with("hosts:\n  - name: a\n  - name: b\n")),
            "t.yaml:1: migration.source: impossible topology: no host named 'src' (the default) "
            "(hosts: a, b)");
  EXPECT_EQ(error_of(with("hosts:\n  - name: a\n  - name: b\nmigration:\n  source: a\n")),
            "t.yaml:5: migration.destination: impossible topology: no host named 'dst' (the "
            "default) (hosts: a, b)");
}

TEST(ScenarioErrors, PhysicalInterface) {
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a, physical_interface: eth/1}\n  - {name: b}\n")),
            "t.yaml:3: hosts[0].physical_interface: 'eth/1' is not a valid interface name (no "
            "'/', ':' or spaces)");
  EXPECT_EQ(error_of(with(
                "hosts:\n  - {name: a, physical_interface: abcdefghijklmnop}\n  - {name: b}\n")),
            "t.yaml:3: hosts[0].physical_interface: 'abcdefghijklmnop' is longer than 15 "
            "characters");
  // 11 characters + ".100" fits; 12 does not.
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a, physical_interface: abcdefghijk}\n  - {name: b}\n"
                          "migration: {source: a, destination: b}\n")),
            "OK");
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a}\n  - {name: b, physical_interface: abcdefghijkl}\n"
                          "migration: {source: a, destination: b}\n")),
            "t.yaml:4: hosts[1].physical_interface: 'abcdefghijkl' leaves no room for the VLAN "
            "suffix: 'abcdefghijkl.100' is longer than 15 characters");
  // A flat network has no VLAN subinterface.
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a}\n  - {name: b, physical_interface: abcdefghijkl}\n"
                          "migration: {source: a, destination: b}\nnetwork: {type: flat}\n")),
            "OK");
}

TEST(ScenarioErrors, Addresses) {
  EXPECT_EQ(error_of(with("guest:\n  mac: 01:16:3e:00:00:01\n")),
            "t.yaml:3: guest.mac: must be a unicast address, got '01:16:3e:00:00:01'");
  EXPECT_EQ(error_of(with("guest:\n  mac: fa-16-3e-00-00-01\n")),
            "t.yaml:3: guest.mac: expected a MAC address like fa:16:3e:3a:7b:01, got "
            "'fa-16-3e-00-00-01'");
  EXPECT_EQ(error_of(with("guest:\n  ip: 198.18.0.300\n")),
            "t.yaml:3: guest.ip: expected an IPv4 address, got '198.18.0.300'");
  EXPECT_EQ(error_of(with("guest:\n  ip: 198.18.1.10\n")),
            "t.yaml:3: guest.ip: '198.18.1.10' is not inside network.cidr 198.18.0.0/24");
  EXPECT_EQ(error_of(with("peer:\n  ip: 198.18.0.255\n")),
            "t.yaml:3: peer.ip: '198.18.0.255' is the network or broadcast address of "
            "198.18.0.0/24");
  EXPECT_EQ(error_of(with("guest:\n  ip: 198.18.0.0\n")),
            "t.yaml:3: guest.ip: '198.18.0.0' is the network or broadcast address of "
            "198.18.0.0/24");
  EXPECT_EQ(error_of(with("peer:\n  ip: 198.18.0.10\n")),
            "t.yaml:3: peer.ip: must differ from guest.ip, both are '198.18.0.10'");
  EXPECT_EQ(error_of(with("network:\n  cidr: 10.0.0.0/24\n")),
            "t.yaml:1: guest.ip: '198.18.0.10' (the default) is not inside network.cidr "
            "10.0.0.0/24");
  EXPECT_EQ(error_of(with("network:\n  cidr: 10.0.0.0/31\n")),
            "t.yaml:3: network.cidr: prefix length must be between 8 and 30, got 31");
  EXPECT_EQ(error_of(with("network:\n  cidr: 10.0.0.0/7\n")),
            "t.yaml:3: network.cidr: prefix length must be between 8 and 30, got 7");
  EXPECT_EQ(error_of(with("network:\n  cidr: 10.0.0.0\n")),
            "t.yaml:3: network.cidr: expected an IPv4 network like 198.18.0.0/24, got '10.0.0.0'");
  EXPECT_EQ(error_of(with("network:\n  cidr: 198.18.0.1/24\n")),
            "t.yaml:3: network.cidr: '198.18.0.1/24' has host bits set (the network is "
            "198.18.0.0/24)");
}

TEST(ScenarioErrors, Uuids) {
  EXPECT_EQ(error_of(with("network:\n  id: net1\n")),
            "t.yaml:3: network.id: expected a UUID, got 'net1'");
  EXPECT_EQ(error_of(with("guest:\n  port_id: cfcfd97b-b5c2-4e0b-9f4a\n")),
            "t.yaml:3: guest.port_id: expected a UUID, got 'cfcfd97b-b5c2-4e0b-9f4a'");
  EXPECT_EQ(error_of(with("guest:\n  instance_uuid: 7c1e2a5b3d4f4a6b8c9d0e1f2a3b4c5d\n")),
            "t.yaml:3: guest.instance_uuid: expected a UUID, got "
            "'7c1e2a5b3d4f4a6b8c9d0e1f2a3b4c5d'");
}

TEST(ScenarioOverrides, ChangeValuesAndRecordThem) {
  auto sc = parse_scenario(with("probe:\n  interval_ms: 5\n"), "t.yaml",
                           {"probe.interval_ms=2", "behaviour.pre_plug_vlan_uplink=true",
                            "description=\"with a: colon\""});
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->probe.interval_ms, 2);
  EXPECT_TRUE(sc->behaviour.pre_plug_vlan_uplink);
  EXPECT_EQ(sc->description, "with a: colon");
  EXPECT_EQ(sc->overrides,
            (std::vector<std::string>{"probe.interval_ms=2", "behaviour.pre_plug_vlan_uplink=true",
                                      "description=\"with a: colon\""}));
}

TEST(ScenarioOverrides, CreateKeysAndSections) {
  auto sc = parse_scenario("name: t\nprobe:\n", "t.yaml",
                           {"peer.neigh.ucast_solicit=7", "probe.settle_ms=0",
                            "guest.mac=fa:16:3e:00:00:09", "guest.traffic_after_resume_ms=250"});
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->peer.neigh.ucast_solicit, 7);
  EXPECT_EQ(sc->probe.settle_ms, 0);
  EXPECT_EQ(sc->guest.mac, "fa:16:3e:00:00:09");
  EXPECT_EQ(sc->guest.traffic_after_resume_ms, 250);
}

TEST(ScenarioOverrides, RecordedWithoutStraySpaces) {
  auto sc = parse_scenario(with(""), "t.yaml", {" behaviour.pre_plug_vlan_uplink = true "});
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->overrides, std::vector<std::string>{"behaviour.pre_plug_vlan_uplink=true"});
  EXPECT_EQ(sc->display_name(), "t[pre_plug_vlan_uplink=true]");
}

TEST(ScenarioOverrides, LastOneWinsAndNullUnsetsTheOptional) {
  auto sc = parse_scenario(with("guest: {traffic_after_resume_ms: 4000}\n"), "t.yaml",
                           {"probe.interval_ms=2", "probe.interval_ms=3",
                            "guest.traffic_after_resume_ms="});
  ASSERT_TRUE(sc.ok()) << sc.status().to_string();
  EXPECT_EQ(sc->probe.interval_ms, 3);
  EXPECT_FALSE(sc->guest.traffic_after_resume_ms.has_value());
}

TEST(ScenarioOverrides, Errors) {
  EXPECT_EQ(error_of(with(""), {"probe.intervl_ms=3"}),
            "t.yaml: --set probe.intervl_ms: unknown key");
  EXPECT_EQ(error_of(with(""), {"probe=3"}), "t.yaml: --set probe: unknown key");
  EXPECT_EQ(error_of(with(""), {"hosts=a"}), "t.yaml: --set hosts: unknown key");
  EXPECT_EQ(error_of(with(""), {"hosts[0].name=a"}), "t.yaml: --set hosts[0].name: unknown key");
  EXPECT_EQ(error_of(with(""), {"=3"}), "t.yaml: --set =3: expected key=value");
  EXPECT_EQ(error_of(with(""), {"behaviour.pre_plug_vlan_uplink"}),
            "t.yaml: --set behaviour.pre_plug_vlan_uplink: expected key=value");
  EXPECT_EQ(error_of(with(""), {"probe.interval_ms=[1, 2]"}),
            "t.yaml: --set probe.interval_ms: expected a single value, got a list");
  EXPECT_EQ(error_of(with(""), {"description=a: b"}),
            "t.yaml: --set description: expected a single value, got a map");
  EXPECT_EQ(error_of(with("probe: 5\n"), {"probe.interval_ms=3"}),
            "t.yaml:2: probe: expected a map, got '5'");
}

TEST(ScenarioOverrides, ValidationErrorsNameTheOverride) {
  EXPECT_EQ(error_of(with(""), {"probe.interval_ms=0"}),
            "t.yaml: --set probe.interval_ms: must be between 1 and 1000, got 0");
  EXPECT_EQ(error_of(with(""), {"behaviour.pre_plug_vlan_uplink=yes"}),
            "t.yaml: --set behaviour.pre_plug_vlan_uplink: expected true or false, got 'yes'");
  EXPECT_EQ(error_of(with(""), {"probe.observe_ms=abc"}),
            "t.yaml: --set probe.observe_ms: expected an integer, got 'abc'");
  EXPECT_EQ(error_of(with(""), {"tier=real"}),
            "t.yaml: --set tier: must be one of: emulated, libvirt, got 'real'");
  EXPECT_EQ(error_of(with(""), {"migration.destination=src"}),
            "t.yaml: --set migration.destination: impossible topology: migration.source and "
            "migration.destination are both 'src'");
  EXPECT_EQ(error_of(with(""), {"migration.source=dst"}),
            "t.yaml: --set migration.source: impossible topology: migration.source and "
            "migration.destination are both 'dst'");
  // The file's guest.ip is fine; the overridden cidr made it wrong.
  EXPECT_EQ(error_of(with("guest:\n  ip: 198.18.0.10\n"), {"network.cidr=10.0.0.0/24"}),
            "t.yaml: --set network.cidr: guest.ip '198.18.0.10' is not inside network.cidr "
            "10.0.0.0/24");
  EXPECT_EQ(error_of(with(""), {"guest.ip=198.18.0.1"}),
            "t.yaml: --set guest.ip: peer.ip must differ from guest.ip, both are '198.18.0.1'");
  EXPECT_EQ(error_of(with("network: {type: flat, segmentation_id: 0}\n"), {"network.type=vlan"}),
            "t.yaml: --set network.type: network.segmentation_id must be between 1 and 4094 for "
            "a vlan network, got 0");
  EXPECT_EQ(error_of(with("hosts:\n  - {name: a, physical_interface: abcdefghijk}\n  - {name: b}\n"
                          "migration: {source: a, destination: b}\n"),
                     {"network.segmentation_id=1000"}),
            "t.yaml: --set network.segmentation_id: hosts[0].physical_interface 'abcdefghijk' "
            "leaves no room for the VLAN suffix: 'abcdefghijk.1000' is longer than 15 characters");
  // A file error is still reported at its line when overrides are present.
  EXPECT_EQ(error_of(with("probe:\n  settle_ms: -1\n"), {"probe.interval_ms=3"}),
            "t.yaml:3: probe.settle_ms: must be between 0 and 60000, got -1");
}

TEST(ScenarioDisplayName, ShortensBehaviourKeys) {
  Scenario sc;
  sc.name = "lb";
  EXPECT_EQ(sc.display_name(), "lb");
  sc.overrides = {"behaviour.pre_plug_vlan_uplink=true", "probe.interval_ms=2"};
  EXPECT_EQ(sc.display_name(), "lb[pre_plug_vlan_uplink=true,probe.interval_ms=2]");
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

std::string error_text(const std::string& yaml) {
  auto sc = parse_scenario(yaml, "r.yaml");
  return sc.ok() ? std::string("(no error)") : sc.status().message();
}

TEST(ScenarioNames, ReservedHostNamesAndBadGuestNamesAreRefused) {
  EXPECT_EQ(error_text("name: x\nhosts:\n  - {name: peer}\n  - {name: dst}\nmigration: {source: dst, destination: dst}\n"),
            "r.yaml:3: hosts[0].name: 'peer' is reserved (the lab's peer namespace has that name)");
  EXPECT_EQ(error_text("name: x\nguest:\n  name: warm\n"),
            "r.yaml:3: guest.name: must match [a-z][a-z0-9]{0,15} and not be 'warm', got 'warm'");
  EXPECT_EQ(error_text("name: x\nguest:\n  name: a/b\n"),
            "r.yaml:3: guest.name: must match [a-z][a-z0-9]{0,15} and not be 'warm', got 'a/b'");
}

TEST(ScenarioNames, WarmDestinationNeedsAnAddressForTheBystander) {
  // .254 + 1 is the broadcast address of a /24.
  EXPECT_NE(error_text("name: x\nwarm_destination: true\nguest:\n  ip: 198.18.0.254\n")
                .find("warm_destination needs a free address after guest.ip"),
            std::string::npos);
  auto sc = parse_scenario("name: x\nwarm_destination: true\nguest:\n  ip: 198.18.0.10\npeer:\n  ip: 198.18.0.11\n",
                           "r.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  EXPECT_EQ(sc->bystander_ip(), "198.18.0.12");  // skips the peer's address
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

TEST(ScenarioFaults, FaultsListIsParsedAndErrorsNameTheEntryLine) {
  auto sc = parse_scenario("name: x\nfault_seed: 42\nfaults:\n  - agent.lb.enslave_uplink=delay:3000\n"
                           "  - guest.announce=drop@nth:2\n",
                           "f.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  ASSERT_EQ(sc->faults.size(), 2u);
  EXPECT_EQ(sc->faults[0].point, "agent.lb.enslave_uplink");
  EXPECT_EQ(sc->faults[0].action.delay_min.count(), 3000);
  EXPECT_EQ(sc->faults[1].trigger.n, 2);
  EXPECT_EQ(sc->fault_seed, 42u);
  auto bad = parse_scenario("name: x\nfaults:\n  - guest.announce=drop\n  - agent.lb.scna=drop\n", "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("f.yaml:4: faults[1]: fault 'agent.lb.scna=drop': unknown point", 0), 0u)
      << bad.status().message();
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

TEST(ScenarioBehaviour, DestXmlBridgeIsSourceOrDestination) {
  auto sc = parse_scenario("name: x\nbehaviour:\n  dest_xml_bridge: destination\n", "b.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  EXPECT_EQ(sc->behaviour.dest_xml_bridge, core::DestXmlBridge::kDestination);
  auto bad = parse_scenario("name: x\nbehaviour:\n  dest_xml_bridge: brq\n", "b.yaml");
  EXPECT_EQ(bad.status().message(), "b.yaml:3: behaviour.dest_xml_bridge: expected source or destination, got 'brq'");
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

// Two hosts; the second sets its own polling interval and vif-plug wait.
const char* kOwnSettings =
    "name: t\n"
    "hosts:\n"
    "  - name: src\n"
    "  - name: dst\n"
    "    agent:\n"
    "      polling_interval_ms: 5000\n"
    "    nova:\n"
    "      live_migration_wait_for_vif_plug: false\n"
    "agent:\n"
    "  polling_interval_ms: 1000\n"
    "nova:\n"
    "  vif_plugging_timeout_s: 30\n";

TEST(ScenarioHostSettings, AHostsOwnKeysOverrideTheTopLevel) {
  auto sc = parse_scenario(kOwnSettings, "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  const HostSpec& src = sc->hosts[0];
  const HostSpec& dst = sc->hosts[1];
  EXPECT_EQ(src.agent, sc->agent);
  EXPECT_EQ(src.nova, sc->nova);
  EXPECT_EQ(src.agent.polling_interval_ms, 1000);
  EXPECT_TRUE(src.nova.live_migration_wait_for_vif_plug);
  EXPECT_EQ(dst.agent.polling_interval_ms, 5000);
  EXPECT_FALSE(dst.nova.live_migration_wait_for_vif_plug);
  // The keys the host does not set come from the top level.
  EXPECT_EQ(dst.nova.vif_plugging_timeout_s, 30);
  EXPECT_EQ(dst.agent.l2_population, sc->agent.l2_population);
}

TEST(ScenarioHostSettings, SetChangesTheTopLevelAndTheHostsThatFollowIt) {
  auto sc = parse_scenario(kOwnSettings, "t.yaml", {"agent.polling_interval_ms=3000"});
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  EXPECT_EQ(sc->agent.polling_interval_ms, 3000);
  EXPECT_EQ(sc->hosts[0].agent.polling_interval_ms, 3000);
  EXPECT_EQ(sc->hosts[1].agent.polling_interval_ms, 5000);
  // A host's keys are the file's.
  EXPECT_EQ(error_of(kOwnSettings, {"hosts[1].agent.polling_interval_ms=1"}),
            "t.yaml: --set hosts[1].agent.polling_interval_ms: unknown key");
}

TEST(ScenarioHostSettings, TheDefaultHostsTakeTheTopLevel) {
  auto sc = parse_scenario("name: t\nagent: {udp_dstport: 4789}\nnova: {vif_plugging_is_fatal: false}\n", "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  ASSERT_EQ(sc->hosts.size(), 2u);
  for (const auto& h : sc->hosts) {
    EXPECT_EQ(h.agent.udp_dstport, 4789) << h.name;
    EXPECT_FALSE(h.nova.vif_plugging_is_fatal) << h.name;
  }
}

TEST(ScenarioHostSettings, ErrorsNameTheHostsKeyAndLine) {
  const std::string hosts = "hosts:\n  - name: src\n  - name: dst\n";
  EXPECT_EQ(error_of(with(hosts + "    agent:\n      vxlan_group: 239.1.1.2\n")),
            "t.yaml:6: hosts[1].agent.vxlan_group: unknown key (valid keys: polling_interval_ms, l2_population, "
            "arp_responder, udp_dstport)");
  EXPECT_EQ(error_of(with(hosts + "    nova:\n      rpc_response_timeout_s: 5\n")),
            "t.yaml:6: hosts[1].nova.rpc_response_timeout_s: unknown key (valid keys: "
            "live_migration_wait_for_vif_plug, vif_plugging_timeout_s, vif_plugging_is_fatal, "
            "live_migration_downtime_ms, live_migration_downtime_steps, live_migration_downtime_delay_s, "
            "live_migration_completion_timeout_s, live_migration_timeout_action)");
  EXPECT_EQ(error_of(with(hosts + "    agent:\n      polling_interval_ms: 99\n")),
            "t.yaml:6: hosts[1].agent.polling_interval_ms: must be between 100 and 600000, got 99");
  EXPECT_EQ(error_of(with(hosts + "    nova:\n      live_migration_timeout_action: pause\n")),
            "t.yaml:6: hosts[1].nova.live_migration_timeout_action: expected abort or force_complete, got 'pause'");
  EXPECT_EQ(error_of(with(hosts + "    agent: 5000\n")), "t.yaml:5: hosts[1].agent: expected a map, got '5000'");
  // The top level's are checked by the same code.
  EXPECT_EQ(error_of(with("nova:\n  live_migration_timeout_action: pause\n")),
            "t.yaml:3: nova.live_migration_timeout_action: expected abort or force_complete, got 'pause'");
}

TEST(ScenarioHostSettings, L2PopulationIsBlamedOnTheKeyThatTurnedItOff) {
  std::string ovs = kVxlan;
  ovs.replace(ovs.find("{name: by}"), 10, "{name: by, backend: openvswitch, agent: {l2_population: false}}");
  EXPECT_EQ(error_of(with(ovs)),
            "t.yaml:5: hosts[2].agent.l2_population: vxlan on openvswitch hosts is modelled with l2_population only; "
            "host 'by' runs openvswitch");
  // A linuxbridge host may run without it (multicast mode).
  std::string lb = kVxlan;
  lb.replace(lb.find("{name: by}"), 10, "{name: by, agent: {l2_population: false}}");
  EXPECT_EQ(error_of(with(lb)), "OK");
}

}  // namespace
}  // namespace lmh::harness
