// The report writers: result.json (golden text, round trip, reader errors),
// junit.xml (counts, failure/error elements, escaping), the summary table and
// writing the run files.
#include "reports/writers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pugixml.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

namespace lmh::reports {

// Field-wise equality for the round-trip test (result.h is plain data
// without comparison operators).
bool operator==(const TimelineEntry& a, const TimelineEntry& b) {
  return std::tie(a.t_ms, a.source, a.event, a.kind, a.host) == std::tie(b.t_ms, b.source, b.event, b.kind, b.host);
}
bool operator==(const AnnounceEntry& a, const AnnounceEntry& b) {
  return std::tie(a.seq, a.t_ms, a.seen_at) == std::tie(b.seq, b.t_ms, b.seen_at);
}
bool operator==(const MetricsEntry& a, const MetricsEntry& b) {
  return std::tie(a.loss, a.probes, a.interval_ms, a.max_gap_ms, a.downtime_ms, a.recovery_ms,
                  a.stale_forwarding_ms, a.hypervisor_downtime_ms, a.stale_forwarding_by_host_ms,
                  a.flows_installed_ms, a.max_send_gap_ms) ==
         std::tie(b.loss, b.probes, b.interval_ms, b.max_gap_ms, b.downtime_ms, b.recovery_ms,
                  b.stale_forwarding_ms, b.hypervisor_downtime_ms, b.stale_forwarding_by_host_ms,
                  b.flows_installed_ms, b.max_send_gap_ms);
}
bool operator==(const FallbackEntry& a, const FallbackEntry& b) {
  return std::tie(a.capability, a.available, a.used) == std::tie(b.capability, b.available, b.used);
}
bool operator==(const InvariantEntry& a, const InvariantEntry& b) {
  return std::tie(a.name, a.ok, a.detail) == std::tie(b.name, b.ok, b.detail);
}
bool operator==(const FaultEntry& a, const FaultEntry& b) {
  return std::tie(a.point, a.action, a.reached, a.injected) == std::tie(b.point, b.action, b.reached, b.injected);
}
bool operator==(const ScenarioResult& a, const ScenarioResult& b) {
  return std::tie(a.name, a.scenario_file, a.tier, a.accel, a.behaviour, a.verdict, a.verdict_reason,
                  a.metrics, a.recovery_cause, a.migration_status, a.announces, a.timeline,
                  a.fallbacks, a.invariants, a.faults, a.fault_seed, a.pcaps, a.serial_logs, a.wall_ms, a.lab_setup_ms) ==
         std::tie(b.name, b.scenario_file, b.tier, b.accel, b.behaviour, b.verdict, b.verdict_reason,
                  b.metrics, b.recovery_cause, b.migration_status, b.announces, b.timeline,
                  b.fallbacks, b.invariants, b.faults, b.fault_seed, b.pcaps, b.serial_logs, b.wall_ms, b.lab_setup_ms);
}

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Returns the announces of a run where 'at_fabric' of 'n' reached a fabric
// port and the rest stopped at 'stop' (empty = seen nowhere).
std::vector<AnnounceEntry> announces(int n, int at_fabric, const std::string& stop) {
  std::vector<AnnounceEntry> out;
  for (int i = 0; i < n; ++i) {
    AnnounceEntry a{i + 1, 1000.0 + 50 * i, {}};
    if (i < at_fabric) a.seen_at = {"dst.fabric_port", "dst.tap", "dst.uplink", "peer"};
    else if (!stop.empty()) a.seen_at = {stop};
    out.push_back(a);
  }
  return out;
}

ScenarioResult passing() {
  ScenarioResult s;
  s.name = "lb-vlan-warm-destination";
  s.scenario_file = "scenarios/lb-vlan-warm-destination.yaml";
  s.tier = "emulated";
  s.behaviour = {{"pre_plug_vlan_uplink", "false"}};
  s.verdict = Verdict::kPass;
  s.verdict_reason = "downtime 31.0 ms <= 50 ms";
  s.metrics = {2, 900, 5, 36, 31, 12.5, 0.0, std::nullopt, {}, std::nullopt};
  s.recovery_cause = "announce";
  s.migration_status = "completed";
  s.announces = announces(5, 5, "");
  s.timeline = {{0, "conductor", "migration accepted", "note", ""},
                {512.25, "guest", "resumed on dst", "guest_resumed", "dst"}};
  s.fallbacks = {{"8021q", false, "macvlan"}};
  s.pcaps = {"peer.pcap", "dst.tap.pcap"};
  s.serial_logs = {"1-dst-vm1.serial.log", "1-src-vm1.serial.log"};
  s.metrics.max_send_gap_ms = 7.25;
  s.wall_ms = 4321.5;
  s.lab_setup_ms = 800.125;
  return s;
}

ScenarioResult failing() {
  ScenarioResult s = passing();
  s.name = "lb-vlan-cold-destination[pre_plug_vlan_uplink=false]";
  s.verdict = Verdict::kFail;
  s.verdict_reason = "downtime 4015.0 ms > 50 ms";
  s.metrics = {803, 2000, 5, 4020, 4015, std::nullopt, std::nullopt, std::nullopt, {}, std::nullopt};
  s.recovery_cause = "none";
  s.announces = announces(5, 0, "dst.tap");
  s.invariants = {{"one_host", true, ""}, {"no_leftover_vif", false, "tap tapcfcfd97b-b5 left on src"}};
  s.faults = {{"agent.lb.enslave_uplink", "delay:3000", 2, 1}};
  s.fault_seed = 7;
  s.fallbacks = {};
  s.pcaps = {};
  return s;
}

ScenarioResult erroring() {
  ScenarioResult s;
  s.name = "broken";
  s.scenario_file = "scenarios/broken.yaml";
  s.tier = "emulated";
  s.verdict = Verdict::kError;
  s.verdict_reason = "lab setup failed: no 8021q";
  s.recovery_cause = "none";
  s.migration_status = "error";
  return s;
}

// A run of the libvirt tier: QEMU's downtime next to the measured one.
ScenarioResult real_tier() {
  ScenarioResult s = passing();
  s.name = "real-lb-vlan-warm-destination";
  s.tier = "libvirt";
  s.accel = "tcg";
  s.metrics.hypervisor_downtime_ms = 187.0;
  return s;
}

const std::string kArrow = "\u2192";

// A run on a VXLAN network: stale forwarding per host, and announces seen
// encapsulated towards other hosts' VTEPs.
ScenarioResult vxlan_run() {
  ScenarioResult s = passing();
  s.name = "lb-vxlan-warm-destination";
  s.metrics.stale_forwarding_ms = 1200.0;
  s.metrics.stale_forwarding_by_host_ms = {{"bystander", 1200.0}, {"dst", 0.0}, {"other", 12.5}};
  for (auto& a : s.announces) a.seen_at = {"dst.tap", "dst.underlay" + kArrow + "bystander", "dst.underlay" + kArrow + "src"};
  return s;
}

RunReport report(std::vector<ScenarioResult> scenarios) {
  return {"20240102T030405-ab12", "2024-01-02T03:04:05Z", std::move(scenarios)};
}

// --- result.json ------------------------------------------------------------

TEST(ResultJson, GoldenText) {
  ScenarioResult s;
  s.name = "s";
  s.scenario_file = "scenarios/s.yaml";
  s.tier = "emulated";
  s.behaviour = {{"pre_plug_vlan_uplink", "false"}};
  s.verdict = Verdict::kPass;
  s.verdict_reason = "ok";
  s.metrics = {1, 10, 5, 12.3456, 7.3456, 30, std::nullopt, std::nullopt, {}, std::nullopt};
  s.metrics.window_ms = {0, 2000.0004};
  s.metrics.reply_gaps_ms = {{88.25, 100.5}};
  s.recovery_cause = "announce";
  s.migration_status = "completed";
  s.announces = {{1, 100.0001, {"dst.fabric_port", "dst.tap"}}};
  s.timeline = {{0, "conductor", "migration accepted", "note", ""}};
  s.pcaps = {"peer.pcap"};
  s.wall_ms = 1500;
  s.lab_setup_ms = 250.5;
  EXPECT_EQ(to_json_text({"r1", "2024-01-02T03:04:05Z", {s}}), R"({
  "run_id": "r1",
  "started_at": "2024-01-02T03:04:05Z",
  "scenarios": [
    {
      "name": "s",
      "scenario_file": "scenarios/s.yaml",
      "tier": "emulated",
      "accel": null,
      "behaviour": {
        "pre_plug_vlan_uplink": "false"
      },
      "verdict": "pass",
      "verdict_reason": "ok",
      "metrics": {
        "loss": 1,
        "probes": 10,
        "interval_ms": 5.0,
        "max_gap_ms": 12.346,
        "downtime_ms": 7.346,
        "recovery_ms": 30.0,
        "stale_forwarding_ms": null,
        "hypervisor_downtime_ms": null,
        "max_send_gap_ms": 0.0,
        "window_ms": {
          "from": 0.0,
          "to": 2000.0
        },
        "reply_gaps_ms": [
          {
            "from": 88.25,
            "to": 100.5
          }
        ]
      },
      "recovery_cause": "announce",
      "migration_status": "completed",
      "announces": [
        {
          "seq": 1,
          "t_ms": 100.0,
          "seen_at": [
            "dst.fabric_port",
            "dst.tap"
          ]
        }
      ],
      "timeline": [
        {
          "t_ms": 0.0,
          "source": "conductor",
          "event": "migration accepted",
          "kind": "note"
        }
      ],
      "fallbacks": [],
      "invariants": [],
      "faults": [],
      "fault_seed": 0,
      "pcaps": [
        "peer.pcap"
      ],
      "serial_logs": [],
      "wall_ms": 1500.0,
      "lab_setup_ms": 250.5
    }
  ]
}
)");
}

