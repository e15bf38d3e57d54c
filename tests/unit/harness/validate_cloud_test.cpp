// validate-cloud without a lab: the configuration reader on the test
// clouds under tests/data/clouds, the release table, the matrix, the cell
// scenarios, and the fix search against a fake runner.
#include "harness/run/validate_cloud.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace lmh::harness {
namespace {

namespace fs = std::filesystem;
const std::string kClouds = std::string(LMH_SOURCE_DIR) + "/tests/data/clouds/";

ValidateOptions cloud(const std::string& name, const std::string& release, std::vector<std::string> computes) {
  ValidateOptions o;
  o.release = release;
  o.controller_dir = kClouds + name + "/controller";
  for (const auto& c : computes) o.compute_dirs.push_back(kClouds + name + "/" + c);
  return o;
}

const Cell* find_cell(const CloudPlan& plan, const std::string& name) {
  for (const auto& c : plan.cells)
    if (c.spec.name == name) return &c;
  return nullptr;
}

std::vector<std::string> cell_names(const CloudPlan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.cells) out.push_back(c.spec.name);
  return out;
}

// A scratch directory with files written by the test.
class ScratchDir {
 public:
  ScratchDir() : path_(fs::temp_directory_path() / ("lmh-vc-" + std::to_string(::getpid()) + "-" + std::to_string(++n_))) {
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  std::string write(const std::string& rel, const std::string& text) {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel) << text;
    return (path_ / rel).string();
  }
  std::string path(const std::string& rel = "") const { return (path_ / rel).string(); }

 private:
  static inline int n_ = 0;
  fs::path path_;
};

TEST(Releases, NamesAndCodenamesBothWork) {
  EXPECT_EQ(parse_release("antelope")->name, "2023.1");
  EXPECT_EQ(parse_release("2023.1")->nova_major, 27);
  EXPECT_EQ(parse_release("Queens")->neutron_major, 12);
  auto bad = parse_release("pike");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("queens"), std::string::npos) << bad.status().message();
}

TEST(Releases, BehaviourFollowsTheFirstReleaseOfEachChange) {
  DeploymentChoices none;
  auto queens = behaviour_of(*parse_release("queens"), none);
  EXPECT_EQ(queens.dest_xml_bridge, core::DestXmlBridge::kSource);
  EXPECT_FALSE(queens.vif_plugged_from_agent_only);
  EXPECT_FALSE(queens.ovn_multichassis_binding);
  auto yoga = behaviour_of(*parse_release("yoga"), none);
  EXPECT_FALSE(yoga.vif_plugged_from_agent_only);  // opt-in until zed
  EXPECT_FALSE(behaviour_of(*parse_release("victoria"), none).wait_only_for_plug_time_events);
  EXPECT_TRUE(yoga.wait_only_for_plug_time_events);  // nova 23.0.0 .. 31.x
  EXPECT_TRUE(behaviour_of(*parse_release("2025.1"), none).wait_only_for_plug_time_events);
  EXPECT_FALSE(behaviour_of(*parse_release("2025.2"), none).wait_only_for_plug_time_events);
  auto zed = behaviour_of(*parse_release("zed"), none);
  EXPECT_TRUE(zed.vif_plugged_from_agent_only);
  EXPECT_TRUE(zed.ovs_agent_wires_migrating_to);
  EXPECT_TRUE(zed.ovn_multichassis_binding);
  // No release ships lmh's proposed fixes, nor the destination's bridge in its XML.
  auto latest = behaviour_of(known_releases().back(), none);
  EXPECT_EQ(latest.dest_xml_bridge, core::DestXmlBridge::kSource);
  EXPECT_FALSE(latest.pre_plug_vlan_uplink);
  EXPECT_FALSE(latest.lb_agent_honours_migrating_to);
  EXPECT_FALSE(latest.l2pop_on_binding_activate);
}

