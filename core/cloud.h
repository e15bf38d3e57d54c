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

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/behaviour.h"
#include "core/event_loop.h"
#include "core/host_config.h"
#include "core/host_network.h"
#include "core/hypervisor.h"
#include "core/job_monitor.h"
#include "core/l2_agent.h"
#include "core/migration_kind.h"
#include "core/os_vif_ovs.h"
#include "core/ovs_database.h"
#include "core/neutron.h"
#include "core/timeline.h"

namespace lmh::core {

struct Instance {
  std::string uuid;
  std::string name;
  std::string host;
  std::string vm_state = "active";
  std::string task_state;  // "" = None
  std::vector<std::string> port_ids;
  uint64_t memory_mb = 128;  // the flavor's RAM: what a live migration copies
};

struct Migration {
  int id = 0;
  std::string instance_uuid;
  std::string source;
  std::string dest;
  // nova's migration_type: nova_migration_type() spells it.
  MigrationKind migration_type = MigrationKind::kLive;
  // live: accepted preparing running completed | error failed cancelled
  // cold/resize: pre-migrating migrating post-migrating finished, then
  //   confirming confirmed | reverting reverted | error
  std::string status;
};

class Cloud;

class ComputeManager {
 public:
  ComputeManager(Cloud& cloud, HostConfig config, HostNetwork& net);
  const std::string& host() const { return config_.name; }
  const HostConfig& config() const { return config_; }
  HostNetwork& network() { return net_; }

  // Source role.
  void live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  // Cold migration and resize, as nova's compute manager runs them.
  void prep_resize(const std::string& instance_uuid, int migration_id);          // destination
  void resize_instance(const std::string& instance_uuid, int migration_id);      // source
  void finish_resize(const std::string& instance_uuid, int migration_id);        // destination
  void confirm_resize(const std::string& instance_uuid, int migration_id);       // source
  void revert_resize(const std::string& instance_uuid, int migration_id);        // destination
  void finish_revert_resize(const std::string& instance_uuid, int migration_id); // source
  // Destination role.
  Status pre_live_migration(const std::string& instance_uuid, const std::string& source);
  Status post_live_migration_at_destination(const std::string& instance_uuid);
  void rollback_live_migration_at_destination(const std::string& instance_uuid);
  // Plugs and spawns a new instance here (boot).
  Status spawn(const std::string& instance_uuid);

 private:
  std::string source() const { return "compute." + config_.name; }
  Status plug_vifs(const Instance& instance, bool provide_vlan);
  // os-vif: linux_bridge for vif_type bridge, ovs (plain or hybrid) for ovs.
  Status plug_vif(const Vif& vif, const std::string& instance_uuid, bool provide_vlan);
  // The <interface> of 'vif' on this host as the libvirt driver writes it.
  GuestInterface guest_interface(const Vif& vif, DestXmlBridge mode) const;
  // The VIF the destination XML is computed from (nova's get_dest_vif).
  StatusOr<Vif> destination_vif(const std::string& port_id, const std::string& dest);
  // After the vif-plugged wait: 'running', then the driver.
  void start_live_migration_job(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void post_live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void finish_post_live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void rollback_live_migration(const std::string& instance_uuid, const std::string& dest,
                               int migration_id, const Status& why);
  // Casts the method of RPC point 'cast' to 'host'; a failed send puts the
  // migration in 'error'.
  void cast_or_error(const faults::FaultPointDescriptor& cast, const std::string& host, std::function<void()> deliver,
                     const std::string& instance_uuid, int migration_id);

  Cloud& cloud_;
  HostConfig config_;
  HostNetwork& net_;
};

class Cloud {
 public:
  // 'faults' (may be null) is consulted at the named fault points.
  Cloud(EventLoop& loop, Timeline& timeline, Hypervisor& hypervisor, Behaviour behaviour,
        faults::FaultPlan* faults = nullptr);
  ~Cloud();

