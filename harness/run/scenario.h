// A scenario is data: the lab topology, the network, the guest, the
// migration, the probe, the behaviour switches and the expectation. Loaded
// from YAML and validated into this struct; every error names the file, the
// line and the key (or the --set override that caused it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/backend.h"
#include "core/behaviour.h"
#include "core/job_monitor.h"
#include "core/migration_kind.h"
#include "faults/fault_plan.h"
#include "harness/lab/topology.h"

namespace lmh::harness {

// Which guest a scenario runs: an emulated one (a namespace, seconds per
// run) or a real QEMU guest under a libvirtd per host.
enum class Tier { kEmulated, kLibvirt };
// The scenario name: "emulated", "libvirt".
const char* to_string(Tier tier);
// The tier named 'name'; kInvalidArgument "must be one of: emulated,
// libvirt, got '<name>'" for any other name.
StatusOr<Tier> parse_tier(std::string_view name);

// A host's L2 agent configuration.
struct AgentSpec {
  int polling_interval_ms = 2000;  // the agent's polling_interval
  // The agent's tunnel settings (vxlan networks only).
  bool l2_population = true;
  bool arp_responder = false;
  int udp_dstport = 0;  // 0: the backend's default (linuxbridge: the kernel's 8472)
  // Multicast mode, without l2_population. Cloud-wide: only Scenario::agent's
  // counts (every host joins the one group).
  std::string vxlan_group = "239.1.1.1";

  bool operator==(const AgentSpec&) const = default;
};

// A compute host's nova.conf options.
struct NovaSpec {
  bool live_migration_wait_for_vif_plug = true;  // [compute], read on the destination
  int vif_plugging_timeout_s = 300;              // [DEFAULT], read on the source
  bool vif_plugging_is_fatal = true;             // [DEFAULT], read on the source
  // [DEFAULT] (oslo.messaging). Cloud-wide: only Scenario::nova's counts
  // (the harness has one RPC bus).
  int rpc_response_timeout_s = 60;
  // [libvirt] live_migration_downtime(_steps, _delay),
  // live_migration_completion_timeout, live_migration_timeout_action; read on
  // the source.
  core::MigrationTuning libvirt;

  bool operator==(const NovaSpec&) const = default;
};

struct HostSpec {
  std::string name;                    // "src", "dst"; [a-z0-9]{1,8}
  core::Backend backend = core::Backend::kLinuxBridge;  // `backend:` linuxbridge | openvswitch
  // openvswitch: the agent's firewall driver, which decides the plug:
  // "openvswitch" (plain: tap on br-int) or "iptables_hybrid" (qbr bridge
  // + qvb/qvo veth pair, qvo on br-int).
  std::string firewall_driver = "openvswitch";
  std::string physical_interface = "eth1";  // the host NIC, a trunk to the fabric
  // What nova's scheduler and conductor check (core::HostConfig).
  bool service_enabled = true;
  int memory_mb = 16384;
  int hypervisor_version = 7002000;
  // This host's agent and nova.conf: the top-level `agent:` and `nova:`
  // sections with the host's own `agent:` and `nova:` keys on top.
  AgentSpec agent{};
  NovaSpec nova{};

  bool operator==(const HostSpec&) const = default;
};

struct FabricSpec {
  int mac_ageing_s = 300;  // 15..3600 (Open vSwitch's bounds)

  bool operator==(const FabricSpec&) const = default;
};

struct NetworkSpec {
  std::string id;            // neutron network UUID
  std::string type = "vlan"; // "vlan" | "flat" | "vxlan" | "geneve"
  std::string physnet = "physnet1";
  int segmentation_id = 100; // 1..4094 for vlan; the VNI (1..16777215) for vxlan and geneve
  std::string cidr = "198.18.0.0/24";  // RFC 2544 benchmarking range: lab only
  // A tenant network carried over tunnels between endpoints on the underlay.
  bool is_tunnel() const { return type == "vxlan" || type == "geneve"; }

  bool operator==(const NetworkSpec&) const = default;
};

struct GuestSpec {
  std::string name = "vm1";
  std::string instance_uuid;
  std::string port_id;       // neutron port UUID; tap = "tap" + port_id[:11]
  std::string mac;           // fa:16:3e:xx:xx:xx
  std::string ip;            // inside network.cidr
  // When set, the guest sends one datagram to the peer this long after it
  // resumes on the destination (what chronyd did in seed 001).
  std::optional<int> traffic_after_resume_ms;
  // Power-on to running after a cold migration or revert (the guest boots).
  int boot_ms = 1000;
  int memory_mb = 128;  // the flavor's RAM (sets nova's migration data size); tier libvirt: also QEMU's

  bool operator==(const GuestSpec&) const = default;
};

struct PeerSpec {
  std::string ip;  // the gateway, inside network.cidr
  NeighTimers neigh;
  // `host:` empty: a namespace on the fabric (the network's gateway). A
  // host name: a VM-like port of the network on that compute host (a
  // tunnel network's peer: a bystander that is neither source nor
  // destination), whose tap that host's agent plugs.
  std::string host;