TEST(Releases, DeploymentChoicesApplyOnlyWhereTheReleaseHasTheOption) {
  DeploymentChoices events;
  events.live_migration_events = true;
  std::vector<ReleaseNote> notes;
  EXPECT_FALSE(behaviour_of(*parse_release("victoria"), events, &notes).vif_plugged_from_agent_only);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].what.find("no such option"), std::string::npos);
  notes.clear();
  EXPECT_TRUE(behaviour_of(*parse_release("wallaby"), events, &notes).vif_plugged_from_agent_only);
  EXPECT_TRUE(notes.empty());

  DeploymentChoices announce;
  announce.announce_self = true;
  notes.clear();
  EXPECT_FALSE(behaviour_of(*parse_release("xena"), announce, &notes).announce_self_after_migration);
  EXPECT_EQ(notes.size(), 1u);
  auto yoga = behaviour_of(*parse_release("yoga"), announce);
  EXPECT_TRUE(yoga.announce_self_after_migration);
  EXPECT_EQ(yoga.announce_self_count, 1);  // count and interval are options from 2023.1
  announce.announce_self_count = 5;
  EXPECT_EQ(behaviour_of(*parse_release("2023.1"), announce).announce_self_count, 5);

  DeploymentChoices strategy;
  strategy.ovn_activation_strategy = "";
  EXPECT_EQ(behaviour_of(*parse_release("2024.2"), strategy).ovn_activation_strategy, "rarp");
  EXPECT_EQ(behaviour_of(*parse_release("2025.1"), strategy).ovn_activation_strategy, "");
}

TEST(Releases, WaitForVifPlugDefaultAndLinuxbridgeLifetime) {
  EXPECT_FALSE(default_wait_for_vif_plug(*parse_release("rocky")));
  EXPECT_TRUE(default_wait_for_vif_plug(*parse_release("stein")));
  EXPECT_EQ(linuxbridge_problem(*parse_release("yoga"), false), "");
  EXPECT_NE(linuxbridge_problem(*parse_release("zed"), false).find("experimental"), std::string::npos);
  EXPECT_EQ(linuxbridge_problem(*parse_release("2024.2"), true), "");
  EXPECT_NE(linuxbridge_problem(*parse_release("2025.1"), true).find("removed"), std::string::npos);
}

TEST(CloudConfig, LinuxbridgeHostFromItsOwnAgentFile) {
  auto dir = read_config_dir(kClouds + "seed001-lb-vlan-queens/compute-a");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  auto h = host_config(*dir);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->name, "compute-a");  // [DEFAULT] host
  EXPECT_EQ(h->backend, core::Backend::kLinuxBridge);
  EXPECT_EQ(h->mappings.at("provider"), "eth1");
  EXPECT_TRUE(h->tunnel_types.empty());  // enable_vxlan = false
  EXPECT_EQ(h->polling_interval_s, 2);
  EXPECT_FALSE(h->nova.live_migration_wait_for_vif_plug.has_value());  // queens: the release decides
  EXPECT_EQ(h->nova.libvirt.downtime_ms, 500);
}

TEST(CloudConfig, KollaAgentSectionsInMl2ConfIni) {
  auto lb = host_config(*read_config_dir(kClouds + "seed000-mixed-rocky/lb-1"));
  ASSERT_TRUE(lb.ok()) << lb.status().message();
  EXPECT_EQ(lb->name, "compute-lb1");
  EXPECT_EQ(lb->backend, core::Backend::kLinuxBridge);
  EXPECT_EQ(lb->tunnel_types, std::set<std::string>{"vxlan"});  // enable_vxlan defaults to true
  EXPECT_TRUE(lb->l2_population);
  EXPECT_EQ(lb->vxlan_udp_port, 0);  // the kernel's 8472
  auto ovs = host_config(*read_config_dir(kClouds + "seed000-mixed-rocky/ovs-1"));
  ASSERT_TRUE(ovs.ok()) << ovs.status().message();
  EXPECT_EQ(ovs->backend, core::Backend::kOpenVswitch);
  EXPECT_EQ(ovs->firewall_driver, "openvswitch");
  EXPECT_EQ(ovs->mappings.at("provider"), "br-ex");
  EXPECT_EQ(ovs->vxlan_udp_port, 4789);
  EXPECT_TRUE(ovs->arp_responder);
}