TEST(ResultJson, EmptyRun) {
  RunReport r{"r0", "2024-01-02T03:04:05Z", {}};
  EXPECT_EQ(to_json_text(r),
            "{\n  \"run_id\": \"r0\",\n  \"started_at\": \"2024-01-02T03:04:05Z\",\n"
            "  \"scenarios\": []\n}\n");
}

TEST(ResultJson, RoundTripEqualsInput) {
  RunReport in = report({passing(), failing(), erroring(), vxlan_run()});
  auto out = from_json_text(to_json_text(in));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->run_id, in.run_id);
  EXPECT_EQ(out->started_at, in.started_at);
  ASSERT_EQ(out->scenarios.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(out->scenarios[i] == in.scenarios[i]) << i;
  // Nulls and empty lists survive as such.
  EXPECT_EQ(out->scenarios[1].metrics.recovery_ms, std::nullopt);
  EXPECT_EQ(out->scenarios[0].metrics.stale_forwarding_ms, 0.0);
  EXPECT_TRUE(out->scenarios[2].behaviour.empty());
  EXPECT_TRUE(out->scenarios[2].announces.empty());
  EXPECT_TRUE(out->scenarios[0].metrics.stale_forwarding_by_host_ms.empty());
  EXPECT_EQ(out->scenarios[3].metrics.stale_forwarding_by_host_ms,
            (std::map<std::string, double>{{"bystander", 1200.0}, {"dst", 0.0}, {"other", 12.5}}));
  EXPECT_EQ(out->scenarios[3].announces[0].seen_at[1], "dst.underlay\u2192bystander");
  EXPECT_EQ(to_json_text(*out), to_json_text(in));
}

