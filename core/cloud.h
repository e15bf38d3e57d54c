// A cloud: nova's roles and neutron over the L2 agents and the hypervisor,
// assembled from parts with one-way dependencies (core/nova_services.h):
//   NovaDatabase     instances, migration records, claims
//   RpcBus           casts and calls between services, with fault points
//   InstanceEvents   neutron -> nova events and the waits for them
//   Conductor        API, conductor and scheduler
//   ComputeManager   nova-compute, one per host
//   InvariantChecker what must hold after a move
// The roles run on the event loop (cast = posted task; call = a direct call,
// which blocks the caller as oslo.messaging's call does).
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

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/behaviour.h"
#include "core/compute_manager.h"
#include "core/conductor.h"
#include "core/event_loop.h"
#include "core/host_config.h"
#include "core/host_network.h"
#include "core/hypervisor.h"
#include "core/instance_events.h"
#include "core/invariants.h"
#include "core/l2_agent.h"
#include "core/neutron.h"
#include "core/nova_database.h"
#include "core/nova_services.h"
#include "core/ovn_driver.h"
#include "core/rpc_bus.h"
#include "core/timeline.h"

namespace lmh::core {

class Cloud final : public HostDirectory {
 public:
  // 'faults' (may be null) is consulted at the named fault points.
  Cloud(EventLoop& loop, Timeline& timeline, Hypervisor& hypervisor, Behaviour behaviour,
        faults::FaultPlan* faults = nullptr);
  ~Cloud() override;

  // Adds a compute host with its L2 agent (started at once), built by the
  // backend registered for 'config.backend' (core/l2_backend.h).
  Status add_host(HostConfig config, HostNetwork& net);

  // nova's API (Conductor has the details).
  Status boot(Instance instance, const std::string& host) { return conductor_.boot(std::move(instance), host); }
  StatusOr<int> live_migrate(const std::string& instance_uuid, const std::string& dest, bool force = false) {
    return conductor_.live_migrate(instance_uuid, dest, force);
  }
  StatusOr<int> migrate(const std::string& instance_uuid, const std::string& dest, bool resize = false) {
    return conductor_.migrate(instance_uuid, dest, resize);
  }
  Status confirm_resize(const std::string& instance_uuid) { return conductor_.confirm_resize(instance_uuid); }
  Status revert_resize(const std::string& instance_uuid) { return conductor_.revert_resize(instance_uuid); }

  // Loads ML2/OVN's mechanism driver over 'nb' (the cloud's OVN databases)
  // and starts its monitors: needed before the first network when a host
  // runs the ovn backend. kAlreadyExists the second time.
  Status use_ovn(OvnNorthbound& nb);
  OvnMechanismDriver* ovn() { return ovn_.get(); }

  // The invariants (core/invariants.h) after the move 'migration_id'.
  std::vector<InvariantResult> invariant_report(const std::string& instance_uuid, int migration_id,
                                                const std::set<MigrationStatus>& expected_statuses = {}) {
    return invariants_.report(instance_uuid, migration_id, expected_statuses);
  }
  // The details of the violated ones (empty when all hold).
  std::vector<std::string> check_invariants(const std::string& instance_uuid, int migration_id);

  // HostDirectory.
  std::vector<std::string> host_names() const override;
  ComputeManager* compute(const std::string& host) override;
  // The L2 agent of 'host', whatever its backend; dynamic_cast to
  // LinuxBridgeAgent / OvsAgent for a backend's own state.
  L2Agent* agent(const std::string& host) override;

  Instance* instance(const std::string& uuid) { return db_.instance(uuid); }
  Migration* migration(int id) { return db_.migration(id); }
  int migration_count() const { return db_.migration_count(); }

  EventLoop& loop() { return loop_; }
  Timeline& timeline() { return timeline_; }
  NeutronServer& neutron() { return neutron_; }
  Hypervisor& hypervisor() { return hypervisor_; }
  NovaDatabase& db() { return db_; }
  RpcBus& rpc() { return rpc_; }
  InstanceEvents& events() { return events_; }
  faults::FaultPlan* faults() { return faults_; }
  const Behaviour& behaviour() const { return behaviour_; }

 private:
  NovaServices services();
  // l2population's cast of 'fdb' to one agent (fault points l2pop.fdb_*).
  void cast_fdb(L2Agent& agent, FdbOperation op, const NetworkFdb& fdb);

  EventLoop& loop_;
  Timeline& timeline_;
  Hypervisor& hypervisor_;
  Behaviour behaviour_;
  faults::FaultPlan* faults_;
  NeutronServer neutron_;
  NovaDatabase db_;
  RpcBus rpc_;
  InstanceEvents events_;
  Conductor conductor_;
  InvariantChecker invariants_;
  std::unique_ptr<OvnMechanismDriver> ovn_;
  std::map<std::string, std::unique_ptr<L2Agent>> agents_;
  std::map<std::string, std::unique_ptr<ComputeManager>> computes_;
};

}  // namespace lmh::core