  bool operator==(const PeerSpec&) const = default;
};

// The tunnel underlay of a vxlan network: each host's endpoint (local_ip)
// sits on a VLAN of the fabric, host i (in hosts order) at cidr's .11 + i.
struct UnderlaySpec {
  int vlan = 4000;
  std::string cidr = "198.19.0.0/24";  // RFC 2544 benchmarking range, like the tenant network

  bool operator==(const UnderlaySpec&) const = default;
};

struct MigrationSpec {
  std::string source = "src";
  std::string destination = "dst";
  int precopy_ms = 500;  // emulated pre-copy duration
  int pause_ms = 30;     // emulated switchover pause (guest downtime)
  // (tier libvirt: QEMU decides both; their sum is only the expected
  // start-to-resume time that aims resume_after_dest_poll_ms.)
  // When set, the migration starts so that the guest resumes this long after
  // a poll of the destination's L2 agent (modulo its polling interval). The
  // agent's phase decides whether seed 001's outage happens; this pins it.
  std::optional<int> resume_after_dest_poll_ms;
  // `kind:` live (default), cold (nova migrate) or resize; the last two
  // wait 'verify_ms' in VERIFY_RESIZE, then confirm or revert.
  core::MigrationKind kind = core::MigrationKind::kLive;
  std::string resize_outcome = "confirm";
  int verify_ms = 1000;
  // Live: bypass the scheduler's filters for the given destination (API
  // microversions 2.30-2.67 'force').
  bool force = false;

  bool operator==(const MigrationSpec&) const = default;
};

struct ProbeSpec {
  int interval_ms = 5;          // 1..1000
  int reply_timeout_ms = 1000;
  int settle_ms = 1000;         // probing before the migration starts
  int observe_ms = 5000;        // probing after the migration completes

  bool operator==(const ProbeSpec&) const = default;
};

// Behaviour switches: one scenario runs "as shipped" and "with the fix".
using Behaviour = core::Behaviour;

struct ExpectSpec {
  double max_downtime_ms = 1000;  // verdict threshold on downtime_ms
  int recover_within_ms = 5000;   // connectivity must be back this long after resume

  bool operator==(const ExpectSpec&) const = default;
};

struct Scenario {
  std::string source_file;
  std::string name;
  std::string description;
  Tier tier = Tier::kEmulated;  // `tier:` emulated | libvirt
  bool warm_destination = false;  // destination already hosts the network
  std::vector<HostSpec> hosts;    // default: src and dst
  FabricSpec fabric;
  NetworkSpec network;
  GuestSpec guest;
  PeerSpec peer;
  UnderlaySpec underlay;
  MigrationSpec migration;
  ProbeSpec probe;
  // The top-level `agent:` and `nova:` sections: what every host starts
  // from (HostSpec::agent, ::nova are what each host runs), and the
  // cloud-wide vxlan_group and rpc_response_timeout_s.
  AgentSpec agent;
  NovaSpec nova;
  Behaviour behaviour;
  // Fault plan: scenario `faults:` entries, then any `lmh run --fault`.
  std::vector<faults::FaultSpec> faults;
  uint64_t fault_seed = 1;
  ExpectSpec expect;
  // The --set overrides applied, in order, as "key=value" (shown in names).
  std::vector<std::string> overrides;

  const HostSpec* host(const std::string& name) const {
    for (const auto& h : hosts) if (h.name == name) return &h;
    return nullptr;
  }
  // The bystander VM's address on a warm destination: guest.ip + 1 (+ 2
  // when that is the peer's).
  std::string bystander_ip() const;
  // Behaviour switches as strings, for reports.
  std::map<std::string, std::string> behaviour_map() const;
  // "name" or "name[k=v,...]" when overrides were given.
  std::string display_name() const;
};

// Loads and validates 'path'. 'overrides' are "dotted.key=value" strings
// applied on top of the file before validation (values parsed as YAML
// scalars). An agent.* or nova.* override changes the top-level value, which
// every host without its own key for it (hosts[].agent, hosts[].nova)
// follows; a host's own key wins. Errors are kInvalidArgument with a message of the form
//   "<file>:<line>: <key>: <what is wrong>"
// (for an override: "<file>: --set <key>: <what is wrong>").
// Why 'spec' cannot act in 'sc' (a point the scenario's lab never reaches,
// e.g. ovs.vswitchd without an Open vSwitch host), or "" when it can; from
// the point's descriptor (its tiers and needs_backend).
std::string fault_not_applicable(const Scenario& sc, const faults::FaultSpec& spec);

StatusOr<Scenario> load_scenario(const std::string& path,
                                 const std::vector<std::string>& overrides = {});
// The same from text ('source_name' stands in for the file name in errors).
StatusOr<Scenario> parse_scenario(const std::string& yaml_text, const std::string& source_name,
                                  const std::vector<std::string>& overrides = {});

}  // namespace lmh::harness