TEST(ResultJson, StaleForwardingByHostAfterTheAggregateOnlyWhenPresent) {
  ScenarioResult s = vxlan_run();
  s.metrics.stale_forwarding_by_host_ms["switcher"] = 0.00049;  // rounds to 0
  std::string text = to_json_text(report({s}));
  EXPECT_THAT(text, HasSubstr("        \"stale_forwarding_ms\": 1200.0,\n"
                              "        \"stale_forwarding_by_host_ms\": {\n"
                              "          \"bystander\": 1200.0,\n"
                              "          \"dst\": 0.0,\n"
                              "          \"other\": 12.5,\n"
                              "          \"switcher\": 0.0\n"
                              "        },\n"
                              "        \"hypervisor_downtime_ms\": null,\n"));
  // The label's arrow is written as UTF-8, not escaped.
  EXPECT_THAT(text, HasSubstr("\"dst.underlay\xE2\x86\x92src\""));
  EXPECT_THAT(to_json_text(report({passing(), failing(), erroring()})), Not(HasSubstr("by_host")));
  // An empty object reads as none.
  std::string empty = to_json_text(report({passing()}));
  std::string key = "\"stale_forwarding_ms\": 0.0,\n";
  empty.insert(empty.find(key) + key.size(), "        \"stale_forwarding_by_host_ms\": {},\n");
  auto read = from_json_text(empty);
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  EXPECT_TRUE(read->scenarios[0] == passing());
}