  // Adds a compute host with its L2 agent (started at once), built by the
  // backend registered for 'config.backend' (core/l2_backend.h).
  Status add_host(HostConfig config, HostNetwork& net);
  // API: boot 'instance' on 'host' with its ports (which must exist in neutron).
  Status boot(Instance instance, const std::string& host);
  // API os-migrateLive: returns the migration id; the flow continues on the loop.
  // 'dest' empty: the scheduler picks one (the first other host that is up).
  // 'force' (API microversions 2.30-2.67): a given destination bypasses
  // the scheduler's filters (a disabled service is accepted); the
  // conductor's own checks (up, memory, hypervisor) still run.
  StatusOr<int> live_migrate(const std::string& instance_uuid, const std::string& dest, bool force = false);
  // API migrate (cold) or resize: the flow runs to 'finished' (VERIFY_RESIZE);
  // then confirm_resize or revert_resize. Returns the migration id.
  StatusOr<int> migrate(const std::string& instance_uuid, const std::string& dest, bool resize = false);
  Status confirm_resize(const std::string& instance_uuid);
  Status revert_resize(const std::string& instance_uuid);

  // Invariants of DESIGN.md, checked after a scenario, each by name:
  // one_host (one host runs the instance and the database agrees),
  // binding_host (the ACTIVE binding is on that host), no_leftover_vif (no
  // tap of the instance elsewhere), migration_terminal, no_pending_wait,
  // vif_wired (on its host the port is plugged where its binding says).
  struct InvariantResult {
    std::string name;
    bool ok = true;
    std::string detail;
  };
  // 'expected_statuses' (when given): the final statuses the faults that
  // fired imply (implied_migration_statuses); migration_terminal also fails
  // when the record ended in another one.
  std::vector<InvariantResult> invariant_report(const std::string& instance_uuid, int migration_id,
                                                const std::set<std::string>& expected_statuses = {});
  // Why port 'port_id' is not wired on 'host' as its binding says (the
  // host's agent judges: L2Agent::wiring_problem), or "" when it is.
  std::string vif_wiring_problem(const std::string& port_id, const std::string& host);
  // The details of the violated ones (empty when all hold).
  std::vector<std::string> check_invariants(const std::string& instance_uuid, int migration_id);

  EventLoop& loop() { return loop_; }
  Timeline& timeline() { return timeline_; }
  NeutronServer& neutron() { return neutron_; }
  Hypervisor& hypervisor() { return hypervisor_; }
  faults::FaultPlan* faults() { return faults_; }
  const Behaviour& behaviour() const { return behaviour_; }
  ComputeManager* compute(const std::string& host);
  // The L2 agent of 'host', whatever its backend (null for an unknown
  // host); dynamic_cast to LinuxBridgeAgent / OvsAgent for a backend's own
  // state.
  L2Agent* agent(const std::string& host);
  Instance* instance(const std::string& uuid);
  Migration* migration(int id);
  // Migration records so far (ids are 1..count, in request order).
  int migration_count() const { return static_cast<int>(migrations_.size()); }
  // RPC between roles on the event loop, as oslo.messaging does it, to the
  // compute service on 'host'; 'point' ("rpc.cast.<method>", defined in
  // cloud.cpp) names the method and is consulted at the send. A cast is
  // posted; an error is returned only when the send itself fails (fault
  // 'fail'). A call runs the callee and hands its result to 'on_reply' on
  // the caller's side. Actions:
  //   rpc.cast.<method>  delay, drop, duplicate, fail, crash
  //   rpc.call.<method>  delay (late reply), drop (no reply: MessagingTimeout
  //                      after rpc_response_timeout), fail (error reply),
  //                      crash (the service on 'host' dies: this and every
  //                      later message to it goes unanswered)
  Status rpc_cast(const faults::FaultPointDescriptor& point, const std::string& host, std::function<void()> deliver);
  void rpc_call(const faults::FaultPointDescriptor& point, const std::string& host, std::function<Status()> deliver,
                std::function<void(Status)> on_reply);
  // oslo.messaging's rpc_response_timeout (60 s by default).
  void set_rpc_response_timeout(MonoClock::duration t) { rpc_response_timeout_ = t; }
  // Is the compute service on 'host' answering? (false once crashed)
  bool service_up(const std::string& host) const { return !down_services_.count(host); }
  void crash_service(const std::string& host);
  // Called by a callee during an rpc_call: its reply leaves 'd' later (a
  // slow callee, fault delay at a compute point).
  void delay_reply(MonoClock::duration d) { reply_delay_ += d; }
  // Keeps the job monitor of migration 'id' alive until the cloud goes.
  void keep_monitor(int id, std::unique_ptr<JobMonitor> monitor) { monitors_[id] = std::move(monitor); }
  // finish_resize reached VERIFY_RESIZE for 'instance_uuid'.
  void note_pending_resize(const std::string& instance_uuid, int migration_id) {
    pending_resizes_[instance_uuid] = migration_id;
  }
  // The scheduler: the first host (in name order) that passes the checks
  // for moving 'instance_uuid' there; "" when none does (NoValidHost).
  std::string pick_destination(const std::string& instance_uuid, bool live);
  // RAM of 'host' taken by its instances and by claims of moves to it.
  uint64_t memory_used_mb(const std::string& host) const;
  // Sets a migration's status and records it.
  void set_migration_status(Migration& m, const std::string& status);
  // The vif events nova received, in order ("network-vif-plugged <port>").
  const std::vector<std::string>& received_vif_events() const { return vif_events_; }

