// What one scenario run produced, as plain data. The harness fills it; the
// writers here turn it into result.json, junit.xml and the summary table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lmh::reports {

// The verdict rule is the harness' (harness judge); this is its outcome.
enum class Verdict { kPass, kFail, kError };
// "pass", "fail", "error": the words result.json and JUnit use.
const char* to_string(Verdict v);
// The verdict spelt 'word'; nullopt for any other word.
std::optional<Verdict> parse_verdict(const std::string& word);

struct TimelineEntry {
  double t_ms = 0;
  std::string source;  // "conductor", "compute.dst", "agent.lb.dst", "guest", ...
  std::string event;   // for people
  // What the event is, for programs: "note" (text only), a migration phase
  // ("begin", "prepare", "perform", "finish", "confirm") or a guest event
  // ("guest_paused", "guest_resumed", "announce_sent", ...), with its host.
  std::string kind = "note";
  std::string host;
};

struct AnnounceEntry {
  int seq = 0;
  double t_ms = 0;
  // Capture points, and "<point>→<remote host>" for a VXLAN or Geneve copy
  // sent towards that host's tunnel endpoint (capture's AnnounceSighting).
  std::vector<std::string> seen_at;
};

struct MetricsEntry {
  int loss = 0;
  int probes = 0;
  double interval_ms = 0;
  double max_gap_ms = 0;
  double downtime_ms = 0;
  std::optional<double> recovery_ms;
  std::optional<double> stale_forwarding_ms;
  // QEMU's own downtime figure for the switchover (libvirt's completed job
  // on the destination); the libvirt tier only, else null.
  std::optional<double> hypervisor_downtime_ms;
  // Tunnel networks (VXLAN or Geneve): per host other than the source, how
  // long after resume it still tunnelled frames for the guest to the
  // source's tunnel endpoint (capture's Metrics::stale_forwarding_by_host_ms);
  // empty otherwise. Last here so positional initialisers stay valid;
  // result.json has it after stale_forwarding_ms.
  std::map<std::string, double> stale_forwarding_by_host_ms;
  // ML2/OVN: on the chassis the guest ended on, from its tap appearing on
  // br-int to ovn-controller marking it ovn-installed (its flows are in);
  // null elsewhere. result.json has it after hypervisor_downtime_ms, only
  // when set.
  std::optional<double> flows_installed_ms;
  // The prober's longest pause between two probes (capture's
  // Metrics::max_send_gap_ms): how loaded the machine was while measuring.
  double max_send_gap_ms = 0;
  // What the HTML report's probe strip draws (ms since the run's t = 0):
  // the measurement window and each stretch of it without a reply longer
  // than three intervals. result.json: "window_ms" {from, to} and
  // "reply_gaps_ms" [{from, to}].
  std::pair<double, double> window_ms{0, 0};
  std::vector<std::pair<double, double>> reply_gaps_ms{};
};

struct FallbackEntry {
  std::string capability;  // "8021q"
  bool available = false;
  std::string used;        // what lmh used instead, or "native"
};

// One invariant checked after the run (DESIGN.md "Invariants").
struct InvariantEntry {
  std::string name;    // "one_host", "binding_host", "no_leftover_vif", "migration_terminal", "no_pending_wait"
  bool ok = true;
  std::string detail;  // what was wrong ("" when ok)
};

// How often a fault plan's entry was reached and fired.
struct FaultEntry {
  std::string point;   // "agent.lb.enslave_uplink"
  std::string action;  // "delay:3000@nth:1"
  int reached = 0;
  int injected = 0;
};

struct ScenarioResult {
  std::string name;         // scenario name plus any --set overrides, e.g. "lb-vlan-cold-destination[pre_plug_vlan_uplink=true]"
  std::string scenario_file;
  std::string tier;         // "emulated" | "libvirt"
  std::string accel;        // libvirt tier: "kvm" | "tcg"; "" (null in JSON) on the emulated tier
  std::map<std::string, std::string> behaviour;  // switch -> value
  Verdict verdict = Verdict::kError;
  std::string verdict_reason;
  MetricsEntry metrics;
  std::string recovery_cause;  // "announce", "guest_traffic", "peer_arp", "fabric_ageing", "none"
  std::string migration_status;  // final Migration record status
  std::vector<AnnounceEntry> announces;
  std::vector<TimelineEntry> timeline;
  std::vector<FallbackEntry> fallbacks;
  std::vector<InvariantEntry> invariants;
  std::vector<FaultEntry> faults;
  unsigned long long fault_seed = 0;
  std::vector<std::string> pcaps;  // file names relative to the run dir
  // The real tier: every guest's serial console log from every host it ran
  // on ("<index>-<host>-<guest>.serial.log", relative to the run dir).
  std::vector<std::string> serial_logs;
  double wall_ms = 0;       // lab up -> teardown done
  double lab_setup_ms = 0;
};

struct RunReport {
  std::string run_id;
  std::string started_at;  // ISO 8601 UTC
  std::vector<ScenarioResult> scenarios;
};

}  // namespace lmh::reports