TEST(ResultJson, LibvirtTierCarriesAccelAndQemuDowntime) {
  RunReport in = report({real_tier(), passing()});
  std::string text = to_json_text(in);
  EXPECT_THAT(text, HasSubstr("\"tier\": \"libvirt\",\n      \"accel\": \"tcg\","));
  EXPECT_THAT(text, HasSubstr("\"hypervisor_downtime_ms\": 187.0"));
  auto out = from_json_text(text);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_TRUE(out->scenarios[0] == in.scenarios[0]);
  EXPECT_TRUE(out->scenarios[1] == in.scenarios[1]);
  EXPECT_EQ(out->scenarios[1].accel, "");
  EXPECT_EQ(out->scenarios[1].metrics.hypervisor_downtime_ms, std::nullopt);
  // Results written before the libvirt tier (no accel, no QEMU downtime) still load.
  std::string old = to_json_text(report({passing()}));
  for (const std::string cut : {"      \"accel\": null,\n", ",\n        \"hypervisor_downtime_ms\": null"}) {
    auto at = old.find(cut);
    ASSERT_NE(at, std::string::npos) << cut;
    old.erase(at, cut.size());
  }
  auto legacy = from_json_text(old);
  ASSERT_TRUE(legacy.ok()) << legacy.status().to_string();
  EXPECT_TRUE(legacy->scenarios[0] == passing());
}

TEST(ResultJson, OvnFlowsInstalledOnlyWhenMeasured) {
  ScenarioResult ovn = passing();
  ovn.metrics.flows_installed_ms = 17.25;
  std::string text = to_json_text(report({ovn, passing()}));
  EXPECT_THAT(text, HasSubstr("\"hypervisor_downtime_ms\": null,\n        \"flows_installed_ms\": 17.25,\n        \"max_send_gap_ms\": 7.25,\n"));
  EXPECT_EQ(text.find("flows_installed_ms"), text.rfind("flows_installed_ms")) << "only the OVN run has it";
  auto out = from_json_text(text);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_TRUE(out->scenarios[0] == ovn);
  EXPECT_EQ(out->scenarios[1].metrics.flows_installed_ms, std::nullopt);
  EXPECT_THAT(to_junit_xml(report({ovn})), HasSubstr(", OVN flows installed 17.2 ms after the tap</system-out>"));
  EXPECT_THAT(to_junit_xml(report({passing()})), Not(HasSubstr("OVN flows")));
}

TEST(ResultJson, RoundsToThreeDecimals) {
  ScenarioResult s = passing();
  s.metrics.max_gap_ms = 30.000000000004;
  s.wall_ms = -0.0001;
  auto out = from_json_text(to_json_text(report({s})));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->scenarios[0].metrics.max_gap_ms, 30.0);
  EXPECT_EQ(out->scenarios[0].wall_ms, 0.0);
  EXPECT_THAT(to_json_text(report({s})), HasSubstr("\"wall_ms\": 0.0,"));
}