TEST(CloudConfig, HybridFirewallDriverAndUnhonouredOptionsAreNoted) {
  auto h = host_config(*read_config_dir(kClouds + "ovs-hybrid-2023.1/cmp1"));
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->firewall_driver, "iptables_hybrid");
  EXPECT_EQ(h->name, "cmp1");  // no [DEFAULT] host: the directory's name
  EXPECT_EQ(h->nova.live_migration_wait_for_vif_plug, true);
  EXPECT_EQ(h->nova.libvirt.timeout_action, "force_complete");
  ASSERT_EQ(h->notes.size(), 1u);
  EXPECT_EQ(h->notes[0].option, "[libvirt] live_migration_permit_post_copy");
  EXPECT_NE(h->notes[0].where.find("cmp1/nova.conf:"), std::string::npos) << h->notes[0].where;
}

TEST(CloudConfig, WrongTypeNamesFileLineAndOption) {
  auto h = host_config(*read_config_dir(kClouds + "malformed/cmp1"));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("malformed/cmp1/linuxbridge_agent.ini:6: [vxlan] l2_population:"),
            std::string::npos)
      << h.status().message();
}

TEST(CloudConfig, BothAgentsOnOneHostIsAnError) {
  ScratchDir d;
  d.write("h/linuxbridge_agent.ini", "[linux_bridge]\nphysical_interface_mappings = p:eth1\n");
  d.write("h/ml2_conf.ini", "[ml2]\nmechanism_drivers = openvswitch\n\n[ovs]\nbridge_mappings = p:br-ex\n");
  auto h = host_config(*read_config_dir(d.path("h")));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("ml2_conf.ini:4: openvswitch agent settings"), std::string::npos)
      << h.status().message();
}

TEST(CloudConfig, OvnChassisFromOvsExternalIds) {
  auto ids = parse_ovs_external_ids(
      "{hostname=cmp7, ovn-bridge-mappings=\"physnet1:br-ex,physnet2:br-vlan\", ovn-encap-ip=\"10.1.0.7\", "
      "ovn-encap-type=geneve, ovn-remote=\"tcp:10.0.0.5:6642\", rundir=\"/var/run/openvswitch\", "
      "system-id=\"a1b2\"}\n",
      "x");
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(ids->at("ovn-bridge-mappings"), "physnet1:br-ex,physnet2:br-vlan");
  EXPECT_EQ(ids->at("ovn-remote"), "tcp:10.0.0.5:6642");
  EXPECT_EQ(ids->size(), 7u);
  EXPECT_FALSE(parse_ovs_external_ids("hostname=x", "f").ok());
  EXPECT_FALSE(parse_ovs_external_ids("{a=\"b}", "f").ok());

  ScratchDir d;
  d.write("c/ovs_external_ids", "{ovn-bridge-mappings=\"physnet1:br-ex\", ovn-encap-ip=\"10.1.0.7\", "
                                "ovn-encap-type=geneve, ovn-remote=\"tcp:10.0.0.5:6642\"}\n");
  auto h = host_config(*read_config_dir(d.path("c")));
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->backend, core::Backend::kOvn);
  EXPECT_EQ(h->tunnel_types, std::set<std::string>{"geneve"});
  EXPECT_EQ(h->mappings.at("physnet1"), "br-ex");
}