  // nova's virtapi.wait_for_instance_event, in two steps as the with-block
  // runs it: register the expected events (before the RPC that causes
  // them), then wait for the rest with a deadline. 'done' gets ok, or
  // kDeadlineExceeded naming the events still missing. An event that
  // arrives with no registered waiter is dropped, as nova does.
  int prepare_for_events(const std::string& instance_uuid, std::vector<std::string> names);
  void wait_for_events(int wait_id, MonoClock::duration timeout, std::function<void(Status)> done);
  // Abandons a registered wait (the RPC it was for failed).
  void cancel_wait(int wait_id) { finish_wait(wait_id, cancelled("wait abandoned")); }
  // Waits registered and not finished (an invariant: none after a run).
  int pending_waits() const;

 private:
  EventLoop& loop_;
  Timeline& timeline_;
  Hypervisor& hypervisor_;
  Behaviour behaviour_;
  faults::FaultPlan* faults_;
  NeutronServer neutron_;
  std::map<std::string, std::unique_ptr<ComputeManager>> computes_;
  std::map<std::string, std::unique_ptr<L2Agent>> agents_;
  std::map<std::string, Instance> instances_;
  std::deque<Migration> migrations_;  // deque: pointers stay valid as it grows
  // Resize/cold migration awaiting confirm or revert: instance -> migration.
  std::map<std::string, int> pending_resizes_;
  std::map<int, std::unique_ptr<JobMonitor>> monitors_;
  MonoClock::duration rpc_response_timeout_ = std::chrono::seconds(60);
  std::set<std::string> down_services_;
  MonoClock::duration reply_delay_{};
  // Creates the Migration record of a move of 'uuid' to 'dest' (the
  // scheduler's pick when empty) in 'status'.
  Migration& new_migration(const std::string& uuid, const std::string& dest, MigrationKind kind,
                           const std::string& status);
  // The conductor's checks before any move: instance active and idle,
  // source up, destination known, up and not the source, with RAM free;
  // live: the same hypervisor type, not older; unless 'force', the
  // scheduler's filters (service enabled).
  Status check_move(const Instance* inst, const std::string& uuid, const std::string& dest, bool live, bool force);
  std::map<int, std::pair<std::string, uint64_t>> claims_;  // migration id -> (host, MB)
  // Records a refused request: status 'error', task state cleared.
  StatusOr<int> refuse(Migration& m, Instance* inst, const Status& why);
  std::vector<std::string> vif_events_;
  struct EventWait {
    std::string instance;
    std::vector<std::string> pending;
    std::function<void(Status)> done;  // set once wait_for_events is called
    EventLoop::TimerId deadline_timer = 0;
    bool finished = false;
  };
  // The nova notifier delivering an event to nova's API (fault point
  // neutron.notify.vif_plugged), and nova dispatching it to waiters.
  void notifier_send(const std::string& event, const std::string& port_id);
  void external_instance_event(const std::string& event, const std::string& port_id);
  void finish_wait(int id, Status status);
  std::map<int, EventWait> waits_;
  int next_wait_ = 1;
};

bool is_terminal_migration_status(const std::string& status);

}  // namespace lmh::core