TEST(ResultJson, ReaderErrorsNameTheKey) {
  std::string good = to_json_text(report({passing()}));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return t.replace(at, from.size(), to);
  };
  auto err = [](const std::string& text) {
    auto r = from_json_text(text);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_EQ(err(replaced("\"loss\": 2,", "")),
            "result JSON: scenarios[0].metrics.loss: missing key");
  EXPECT_EQ(err(replaced("\"loss\": 2", "\"loss\": \"2\"")),
            "result JSON: scenarios[0].metrics.loss: expected an integer, got string");
  EXPECT_EQ(err(replaced("\"loss\": 2", "\"loss\": 2.5")),
            "result JSON: scenarios[0].metrics.loss: expected an integer, got number");
  EXPECT_EQ(err(replaced("\"wall_ms\": 4321.5", "\"wall_ms\": null")),
            "result JSON: scenarios[0].wall_ms: expected a number, got null");
  EXPECT_EQ(err(replaced("\"seq\": 2", "\"seq\": true")),
            "result JSON: scenarios[0].announces[1].seq: expected an integer, got boolean");
  EXPECT_EQ(err(replaced("\"peer.pcap\"", "7")),
            "result JSON: scenarios[0].pcaps[0]: expected a string, got number");
  EXPECT_EQ(err(replaced("\"available\": false", "\"available\": 0")),
            "result JSON: scenarios[0].fallbacks[0].available: expected true or false, got number");
  EXPECT_EQ(
      err(replaced("\"pre_plug_vlan_uplink\": \"false\"", "\"pre_plug_vlan_uplink\": false")),
      "result JSON: scenarios[0].behaviour.pre_plug_vlan_uplink: expected a string, got boolean");
  EXPECT_EQ(err("{\"run_id\": \"x\", \"started_at\": \"y\"}"),
            "result JSON: scenarios: missing key");
  EXPECT_EQ(err(replaced("\"verdict\": \"pass\"", "\"verdict\": \"passed\"")),
            "result JSON: scenarios[0].verdict: expected pass, fail or error, got 'passed'");
  EXPECT_EQ(err("[]"), "result JSON: expected an object, got array");
  EXPECT_EQ(err("{\"run_id\": \"x\", \"started_at\": \"y\", \"scenarios\": [1]}"),
            "result JSON: scenarios[0]: expected an object, got number");
  EXPECT_THAT(err("{\"run_id\": "), StartsWith("result JSON: syntax error: "));
  // nlohmann throws a number past double's range as out_of_range.
  EXPECT_EQ(err(replaced("\"wall_ms\": 4321.5", "\"wall_ms\": 1e999")),
            "result JSON: syntax error: [json.exception.out_of_range.406] number overflow parsing '1e999'");

  good = to_json_text(report({vxlan_run()}));
  EXPECT_EQ(err(replaced("\"bystander\": 1200.0", "\"bystander\": \"1200\"")),
            "result JSON: scenarios[0].metrics.stale_forwarding_by_host_ms.bystander: expected a number, got string");
  EXPECT_EQ(err(replaced("\"dst\": 0.0", "\"dst\": null")),
            "result JSON: scenarios[0].metrics.stale_forwarding_by_host_ms.dst: expected a number, got null");
  std::string list = good;
  list.replace(list.find("{\n          \"bystander\""), 0, "[1], \"x\": ");
  EXPECT_EQ(err(list), "result JSON: scenarios[0].metrics.stale_forwarding_by_host_ms: expected an object, got array");
}

// --- junit.xml --------------------------------------------------------------