TEST(ValidatePlan, Seed001CloudIsOneClassWithAColdAndAWarmCell) {
  auto plan = plan_cloud_validation(cloud("seed001-lb-vlan-queens", "queens", {"compute-a", "compute-b"}));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->classes.size(), 1u);
  EXPECT_EQ(plan->classes[0].members, (std::vector<std::string>{"compute-a", "compute-b"}));
  EXPECT_EQ(cell_names(*plan),
            (std::vector<std::string>{"lb-1_to_lb-1.vlan.live.cold", "lb-1_to_lb-1.vlan.live.warm"}));
  const Cell& cold = plan->cells[0];
  ASSERT_EQ(cold.status, CellStatus::kRun) << cold.reason;
  ASSERT_TRUE(cold.scenario);
  const Scenario& sc = *cold.scenario;
  EXPECT_EQ(sc.network.type, "vlan");
  EXPECT_EQ(sc.network.physnet, "provider");
  EXPECT_EQ(sc.network.segmentation_id, 100);  // the first of provider:100:199
  EXPECT_FALSE(sc.warm_destination);
  EXPECT_TRUE(plan->cells[1].scenario->warm_destination);
  EXPECT_EQ(sc.behaviour.dest_xml_bridge, core::DestXmlBridge::kSource);
  // Queens has no live_migration_wait_for_vif_plug: the source never waits.
  EXPECT_FALSE(sc.hosts[1].nova.live_migration_wait_for_vif_plug);
  EXPECT_EQ(sc.hosts[0].physical_interface, "eth1");
}

TEST(ValidatePlan, CellYamlIsWhatLmhRunReadsBack) {
  auto plan = plan_cloud_validation(cloud("seed000-mixed-rocky", "rocky", {"lb-1", "ovs-1"}));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  for (const auto& cell : plan->cells) {
    if (cell.status != CellStatus::kRun) continue;
    auto again = parse_scenario(cell.yaml, "again.yaml");
    ASSERT_TRUE(again.ok()) << cell.spec.name << ": " << again.status().message();
    EXPECT_EQ(again->name, cell.spec.name);
    EXPECT_EQ(again->behaviour_map(), cell.scenario->behaviour_map());
  }
}

TEST(ValidatePlan, MixedCloudPairsBothWaysOnEveryNetworkTypeBothCarry) {
  auto plan = plan_cloud_validation(cloud("seed000-mixed-rocky", "rocky", {"lb-1", "ovs-1"}));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->classes.size(), 2u);
  EXPECT_EQ(plan->classes[0].name, "lb-1");
  EXPECT_EQ(plan->classes[1].name, "ovs-1");
  // One host per class: no pair inside a class. OVS destinations on VLAN
  // and flat have no warm variant (br-int and br-ex are there either way).
  EXPECT_EQ(cell_names(*plan), (std::vector<std::string>{
                                   "lb-1_to_ovs-1.flat.live.cold", "lb-1_to_ovs-1.vlan.live.cold",
                                   "lb-1_to_ovs-1.vxlan.live.cold", "lb-1_to_ovs-1.vxlan.live.warm",
                                   "ovs-1_to_lb-1.flat.live.cold", "ovs-1_to_lb-1.flat.live.warm",
                                   "ovs-1_to_lb-1.vlan.live.cold", "ovs-1_to_lb-1.vlan.live.warm",
                                   "ovs-1_to_lb-1.vxlan.live.cold", "ovs-1_to_lb-1.vxlan.live.warm"}));
  const Cell* vx = find_cell(*plan, "lb-1_to_ovs-1.vxlan.live.cold");
  ASSERT_TRUE(vx && vx->scenario) << (vx ? vx->reason : "");
  EXPECT_EQ(vx->scenario->network.segmentation_id, 1);  // vni_ranges 1:1000
  ASSERT_EQ(vx->scenario->hosts.size(), 3u);            // the peer's bystander host
  EXPECT_EQ(vx->scenario->hosts[2].backend, core::Backend::kLinuxBridge);
  EXPECT_EQ(vx->scenario->hosts[1].agent.udp_dstport, 4789);
  EXPECT_EQ(vx->scenario->hosts[0].agent.udp_dstport, 0);
}

