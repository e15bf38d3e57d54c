#include "reports/html_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lmh::reports {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Seed 001's cold destination, abridged: the announces die in the bridge
// without an uplink until the agent enslaves it; the peer sees 1953 ms.
ScenarioResult cold_destination() {
  ScenarioResult s;
  s.name = "lb-vlan-cold-destination";
  s.tier = "emulated";
  s.verdict = Verdict::kFail;
  s.verdict_reason = "downtime 1953.1 ms > 500 ms";
  s.migration_status = "completed";
  s.recovery_cause = "peer_arp";
  s.metrics.interval_ms = 5;
  s.metrics.downtime_ms = 1953.1;
  s.metrics.max_gap_ms = 1958.1;
  s.metrics.recovery_ms = 1900.0;
  s.metrics.window_ms = {1000, 9000};
  s.metrics.reply_gaps_ms = {{1500.0, 3458.1}, {5000, 5030}};
  s.timeline = {
      {1200, "conductor", "migration 1 status running", "note", ""},
      {1210, "libvirt", "Begin on src", "begin", "src"},
      {1220, "compute.dst", "os-vif plug tap into <brq0fe9c836-58>", "note", "dst"},
      {1500, "guest", "paused on src", "guest_paused", "src"},
      {1530, "guest", "resumed on dst", "guest_resumed", "dst"},
      {1531, "faults", "agent.lb.scan: delay 2000 ms", "note", ""},
      {3400, "agent.lb.dst", "enslave uplink eth1.100", "note", "dst"},
  };
  s.announces = {{1, 1540, {"dst.tap", "dst.uplink"}}, {2, 3500, {"dst.tap", "dst.uplink", "dst.fabric_port", "peer"}}};
  s.invariants = {{"one_host", true, ""}, {"vif_wired", false, "tap on brq… binding says br-int"}};
  s.pcaps = {"1-peer.pcap"};
  return s;
}

TEST(HtmlReport, ShowsLanesInFlowOrderTheGapTheAnnouncesAndTheBrokenInvariant) {
  const std::string html = to_html({"r1", "2026-12-01T00:00:00Z", {cold_destination()}});
  EXPECT_THAT(html, HasSubstr("<section class=\"scenario\" id=\"s-1\" data-verdict=\"fail\">"));
  EXPECT_THAT(html, HasSubstr("<a href=\"#s-1\">lb-vlan-cold-destination</a>"));
  // Lanes, top to bottom as a migration flows.
  const size_t conductor = html.find("data-lane=\"conductor\""), compute = html.find("data-lane=\"compute.dst\""),
               agent = html.find("data-lane=\"agent.lb.dst\""), libvirt = html.find("data-lane=\"libvirt\""),
               guest = html.find("data-lane=\"guest\""), probes = html.find("data-lane=\"probes (peer)\""),
               announces = html.find("data-lane=\"announces\"");
  for (size_t at : {conductor, compute, agent, libvirt, guest, probes, announces}) ASSERT_NE(at, std::string::npos);
  EXPECT_LT(conductor, compute);
  EXPECT_LT(compute, agent);
  EXPECT_LT(agent, libvirt);
  EXPECT_LT(libvirt, guest);
  EXPECT_LT(guest, probes);
  EXPECT_LT(probes, announces);
  // The longest gap is marked and labelled; the short one is drawn too.
  EXPECT_THAT(html, HasSubstr("class=\"gap longest\" data-ms=\"1958.1\""));
  EXPECT_THAT(html, HasSubstr("gap 1958.1 ms"));
  EXPECT_THAT(html, HasSubstr("class=\"gap\" data-ms=\"30.0\""));
  // The first RARP stopped at the destination's uplink; the second reached the peer.
  EXPECT_THAT(html, HasSubstr("class=\"announce lost\" data-seq=\"1\" data-stopped=\"dst.uplink\""));
  EXPECT_THAT(html, HasSubstr("class=\"announce arrived\" data-seq=\"2\" data-stopped=\"peer\""));
  EXPECT_THAT(html, HasSubstr("class=\"event fault\""));
  EXPECT_THAT(html, HasSubstr("<div class=\"banner\">invariant <b>vif_wired</b> broken: tap on brq… binding says br-int"));
  EXPECT_THAT(html, HasSubstr("class=\"switchover\""));
  EXPECT_THAT(html, HasSubstr("data-view=\"switchover\""));
  EXPECT_THAT(html, HasSubstr("data-view=\"migration\""));
  EXPECT_THAT(html, HasSubstr("<a class=\"pcap\" href=\"1-peer.pcap\">"));
  // Event text is escaped, never markup.
  EXPECT_THAT(html, HasSubstr("os-vif plug tap into &lt;brq0fe9c836-58&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<brq0fe9c836-58>")));
  // Self-contained: nothing fetched.
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999")));
  EXPECT_THAT(html, Not(HasSubstr("src=\"http")));
  EXPECT_THAT(html, Not(HasSubstr("href=\"http")));
}

TEST(HtmlReport, TheZoomCoversTheSwitchoverAndTheGapOnly) {
  const std::string html = to_html({"r1", "", {cold_destination()}});
  // Switchover view: from before the pause/gap start (1500) to after the
  // gap's end (3458.1) and the last announce (3500), not the whole window.
  const size_t zoom = html.find("data-view=\"switchover\"");
  ASSERT_NE(zoom, std::string::npos);
  const std::string tag = html.substr(zoom, 300);
  const double from = std::stod(tag.substr(tag.find("data-from-ms=\"") + 14));
  const double to = std::stod(tag.substr(tag.find("data-to-ms=\"") + 12));
  EXPECT_LT(from, 1500);
  EXPECT_GT(from, 1000);
  EXPECT_GT(to, 3500);
  EXPECT_LT(to, 9000);
}

}  // namespace
}  // namespace lmh::reports