TEST(JUnit, CountsAndElements) {
  std::string xml = to_junit_xml(report({passing(), failing(), erroring()}));
  EXPECT_THAT(xml, StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
  EXPECT_THAT(xml, HasSubstr("<testsuites name=\"lmh\" tests=\"3\" failures=\"1\" errors=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"lmh.20240102T030405-ab12\" tests=\"3\" "
                             "failures=\"1\" errors=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"lmh.emulated\" "
                             "name=\"lb-vlan-warm-destination\" time=\"4.322\">"));
  // '>' needs no escaping in an attribute value: compare the parsed value.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  pugi::xml_node failure = doc.select_node("//failure").node();
  EXPECT_STREQ(failure.attribute("message").value(),
               "downtime 4015.0 ms > 50 ms (loss 803/2000, "
               "max gap 4020.0 ms, downtime 4015.0 ms, recovery -, stale "
               "forwarding -, cause none, announce 0/5 fabric (dst.tap))");
  EXPECT_STREQ(failure.attribute("type").value(), "fail");
  EXPECT_THAT(xml, HasSubstr(" type=\"fail\">loss 803/2000, "));
  EXPECT_THAT(xml, HasSubstr("\ninvariant violated: no_leftover_vif: tap tapcfcfd97b-b5 left on src\n"
                             "migration status: completed</failure>"));
  EXPECT_THAT(xml, HasSubstr("<error message=\"lab setup failed: no 8021q\" type=\"error\">"
                             "lab setup failed: no 8021q\nmigration status: error</error>"));
  EXPECT_THAT(xml, HasSubstr("<system-out>loss 2/900, max gap 36.0 ms, downtime 31.0 ms, "
                             "recovery 12.5 ms, stale forwarding 0.0 ms, cause announce, "
                             "announce 5/5 fabric</system-out>"));
  // One failure and one error element in all.
  EXPECT_EQ(xml.find("<failure"), xml.rfind("<failure"));
  EXPECT_EQ(xml.find("<error"), xml.rfind("<error"));
  EXPECT_THAT(xml, HasSubstr("</testsuite>\n</testsuites>\n"));
}

TEST(JUnit, StaleForwardingByHostInTheSummaryLine) {
  std::string xml = to_junit_xml(report({vxlan_run()}));
  EXPECT_THAT(xml, HasSubstr("<system-out>loss 2/900, max gap 36.0 ms, downtime 31.0 ms, recovery 12.5 ms, "
                             "stale forwarding 1200.0 ms (by host: bystander 1200.0 ms, dst 0.0 ms, other 12.5 ms), "
                             "cause announce, announce 5/5 fabric</system-out>"));
  EXPECT_THAT(to_junit_xml(report({passing()})), Not(HasSubstr("by host")));
}

TEST(JUnit, PassingRunHasNoFailureElements) {
  std::string xml = to_junit_xml(report({passing()}));
  EXPECT_THAT(xml, HasSubstr("tests=\"1\" failures=\"0\" errors=\"0\""));
  EXPECT_THAT(xml, Not(HasSubstr("<failure")));
  EXPECT_THAT(xml, Not(HasSubstr("<error")));
}

TEST(JUnit, EscapesEverything) {
  ScenarioResult s = failing();
  s.name = "a<b>&\"c\"'d'";
  s.tier = "t&t";
  s.verdict_reason = "x < y & \"z\"\nline2\x01";
  RunReport r = report({s});
  r.run_id = "id<&>";
  std::string xml = to_junit_xml(r);
  // Whatever the serialisation chooses to escape, the values come back
  // intact, and control characters XML cannot carry became U+FFFD.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  pugi::xml_node testcase = doc.select_node("//testcase").node();
  EXPECT_STREQ(testcase.attribute("name").value(), "a<b>&\"c\"'d'");
  EXPECT_STREQ(testcase.attribute("classname").value(), "lmh.t&t");
  EXPECT_STREQ(doc.select_node("//testsuite").node().attribute("name").value(), "lmh.id<&>");
  EXPECT_THAT(std::string(testcase.child("failure").attribute("message").value()),
              StartsWith("x < y & \"z\"\nline2\xEF\xBF\xBD ("));
  EXPECT_THAT(xml, HasSubstr("name=\"a&lt;b"));
  EXPECT_THAT(xml, HasSubstr("&amp;&quot;c&quot;"));
  EXPECT_THAT(xml, HasSubstr("classname=\"lmh.t&amp;t\""));
  EXPECT_THAT(xml, HasSubstr("message=\"x &lt; y &amp; &quot;z&quot;&#10;line2\xEF\xBF\xBD ("));
  s.verdict = Verdict::kError;
  std::string err = to_junit_xml(report({s}));
  // Element text keeps its newline literally; attributes need the reference.
  EXPECT_THAT(err, HasSubstr(">x &lt; y &amp; \"z\"\nline2\xEF\xBF\xBD\n"));
  pugi::xml_document err_doc;
  ASSERT_TRUE(err_doc.load_string(err.c_str()));
  EXPECT_THAT(std::string(err_doc.select_node("//error").node().text().get()),
              StartsWith("x < y & \"z\"\nline2\xEF\xBF\xBD\n"));
  // Every '&' starts an entity or character reference.
  for (size_t at = xml.find('&'); at != std::string::npos; at = xml.find('&', at + 1)) {
    std::string rest = xml.substr(at, 6);
    EXPECT_TRUE(rest.rfind("&lt;", 0) == 0 || rest.rfind("&gt;", 0) == 0 ||
                rest.rfind("&amp;", 0) == 0 || rest.rfind("&quot;", 0) == 0 ||
                rest.rfind("&apos;", 0) == 0 || rest.rfind("&#", 0) == 0)
        << rest;
  }
}

// --- summary table ----------------------------------------------------------

// Returns the lines of 'text'.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(SummaryTable, VerdictsFooterAndDashes) {
  std::string t = summary_table(report({passing(), failing(), erroring()}));
  auto ls = lines(t);
  ASSERT_EQ(ls.size(), 5u) << t;
  EXPECT_THAT(ls[0], StartsWith("SCENARIO"));
  for (const char* col : {"VERDICT", "LOSS", "MAX GAP ms", "DOWNTIME ms", "RECOVERY ms",
                          "STALE ms", "CAUSE", "ANNOUNCE"})
    EXPECT_THAT(ls[0], HasSubstr(col));
  EXPECT_THAT(ls[1], HasSubstr("PASS"));
  EXPECT_THAT(ls[1], HasSubstr("2/900"));
  EXPECT_THAT(ls[1], HasSubstr("12.5"));
  EXPECT_THAT(ls[2], HasSubstr("FAIL"));
  EXPECT_THAT(ls[2], HasSubstr("803/2000"));
  EXPECT_THAT(ls[3], HasSubstr("ERROR"));
  EXPECT_EQ(ls[4], "3 scenarios: 1 passed, 1 failed, 1 error");
  EXPECT_EQ(lines(summary_table(report({passing()}))).back(),
            "1 scenario: 1 passed, 0 failed, 0 errors");
}