TEST(ValidatePlan, MismatchedVxlanPortsHaveAConfigFixCandidate) {
  auto plan = plan_cloud_validation(cloud("seed000-mixed-rocky", "rocky", {"lb-1", "ovs-1"}));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const Cell* vx = find_cell(*plan, "lb-1_to_ovs-1.vxlan.live.cold");
  ASSERT_TRUE(vx);
  const auto candidates = fix_candidates(*plan, vx->spec);
  std::vector<std::string> labels;
  const FixCandidate* port = nullptr;
  for (const auto& c : candidates) {
    labels.push_back(c.label);
    if (c.label == "linuxbridge_agent.ini [vxlan] udp_dstport = 4789 on lb-1") port = &c;
  }
  ASSERT_TRUE(port) << ::testing::PrintToString(labels);
  CellSpec fixed = vx->spec;
  port->apply(fixed);
  auto sc = parse_scenario(cell_yaml(*plan, fixed), "f.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  for (const auto& h : sc->hosts) EXPECT_EQ(h.agent.udp_dstport == 0 ? 8472 : h.agent.udp_dstport, 4789) << h.name;
  // The VLAN cell has no such candidate.
  for (const auto& c : fix_candidates(*plan, find_cell(*plan, "lb-1_to_ovs-1.vlan.live.cold")->spec))
    EXPECT_EQ(c.label.find("udp_dstport"), std::string::npos) << c.label;
}

TEST(ValidatePlan, KindsMultiplyTheCells) {
  auto o = cloud("seed001-lb-vlan-queens", "queens", {"compute-a", "compute-b"});
  o.kinds = {core::MigrationKind::kLive, core::MigrationKind::kCold};
  auto plan = plan_cloud_validation(o);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->cells.size(), 4u);
  const Cell* cold = find_cell(*plan, "lb-1_to_lb-1.vlan.cold.cold");
  ASSERT_TRUE(cold && cold->scenario) << (cold ? cold->reason : "");
  EXPECT_EQ(cold->scenario->migration.kind, core::MigrationKind::kCold);
}

TEST(ValidatePlan, UnmodelledTypeIsNotCoveredAndAMissingDriverBlocks) {
  ScratchDir d;
  d.write("ctl/ml2_conf.ini",
          "[ml2]\ntype_drivers = vlan,gre\nmechanism_drivers = openvswitch\n[ml2_type_vlan]\n"
          "network_vlan_ranges = p\n");
  for (const char* h : {"a", "b"})
    d.write(std::string(h) + "/linuxbridge_agent.ini", "[linux_bridge]\nphysical_interface_mappings = p:eth1\n");
  d.write("o1/openvswitch_agent.ini", "[ovs]\nbridge_mappings = p:br-ex\nlocal_ip = 10.0.0.1\n[agent]\ntunnel_types = gre\n");
  d.write("o2/openvswitch_agent.ini", "[ovs]\nbridge_mappings = p:br-ex\nlocal_ip = 10.0.0.2\n[agent]\ntunnel_types = gre\n");
  ValidateOptions o;
  o.release = "train";
  o.controller_dir = d.path("ctl");
  o.compute_dirs = {d.path("a"), d.path("b"), d.path("o1"), d.path("o2")};
  auto plan = plan_cloud_validation(o);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const Cell* gre = find_cell(*plan, "ovs-1_to_ovs-1.gre.live.cold");
  ASSERT_TRUE(gre);
  EXPECT_EQ(gre->status, CellStatus::kNotCovered);
  EXPECT_NE(gre->reason.find("gre"), std::string::npos);
  const Cell* lb = find_cell(*plan, "lb-1_to_ovs-1.vlan.live.cold");
  ASSERT_TRUE(lb);
  EXPECT_EQ(lb->status, CellStatus::kBlocked);
  EXPECT_NE(lb->reason.find("mechanism_drivers (openvswitch) has no linuxbridge"), std::string::npos) << lb->reason;
  const Cell* ovs = find_cell(*plan, "ovs-1_to_ovs-1.vlan.live.cold");
  ASSERT_TRUE(ovs);
  EXPECT_EQ(ovs->status, CellStatus::kRun) << ovs->reason;
}

