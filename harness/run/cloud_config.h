// A cloud's deployed configuration files, read as its services read them,
// for `lmh validate-cloud`. One directory per host holds that host's files
// under their deployed names (nova.conf, neutron.conf, ml2_conf.ini,
// linuxbridge_agent.ini, openvswitch_agent.ini; any may be missing), plus,
// for an OVN chassis, `ovs_external_ids`: the output of
// `ovs-vsctl get Open_vSwitch . external_ids`, where ovn-controller reads
// its settings. Agent sections may sit in ml2_conf.ini, as kolla deploys
// them. Addresses in the files (local_ip, ovn-encap-ip) are only read as
// "this host has a tunnel endpoint": lmh never contacts them.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/backend.h"
#include "core/job_monitor.h"
#include "harness/run/oslo_ini.h"

namespace lmh::harness {

// An option lmh reads but cannot honour, or one the host's release
// ignores: reported with the run, never dropped silently.
struct ConfigNote {
  std::string where;   // "<file>:<line>" ("" when no single line)
  std::string option;  // "[libvirt] live_migration_permit_post_copy"
  std::string what;
};

// What neutron-server allows, from the controller's neutron.conf and
// ml2_conf.ini (or, without --controller, the compute hosts' copies).
struct NeutronServerConfig {
  std::vector<std::string> mechanism_drivers;
  std::vector<std::string> type_drivers;
  std::vector<std::string> tenant_network_types;
  // [ml2_type_vlan] network_vlan_ranges: physnet -> first VLAN of its first
  // range (lmh picks one segment per network type).
  std::map<std::string, int> vlan_physnets;
  std::vector<std::string> flat_networks;  // "*" allows any physnet
  int first_vxlan_vni = 0;                 // [ml2_type_vxlan] vni_ranges (0: none)
  int first_geneve_vni = 0;                // [ml2_type_geneve] vni_ranges
  std::optional<bool> live_migration_events;            // neutron.conf [nova]
  std::optional<std::string> ovn_activation_strategy;   // [ovn] live_migration_activation_strategy
  bool experimental_linuxbridge = false;                // neutron.conf [experimental] linuxbridge
  bool l2population = false;  // "l2population" in mechanism_drivers
  std::vector<ConfigNote> notes;
};

// nova.conf of one compute host: the options lmh models.
struct NovaComputeConfig {
  std::optional<bool> live_migration_wait_for_vif_plug;  // unset: the release's default
  int vif_plugging_timeout_s = 300;
  bool vif_plugging_is_fatal = true;
  core::MigrationTuning libvirt;
  std::optional<bool> announce_self;  // [workarounds] enable_qemu_monitor_announce_self
  std::optional<int> announce_self_count;
  std::optional<int> announce_self_interval_s;
};

// One compute host as its files describe it.
struct HostConfigFiles {
  std::string name;  // [DEFAULT] host of nova.conf, else the directory's name
  std::string dir;
  // The L2 backend: from which agent's settings are present (or OVN's
  // external_ids); nullopt when the directory describes none.
  std::optional<core::Backend> backend;
  std::string firewall_driver = "openvswitch";  // openvswitch: "openvswitch" (plain) or "iptables_hybrid"
  std::map<std::string, std::string> mappings;  // physnet -> NIC (linuxbridge) or bridge (openvswitch, ovn)
  std::set<std::string> tunnel_types;            // "vxlan", "gre", "geneve" with an endpoint
  int polling_interval_s = 2;
  bool l2_population = false;
  bool arp_responder = false;
  int vxlan_udp_port = 0;  // 0: the backend's default
  NovaComputeConfig nova;
  std::vector<ConfigNote> notes;
};

// The files of one directory, parsed. Missing files are absent; a file
// oslo.config would refuse is kInvalidArgument "<file>:<line>: <what>".
struct ConfigDir {
  std::string dir;
  std::map<std::string, IniFile> files;  // "nova.conf" -> parsed
  std::optional<std::map<std::string, std::string>> ovs_external_ids;
  std::string ovs_external_ids_path;
};
StatusOr<ConfigDir> read_config_dir(const std::string& dir);

// neutron-server's view from 'dirs' (the controller's directory, or every
// compute directory: the first that has ml2_conf.ini [ml2] wins).
StatusOr<NeutronServerConfig> neutron_server_config(const std::vector<const ConfigDir*>& dirs);

// One compute host from its directory. Errors (kInvalidArgument, naming the
// file and line): a value of the wrong type, both linuxbridge and
// openvswitch agent settings, a malformed mapping.
StatusOr<HostConfigFiles> host_config(const ConfigDir& dir);

// Parses `ovs-vsctl get Open_vSwitch . external_ids` output:
// {key=value, key="quoted value", ...}. 'path' names errors.
StatusOr<std::map<std::string, std::string>> parse_ovs_external_ids(const std::string& text,
                                                                     const std::string& path);

}  // namespace lmh::harness