TEST(SummaryTable, ColumnsAlignAndAdaptToContent) {
  std::string t = summary_table(report({passing(), failing()}));
  auto ls = lines(t);
  // The long overridden name widens the first column for every row.
  size_t verdict_col = ls[0].find("VERDICT");
  EXPECT_EQ(verdict_col, failing().name.size() + 2);
  EXPECT_EQ(ls[1].find("PASS"), verdict_col);
  EXPECT_EQ(ls[2].find("FAIL"), verdict_col);
  // Numbers are right-aligned under their header.
  size_t gap_end = ls[0].find("MAX GAP ms") + std::string("MAX GAP ms").size();
  EXPECT_EQ(ls[1].substr(gap_end - 4, 4), "36.0");
  EXPECT_EQ(ls[2].substr(gap_end - 6, 6), "4020.0");
  for (const auto& l : ls) EXPECT_NE(l.back(), ' ');
}

// Returns the whitespace-separated words of 'line'.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST(SummaryTable, RecoveryAndStaleDashWhenAbsent) {
  EXPECT_THAT(words(lines(summary_table(report({failing()})))[1]),
              ::testing::ElementsAre(failing().name, "FAIL", "803/2000", "4020.0", "4015.0", "-",
                                     "-", "none", "0/5", "fabric", "(dst.tap)"));
  EXPECT_THAT(words(lines(summary_table(report({passing()})))[1]),
              ::testing::ElementsAre(passing().name, "PASS", "2/900", "36.0", "31.0", "12.5",
                                     "0.0", "announce", "5/5", "fabric"));
}