TEST(ValidatePlan, TargetReleaseWithoutLinuxbridgeBlocksTheUpgrade) {
  auto o = cloud("seed001-lb-vlan-queens", "queens", {"compute-a", "compute-b"});
  o.target_release = "2025.1";
  auto plan = plan_cloud_validation(o);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_NE(plan->cells[0].target_blocked.find("removed in 2025.1"), std::string::npos) << plan->cells[0].target_blocked;
  o.target_release = "yoga";
  auto yoga = plan_cloud_validation(o);
  ASSERT_TRUE(yoga.ok());
  ASSERT_TRUE(yoga->cells[0].target_scenario);
  // No release takes the destination XML's bridge from the destination binding.
  EXPECT_EQ(yoga->cells[0].target_scenario->behaviour.dest_xml_bridge, core::DestXmlBridge::kSource);
  EXPECT_TRUE(yoga->cells[0].target_scenario->hosts[1].nova.live_migration_wait_for_vif_plug);
  o.target_release = "queens";
  EXPECT_FALSE(plan_cloud_validation(o).ok());  // not newer
}

TEST(ValidatePlan, MalformedFileFailsThePlanWithFileAndLine) {
  auto plan = plan_cloud_validation(cloud("malformed", "queens", {"cmp1"}));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("linuxbridge_agent.ini:6:"), std::string::npos) << plan.status().message();
}

// A fake lab: every cell fails unless the scenario has 'passing_switch'.
reports::ScenarioResult fake_result(const Scenario& sc, bool pass) {
  reports::ScenarioResult r;
  r.name = sc.name;
  r.verdict = pass ? reports::Verdict::kPass : reports::Verdict::kFail;
  r.metrics.downtime_ms = pass ? 35 : 7000;
  r.metrics.recovery_ms = pass ? 5.0 : 6900.0;
  r.recovery_cause = pass ? "announce" : "peer_arp";
  // Two announces: one reached the fabric only when the cell passes.
  r.announces = {{1, 100, {"dst.tap"}}, {2, 150, pass ? std::vector<std::string>{"dst.tap", "dst.fabric_port"}
                                                          : std::vector<std::string>{"dst.tap"}}};
  return r;
}

TEST(ValidateRun, TheFirstCandidateThatPassesIsTheFix) {
  auto plan = plan_cloud_validation(cloud("seed001-lb-vlan-queens", "queens", {"compute-a", "compute-b"}));
  ASSERT_TRUE(plan.ok());
  int runs = 0;
  CellRunner run = [&](const Scenario& sc) -> StatusOr<reports::ScenarioResult> {
    ++runs;
    return fake_result(sc, sc.warm_destination || sc.behaviour.pre_plug_vlan_uplink);
  };
  auto result = run_cloud_validation(*plan, run, /*find_fixes=*/true);
  ASSERT_TRUE(result.ok());
  const CellOutcome& cold = result->outcomes[0];
  EXPECT_EQ(cold.as_shipped->verdict, reports::Verdict::kFail);
  EXPECT_NE(cold.fix.find("pre_plug_vlan_uplink"), std::string::npos) << cold.fix;
  EXPECT_NE(cold.fix_yaml.find("pre_plug_vlan_uplink: true"), std::string::npos);
  // The candidates before it were tried and failed, in order.
  ASSERT_GE(cold.fixes_tried.size(), 2u);
  EXPECT_NE(cold.fixes_tried.front().find("upgrade to wallaby"), std::string::npos) << cold.fixes_tried.front();
  EXPECT_NE(cold.fixes_tried.back().find("pass"), std::string::npos);
  EXPECT_EQ(result->outcomes[1].fix, "");  // warm passed: nothing searched
  EXPECT_EQ(runs, 2 + static_cast<int>(cold.fixes_tried.size()));
  EXPECT_EQ(validation_exit_code(*plan, *result), 1);
  auto j = nlohmann::json::parse(validation_json(*plan, *result));
  EXPECT_EQ(j["cells"][0]["as_shipped"]["verdict"], "fail");
  EXPECT_EQ(j["cells"][0]["as_shipped"]["mechanism"],
            "0/2 announces reached the fabric; recovered by peer_arp 6900 ms after resume");
  EXPECT_EQ(j["cells"][1]["as_shipped"]["mechanism"],
            "1/2 announces reached the fabric; recovered by announce 5 ms after resume");
  EXPECT_EQ(j["cells"][1]["as_shipped"]["verdict"], "pass");
  std::string table = validation_table(*plan, *result);
  EXPECT_NE(table.find("lb-1 -> lb-1"), std::string::npos) << table;
  EXPECT_NE(table.find("fix: no upstream fix: os-vif ensure_vlan_bridge"), std::string::npos) << table;
}

