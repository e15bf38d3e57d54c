// One compute host as the cloud is told about it: nova.conf of the host,
// its L2 backend and what that backend needs, and what the scheduler
// checks. Kept apart from core/cloud.h so that the L2 backends
// (core/l2_backend.h) build their agents from it without an include cycle.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/backend.h"
#include "core/event_loop.h"
#include "core/job_monitor.h"
#include "core/os_vif_ovs.h"
#include "core/ovs_database.h"

namespace lmh::core {

// An agent's VXLAN settings: the linuxbridge agent's [vxlan] section, or
// the openvswitch agent's [ovs] local_ip with [agent] tunnel_types = vxlan,
// l2_population, arp_responder and vxlan_udp_port.
struct VxlanConfig {
  bool enable_vxlan = false;
  std::string local_ip{};         // this host's tunnel endpoint
  std::string underlay{};         // the interface holding local_ip (linuxbridge)
  bool l2_population = false;
  bool arp_responder = false;     // only with l2_population
  std::string vxlan_group{};      // multicast mode (linuxbridge without l2_population)
  // 0: the backend's default: linuxbridge leaves the kernel's 8472,
  // openvswitch uses IANA's 4789 (seed 000's clouds mix both).
  int udp_dstport = 0;
};

// An OVN chassis: what ovn-controller reads from its Open vSwitch
// (external_ids ovn-encap-type/-ip) besides the bridge mappings.
struct OvnChassisConfig {
  std::string encap_type = "geneve";
  std::string encap_ip{};  // its tunnel endpoint on the underlay
};

struct HostConfig {
  std::string name;
  std::map<std::string, std::string> physical_interface_mappings;  // physnet -> NIC (linuxbridge)
  MonoClock::duration polling_interval = std::chrono::seconds(2);
  // nova.conf of this compute host.
  bool live_migration_wait_for_vif_plug = true;  // [compute], as destination
  MonoClock::duration vif_plugging_timeout = std::chrono::seconds(300);  // [DEFAULT], as source
  bool vif_plugging_is_fatal = true;                                      // [DEFAULT], as source
  // The host's L2 backend (its agent is built by the backend registered
  // under that name, core/l2_backend.h); openvswitch and ovn need the OVSDB
  // and link operations below.
  Backend backend = Backend::kLinuxBridge;
  std::string firewall_driver = "iptables_hybrid";  // openvswitch: or "openvswitch"
  std::string datapath_type = "system";
  std::map<std::string, std::string> bridge_mappings;  // physnet -> br-xxx (openvswitch)
  VxlanConfig vxlan;
  OvnChassisConfig ovn;  // backend ovn
  OvsDatabase* ovs = nullptr;
  LinkOps* links = nullptr;
  // nova.conf [libvirt] live_migration_* of this host, as source.
  MigrationTuning libvirt;
  // What the scheduler and the conductor check: the service's admin state
  // (`openstack compute service set --disable`), RAM for instances, and
  // the hypervisor (live migration needs the same type and a destination
  // at least as new as the source).
  bool service_enabled = true;
  uint64_t memory_mb = 16384;
  std::string hypervisor_type = "QEMU";
  int hypervisor_version = 7002000;  // libvirt's encoding: 7.2.0
};

}  // namespace lmh::core