TEST(SummaryTable, NoMeasurementWithoutProbes) {
  EXPECT_THAT(words(lines(summary_table(report({erroring()})))[1]),
              ::testing::ElementsAre("broken", "ERROR", "-", "-", "-", "-", "-", "none", "-"));
}

TEST(SummaryTable, AnnounceColumn) {
  auto cell = [](std::vector<AnnounceEntry> a) {
    ScenarioResult s = passing();
    s.announces = std::move(a);
    std::string row = lines(summary_table(report({s})))[1];
    return row.substr(row.find("announce") + std::string("announce").size() + 2);
  };
  EXPECT_EQ(cell(announces(5, 5, "")), "5/5 fabric");
  EXPECT_EQ(cell(announces(5, 0, "dst.tap")), "0/5 fabric (dst.tap)");
  EXPECT_EQ(cell(announces(5, 2, "")), "2/5 fabric (not seen)");
  EXPECT_EQ(cell({}), "-");
  // An announce that stopped past the tap is reported where it was last seen.
  std::vector<AnnounceEntry> mixed = announces(4, 1, "dst.tap");
  mixed[2].seen_at = {"dst.tap", "dst.uplink"};
  mixed[3].seen_at = {"src.fabric_port"};  // any fabric port counts
  EXPECT_EQ(cell(mixed), "2/4 fabric (dst.tap, dst.uplink)");
  // VXLAN: a copy seen encapsulated towards a VTEP was on the fabric (the
  // underlay); the stage of a label is its point's.
  std::vector<AnnounceEntry> tunnel = announces(3, 0, "dst.tap");
  tunnel[0].seen_at = {"dst.tap", "dst.underlay" + kArrow + "bystander"};
  tunnel[1].seen_at = {"dst.fabric_port" + kArrow + "198.19.0.9"};
  EXPECT_EQ(cell(tunnel), "2/3 fabric (dst.tap)");
  EXPECT_EQ(cell(vxlan_run().announces), "5/5 fabric");
}

TEST(SummaryTable, LibvirtTierAddsTierAndQemuDowntimeColumns) {
  auto ls = lines(summary_table(report({real_tier(), passing()})));
  EXPECT_THAT(words(ls[0]), ::testing::ElementsAre("SCENARIO", "VERDICT", "TIER", "LOSS", "MAX", "GAP", "ms",
                                                   "DOWNTIME", "ms", "QEMU", "DT", "ms", "RECOVERY", "ms",
                                                   "STALE", "ms", "CAUSE", "ANNOUNCE"));
  EXPECT_THAT(words(ls[1]), ::testing::ElementsAre(real_tier().name, "PASS", "libvirt/tcg", "2/900", "36.0",
                                                   "31.0", "187.0", "12.5", "0.0", "announce", "5/5", "fabric"));
  EXPECT_THAT(words(ls[2]), ::testing::ElementsAre(passing().name, "PASS", "emulated", "2/900", "36.0", "31.0",
                                                   "-", "12.5", "0.0", "announce", "5/5", "fabric"));
  // Emulated runs alone keep the table as it was.
  EXPECT_THAT(lines(summary_table(report({passing()})))[0], Not(HasSubstr("TIER")));
}

TEST(SummaryTable, EmptyRun) {
  auto ls = lines(summary_table(report({})));
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[1], "0 scenarios: 0 passed, 0 failed, 0 errors");
}

// --- run files --------------------------------------------------------------

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RunFiles, WritesBothFiles) {
  char tmpl[] = "/tmp/lmh_writers_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  RunReport r = report({passing(), failing()});
  Status st = write_run_files(r, dir + "/");
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(slurp(dir + "/result.json"), to_json_text(r));
  EXPECT_EQ(slurp(dir + "/junit.xml"), to_junit_xml(r));
  unlink((dir + "/result.json").c_str());
  unlink((dir + "/junit.xml").c_str());
  rmdir(dir.c_str());
}

TEST(RunFiles, ErrorNamesThePath) {
  Status st = write_run_files(report({}), "/nonexistent/run");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "cannot write /nonexistent/run/result.json: No such file or directory");
}

}  // namespace
}  // namespace lmh::reports