// Two causes, as seed 000 on a cold destination: one candidate alone only
// shortens the outage; it is kept and the others are tried on top of it.
TEST(ValidateRun, ACandidateThatHelpsIsKeptAndTheRestTriedOnTopOfIt) {
  auto o = cloud("seed001-lb-vlan-queens", "queens", {"compute-a", "compute-b"});
  o.kinds = {core::MigrationKind::kLive, core::MigrationKind::kCold};
  auto plan = plan_cloud_validation(o);
  ASSERT_TRUE(plan.ok());
  CellRunner run = [&](const Scenario& sc) -> StatusOr<reports::ScenarioResult> {
    const auto& b = sc.behaviour;
    auto r = fake_result(sc, sc.warm_destination || (b.pre_plug_vlan_uplink && b.lb_agent_honours_migrating_to));
    if (r.verdict == reports::Verdict::kFail && b.lb_agent_honours_migrating_to) r.metrics.downtime_ms = 2000;
    return r;
  };
  auto result = run_cloud_validation(*plan, run, true);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(plan->cells[0].spec.name, "lb-1_to_lb-1.vlan.live.cold");
  const CellOutcome& live = result->outcomes[0];
  EXPECT_NE(live.fix.find("lb_agent_honours_migrating_to) + no upstream fix: os-vif ensure_vlan_bridge"),
            std::string::npos)
      << live.fix;
  // Pass 1: each candidate alone (the last, lb_agent_honours, is kept);
  // pass 2: the others on top of it until pre_plug passes.
  // Candidates on queens: upgrades to wallaby and zed, announce_self,
  // pre_plug, lb_agent_honours: 5 alone, then 4 on top of the last.
  ASSERT_EQ(live.fixes_tried.size(), 9u) << ::testing::PrintToString(live.fixes_tried);
  EXPECT_NE(live.fixes_tried[4].find("downtime 2000.0 ms"), std::string::npos) << live.fixes_tried[4];
  // The next failing cell between the same classes starts with that chain.
  ASSERT_EQ(plan->cells[2].spec.name, "lb-1_to_lb-1.vlan.cold.cold");
  const CellOutcome& cold = result->outcomes[2];
  EXPECT_EQ(cold.fix, live.fix);
  EXPECT_EQ(cold.fixes_tried.size(), 1u) << ::testing::PrintToString(cold.fixes_tried);
  EXPECT_EQ(validation_exit_code(*plan, *result), 1);  // the cloud as it is still fails
}

TEST(ValidateRun, CancelStopsAndAnErrorIsTheCellsVerdict) {
  auto plan = plan_cloud_validation(cloud("seed001-lb-vlan-queens", "queens", {"compute-a", "compute-b"}));
  ASSERT_TRUE(plan.ok());
  int n = 0;
  CellRunner run = [&](const Scenario&) -> StatusOr<reports::ScenarioResult> {
    return ++n == 1 ? Status(StatusCode::kInternal, "ovs-vswitchd died") : Status(StatusCode::kCancelled, "interrupted");
  };
  auto result = run_cloud_validation(*plan, run, true);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  n = 0;
  CellRunner err = [&](const Scenario&) -> StatusOr<reports::ScenarioResult> {
    return Status(StatusCode::kInternal, "ovs-vswitchd died");
  };
  auto errored = run_cloud_validation(*plan, err, true);
  ASSERT_TRUE(errored.ok());
  EXPECT_EQ(errored->outcomes[0].as_shipped->verdict, reports::Verdict::kError);
  EXPECT_TRUE(errored->outcomes[0].fixes_tried.empty());  // no fix search on an error
  EXPECT_EQ(validation_exit_code(*plan, *errored), 3);
}

}  // namespace
}  // namespace lmh::harness
