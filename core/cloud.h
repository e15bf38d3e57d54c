// The migration flow: nova's API/conductor and compute roles, one
// ComputeManager per host, over the neutron model, the L2 agents and the
// hypervisor. Roles talk by RPC on the event loop (cast = posted task; call =
// a direct call, which blocks the caller as oslo.messaging's call does).
//
// Live migration, as nova (Rocky+) runs it:
//   conductor: Migration 'accepted', checks, destination binding (INACTIVE)
//   source:    'preparing', pre_live_migration (call) on the destination
//   dest:      plug VIFs the os-vif way, binding:profile.migrating_to
//   source:    'running', driver live_migration (libvirt Begin..Confirm)
//   source:    post_live_migration: unplug, post_live_migration_at_destination
//   dest:      activate the destination binding, instance.host = dest
//   source:    delete the source binding, 'completed'
// Failures roll back (rollback_live_migration_at_destination) to 'error'.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/event_loop.h"
#include "core/host_network.h"
#include "core/hypervisor.h"
#include "core/lb_agent.h"
#include "core/neutron.h"
#include "core/timeline.h"

namespace lmh::core {

// Behaviour switches: each seed behaviour, "as shipped" or "with the fix".
struct Behaviour {
  // false: os-vif ensure_bridge only (as shipped); true: ensure_vlan_bridge
  // in pre_live_migration, so the destination uplink exists before resume.
  bool pre_plug_vlan_uplink = false;
};

struct Instance {
  std::string uuid;
  std::string name;
  std::string host;
  std::string vm_state = "active";
  std::string task_state;  // "" = None
  std::vector<std::string> port_ids;
};

struct Migration {
  int id = 0;
  std::string instance_uuid;
  std::string source;
  std::string dest;
  std::string status;  // accepted preparing running completed | error failed cancelled
};

struct HostConfig {
  std::string name;
  std::map<std::string, std::string> physical_interface_mappings;  // physnet -> NIC
  MonoClock::duration polling_interval = std::chrono::seconds(2);
};

class Cloud;

class ComputeManager {
 public:
  ComputeManager(Cloud& cloud, HostConfig config, HostNetwork& net);
  const std::string& host() const { return config_.name; }
  HostNetwork& network() { return net_; }

  // Source role.
  void live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  // Destination role.
  Status pre_live_migration(const std::string& instance_uuid, const std::string& source);
  Status post_live_migration_at_destination(const std::string& instance_uuid);
  void rollback_live_migration_at_destination(const std::string& instance_uuid);
  // Plugs and spawns a new instance here (boot).
  Status spawn(const std::string& instance_uuid);

 private:
  std::string source() const { return "compute." + config_.name; }
  Status plug_vifs(const Instance& instance, bool provide_vlan);
  void post_live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void rollback_live_migration(const std::string& instance_uuid, const std::string& dest,
                               int migration_id, const Status& why);

  Cloud& cloud_;
  HostConfig config_;
  HostNetwork& net_;
};

class Cloud {
 public:
  Cloud(EventLoop& loop, Timeline& timeline, Hypervisor& hypervisor, Behaviour behaviour);
  ~Cloud();

  // Adds a compute host with its L2 agent (started at once).
  Status add_host(HostConfig config, HostNetwork& net);
  // API: boot 'instance' on 'host' with its ports (which must exist in neutron).
  Status boot(Instance instance, const std::string& host);
  // API os-migrateLive: returns the migration id; the flow continues on the loop.
  StatusOr<int> live_migrate(const std::string& instance_uuid, const std::string& dest);

  // Invariants of DESIGN.md, checked after a scenario: one host runs the
  // instance and the database agrees; the ACTIVE binding is on that host; no
  // tap of the instance elsewhere; the migration is in a terminal state.
  std::vector<std::string> check_invariants(const std::string& instance_uuid, int migration_id);

  EventLoop& loop() { return loop_; }
  Timeline& timeline() { return timeline_; }
  NeutronServer& neutron() { return neutron_; }
  Hypervisor& hypervisor() { return hypervisor_; }
  const Behaviour& behaviour() const { return behaviour_; }
  ComputeManager* compute(const std::string& host);
  LinuxBridgeAgent* agent(const std::string& host);
  Instance* instance(const std::string& uuid);
  Migration* migration(int id);
  // Sets a migration's status and records it.
  void set_migration_status(Migration& m, const std::string& status);
  // The vif events nova received, in order ("network-vif-plugged <port>").
  const std::vector<std::string>& received_vif_events() const { return vif_events_; }

 private:
  EventLoop& loop_;
  Timeline& timeline_;
  Hypervisor& hypervisor_;
  Behaviour behaviour_;
  NeutronServer neutron_;
  std::map<std::string, std::unique_ptr<ComputeManager>> computes_;
  std::map<std::string, std::unique_ptr<LinuxBridgeAgent>> agents_;
  std::map<std::string, Instance> instances_;
  std::vector<Migration> migrations_;
  std::vector<std::string> vif_events_;
};

bool is_terminal_migration_status(const std::string& status);

}  // namespace lmh::core
