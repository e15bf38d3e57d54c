#include "core/compute_manager.h"

#include "core/compute_rpcapi.h"
#include "core/fault_hooks.h"
#include "core/libvirt_xml.h"
#include "core/names.h"
#include "core/os_vif.h"

namespace lmh::core {

namespace {

using faults::ActionKind;
using faults::MigrationPhase;

const auto kComputePreLiveMigration = faults::define_fault_point({
    .name = "compute.pre_live_migration",
    .description = "destination compute pre_live_migration: plugs VIFs, sets binding:profile migrating_to",
    .actions = {ActionKind::kDelay, ActionKind::kFail, ActionKind::kCrash},
    .phase = MigrationPhase::kPrepare,
    .fatal = {.live = {ActionKind::kFail, ActionKind::kCrash}},
});
const auto kComputePostLiveMigration = faults::define_fault_point({
    .name = "compute.post_live_migration",
    .description = "source compute post_live_migration: unplugs source VIFs, hands over to the destination",
    .actions = {ActionKind::kDelay, ActionKind::kFail},
    .phase = MigrationPhase::kConfirm,
    .fatal = {.live = {ActionKind::kFail}},
});

}  // namespace

ComputeManager::ComputeManager(NovaServices services, HostConfig config, HostNetwork& net)
    : s_(services), config_(std::move(config)), net_(net) {}

Status ComputeManager::plug_vifs(const Instance& instance, bool provide_vlan) {
  for (const auto& port_id : instance.port_ids) {
    auto vif = s_.neutron.vif_for(port_id, config_.name);
    if (!vif.ok()) return vif.status();
    LMH_RETURN_IF_ERROR(plug_vif(*vif, instance.uuid, provide_vlan));
  }
  return ok_status();
}

Status ComputeManager::plug_vif(const Vif& vif, const std::string& instance_uuid, bool provide_vlan) {
  if (vif.vif_type == "ovs") {
    if (!config_.ovs || !config_.links)
      return failed_precondition("host " + config_.name + " cannot plug an ovs vif: no Open vSwitch here");
    return plug_ovs(vif, instance_uuid, net_, *config_.links, *config_.ovs, s_.timeline, source());
  }
  if (vif.vif_type != "bridge") return invalid_argument("unsupported vif_type " + vif.vif_type);
  LinuxBridgePlugOptions opts;
  opts.should_provide_vlan = provide_vlan;
  auto m = config_.physical_interface_mappings.find(vif.network.physnet);
  if (m != config_.physical_interface_mappings.end()) opts.bridge_interface = m->second;
  else if (provide_vlan && vif.network.network_type == "vlan")
    return failed_precondition("no bridge_interface for physnet " + vif.network.physnet);
  return plug_linux_bridge(vif, opts, net_, s_.timeline, source());
}

GuestInterface ComputeManager::guest_interface(const Vif& vif, DestXmlBridge mode) const {
  // Plain OVS carries <virtualport type='openvswitch'>: libvirt adds the tap
  // to that (OVS) bridge with the port's external_ids. Hybrid plugs into qbr,
  // a Linux bridge, like the linuxbridge backend.
  std::string type = vif.vif_type == "ovs" && !is_hybrid_plug(vif) ? "openvswitch" : "bridge";
  GuestInterface gi{vif.mac, vif.devname, interface_bridge(vif, mode), type, ""};
  if (type == "openvswitch") gi.interface_id = vif.ovs_interfaceid.empty() ? vif.port_id : vif.ovs_interfaceid;
  return gi;
}

Status ComputeManager::spawn(const std::string& uuid) {
  Instance* inst = s_.db.instance(uuid);
  LMH_RETURN_IF_ERROR(plug_vifs(*inst, false));
  GuestSpec spec{inst->uuid, inst->name, {}};
  for (const auto& port_id : inst->port_ids) {
    auto vif = s_.neutron.vif_for(port_id, config_.name);
    if (!vif.ok()) return vif.status();
    // A boot builds the model from this host's own binding: both modes agree.
    spec.interfaces.push_back(guest_interface(*vif, DestXmlBridge::kDestination));
  }
  s_.timeline.record(source(), "spawn " + uuid.substr(0, 8));
  return s_.hypervisor.spawn(config_.name, spec);
}

Status ComputeManager::pre_live_migration(const std::string& uuid, const std::string& src) {
  Instance* inst = s_.db.instance(uuid);
  if (!inst) return not_found("instance " + uuid);
  s_.timeline.record(source(), "pre_live_migration " + uuid.substr(0, 8) + " from " + src);
  faults::Decision d = consult_fault(s_.faults, s_.timeline, kComputePreLiveMigration);
  switch (d.kind) {
    case faults::ActionKind::kFail:
      return unavailable(d.message);
    case faults::ActionKind::kCrash:
      // The destination compute dies before doing anything: no reply.
      s_.rpc.crash_service(config_.name);
      return unavailable("nova-compute on " + config_.name + " died");
    case faults::ActionKind::kDelay:
      s_.rpc.delay_reply(d.delay);  // a slow prepare: the reply is late
      break;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(s_.timeline, kComputePreLiveMigration, d);
  }
  // nova (multiple port bindings): plug migrate_data.vifs[].get_dest_vif(),
  // the source's network model with this host's vif type and details. Its
  // network bridge is what os-vif plugs into: the source's (as shipped, so a
  // plain-OVS plug creates an OVS bridge named brq..., seed 000) or the
  // destination binding's (the fix).
  for (const auto& port_id : inst->port_ids) {
    auto vif = s_.hosts.compute(src)->destination_vif(port_id, config_.name);
    if (!vif.ok()) return vif.status();
    Vif plug = *vif;
    plug.network_bridge = os_vif_network_bridge(plug, s_.behaviour.dest_xml_bridge);
    LMH_RETURN_IF_ERROR(plug_vif(plug, uuid, s_.behaviour.pre_plug_vlan_uplink));
  }
  // The port update that announces the destination to neutron (seed 001:
  // in Queens this update itself produced a premature network-vif-plugged).
  for (const auto& port_id : inst->port_ids) {
    LMH_RETURN_IF_ERROR(s_.neutron.update_profile(port_id, "migrating_to", config_.name));
  }
  return ok_status();
}

void ComputeManager::live_migration(const std::string& uuid, const std::string& dest, int mid) {
  Migration* mig = s_.db.migration(mid);
  s_.db.set_status(*mig, MigrationStatus::kPreparing);
  ComputeManager* dst = s_.hosts.compute(dest);
  // migrate_data.wait_for_vif_plugged comes from the destination's config
  // (check_can_live_migrate_destination); the events are registered before
  // pre_live_migration so that none can slip past.
  std::vector<std::string> events;
  if (dst->config().live_migration_wait_for_vif_plug) {
    for (const auto& port_id : s_.db.instance(uuid)->port_ids) {
      // _get_neutron_events_for_live_migration: with the plug-time filter,
      // only a hybrid-plug destination VIF sends its event when plugged.
      if (s_.behaviour.wait_only_for_plug_time_events) {
        auto vif = s_.neutron.vif_for(port_id, dest);
        if (!vif.ok() || !is_hybrid_plug(*vif)) continue;
      }
      events.push_back("network-vif-plugged-" + port_id);
    }
  }
  int wait = s_.events.prepare(uuid, events);
  const std::string src = config_.name;
  const size_t n_events = events.size();
  s_.rpc.call(
      compute_rpcapi::kPreLiveMigration, dest, [dst, uuid, src] { return dst->pre_live_migration(uuid, src); },
      [this, uuid, dest, mid, wait, n_events](Status s) {
        if (!s.ok()) {
          s_.events.cancel(wait);
          rollback_live_migration(uuid, dest, mid, s.with_context("pre_live_migration"));
          return;
        }
        if (n_events)
          s_.timeline.record(source(), "waiting for " + std::to_string(n_events) + " network-vif-plugged event(s)");
        s_.events.wait(wait, config_.vif_plugging_timeout, [this, uuid, dest, mid](Status st) {
          if (!st.ok()) {
            s_.timeline.record(source(), st.message());
            if (config_.vif_plugging_is_fatal) {
              rollback_live_migration(uuid, dest, mid, st.with_context("vif_plugging_is_fatal"));
              return;
            }
            s_.timeline.record(source(), "continuing: vif_plugging_is_fatal=false");
          }
          start_live_migration_job(uuid, dest, mid);
        });
      });
}

void ComputeManager::start_live_migration_job(const std::string& uuid, const std::string& dest, int mid) {
  s_.db.set_status(*s_.db.migration(mid), MigrationStatus::kRunning);
  // The destination domain XML's interfaces (get_updated_guest_xml).
  std::vector<GuestInterface> dest_ifaces;
  for (const auto& port_id : s_.db.instance(uuid)->port_ids) {
    auto vif = destination_vif(port_id, dest);
    if (!vif.ok()) {
      rollback_live_migration(uuid, dest, mid, vif.status());
      return;
    }
    GuestInterface gi = s_.hosts.compute(dest)->guest_interface(*vif, s_.behaviour.dest_xml_bridge);
    s_.timeline.record(source(), "destination XML: " + gi.target_dev + " on " + gi.bridge + " (" + gi.type +
                                           ", vif_type " + vif->vif_type + ", dest_xml_bridge=" +
                                           dest_xml_bridge_name(s_.behaviour.dest_xml_bridge) + ")");
    dest_ifaces.push_back(gi);
  }
  s_.timeline.record(source(), "driver live_migration to " + dest);
  LiveMigrationCallbacks cb;
  cb.on_paused = [this] { s_.timeline.record(source(), "guest paused for switchover"); };
  cb.on_resumed = [this, dest] { s_.timeline.record("compute." + dest, "guest resumed"); };
  cb.on_done = [this, uuid, dest, mid](Status st) {
    if (st.ok()) post_live_migration(uuid, dest, mid);
    else rollback_live_migration(uuid, dest, mid, st.with_context("live_migration"));
  };
  s_.hypervisor.live_migrate(uuid, config_.name, dest, dest_ifaces, std::move(cb));
  // _live_migration_monitor: downtime steps, completion timeout. The job's
  // own completion (above) drives post or rollback; the monitor only acts.
  if (JobControl* job = s_.hypervisor.migration_job(uuid)) {
    double data_gb = live_migration_data_gb(s_.db.instance(uuid)->memory_mb);
    JobMonitorOptions options;
    options.source = source();
    auto monitor = std::make_unique<JobMonitor>(s_.loop, s_.timeline, *job, config_.libvirt, data_gb,
                                                std::chrono::milliseconds(500), options);
    Status started = monitor->start([this](Status st) {
      s_.timeline.record(source(), "job monitor done: " + st.to_string());
    });
    if (!started.ok()) s_.timeline.record(source(), "job monitor not started: " + started.to_string());
    else monitors_[mid] = std::move(monitor);
  }
}

StatusOr<Vif> ComputeManager::destination_vif(const std::string& port_id, const std::string& dest) {
  // nova's migrate_data VIF.get_dest_vif: a copy of the source VIF (its
  // network model, bridge included) with the destination binding's type and
  // details swapped in.
  auto src_vif = s_.neutron.vif_for(port_id, config_.name);
  auto dst_vif = s_.neutron.vif_for(port_id, dest);
  if (!dst_vif.ok()) return dst_vif.status();
  if (!src_vif.ok()) return src_vif.status();
  Vif v = *src_vif;
  v.vif_type = dst_vif->vif_type;
  v.details = dst_vif->details;
  v.ovs_interfaceid = dst_vif->ovs_interfaceid;
  return v;
}

void ComputeManager::post_live_migration(const std::string& uuid, const std::string& dest, int mid) {
  s_.timeline.record(source(), "post_live_migration");
  // No rollback after this point: the guest already runs on the destination.
  faults::Decision d = consult_fault(s_.faults, s_.timeline, kComputePostLiveMigration);
  switch (d.kind) {
    case faults::ActionKind::kFail:
      s_.timeline.record(source(), "post_live_migration failed: " + d.message);
      s_.db.set_status(*s_.db.migration(mid), MigrationStatus::kError);
      return;
    case faults::ActionKind::kDelay:
      // A slow source (e.g. volume detach): everything after waits.
      s_.loop.post_after(d.delay, [this, uuid, dest, mid] { finish_post_live_migration(uuid, dest, mid); });
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(s_.timeline, kComputePostLiveMigration, d);
  }
  finish_post_live_migration(uuid, dest, mid);
}

void ComputeManager::finish_post_live_migration(const std::string& uuid, const std::string& dest, int mid) {
  Instance* inst = s_.db.instance(uuid);
  for (const auto& port_id : inst->port_ids) {
    auto vif = s_.neutron.vif_for(port_id, config_.name);
    if (vif.ok()) (void)unplug_linux_bridge(*vif, net_);
  }
  s_.rpc.call(
      compute_rpcapi::kPostLiveMigrationAtDestination, dest,
      [this, dest, uuid] { return s_.hosts.compute(dest)->post_live_migration_at_destination(uuid); },
      [this, uuid, mid](Status s) {
        if (!s.ok()) s_.timeline.record(source(), "post_live_migration_at_destination failed: " + s.to_string());
        // The source binding is now INACTIVE; nova removes it from the old
        // host, but only once the destination's is active (else the port
        // would have none).
        if (s.ok())
          for (const auto& port_id : s_.db.instance(uuid)->port_ids)
            (void)s_.neutron.delete_binding(port_id, config_.name);
        s_.db.set_status(*s_.db.migration(mid), s.ok() ? MigrationStatus::kCompleted : MigrationStatus::kError);
      });
}

Status ComputeManager::post_live_migration_at_destination(const std::string& uuid) {
  Instance* inst = s_.db.instance(uuid);
  s_.timeline.record(source(), "post_live_migration_at_destination");
  for (const auto& port_id : inst->port_ids) {
    LMH_RETURN_IF_ERROR(s_.neutron.activate_binding(port_id, config_.name));
    LMH_RETURN_IF_ERROR(s_.neutron.update_profile(port_id, "migrating_to", std::nullopt));
  }
  inst->host = config_.name;
  inst->task_state.clear();
  s_.timeline.record(source(), "instance host = " + config_.name);
  const Behaviour& b = s_.behaviour;
  if (b.announce_self_after_migration) {
    // The libvirt driver's _qemu_monitor_announce_self: count attempts,
    // interval apart, the first at once.
    for (int i = 0; i < b.announce_self_count; ++i) {
      s_.loop.post_after(std::chrono::milliseconds(b.announce_self_interval_ms) * i, [this, uuid, i] {
        s_.timeline.record(source(), "qemu monitor announce_self " + std::to_string(i + 1));
        Status s = s_.hypervisor.announce_self(uuid);
        if (!s.ok()) s_.timeline.record(source(), "announce_self failed: " + s.message());
      });
    }
  }
  return ok_status();
}

// ---------------------------------------------------------------- cold migration / resize

void ComputeManager::cast_or_error(const faults::FaultPointDescriptor& cast, const std::string& host,
                                   std::function<void()> deliver, const std::string& uuid, int mid) {
  // A cast that cannot be sent raises in the sender, whose migration ends
  // in 'error' (nova's errors_out_migration).
  Status sent = s_.rpc.cast(cast, host, std::move(deliver));
  if (sent.ok()) return;
  s_.timeline.record(source(), rpc_method(cast) + ": " + sent.message());
  if (Instance* inst = s_.db.instance(uuid)) inst->task_state.clear();
  s_.db.set_status(*s_.db.migration(mid), MigrationStatus::kError);
}

void ComputeManager::prep_resize(const std::string& uuid, int mid) {
  s_.timeline.record(source(), "prep_resize: resource claim for " + uuid.substr(0, 8));
  Migration& m = *s_.db.migration(mid);
  // The binding for this host is made now, inactive, like a live migration's.
  for (const auto& port_id : s_.db.instance(uuid)->port_ids) {
    Status s = s_.neutron.create_binding(port_id, config_.name);
    if (!s.ok()) {
      s_.timeline.record(source(), "prep_resize failed: " + s.message());
      s_.db.instance(uuid)->task_state.clear();
      s_.db.set_status(m, MigrationStatus::kError);
      return;
    }
  }
  s_.db.instance(uuid)->task_state = "resize_migrating";
  std::string src = m.source;
  cast_or_error(compute_rpcapi::kResizeInstance, src, [this, uuid, mid, src] { s_.hosts.compute(src)->resize_instance(uuid, mid); },
                uuid, mid);
}

void ComputeManager::resize_instance(const std::string& uuid, int mid) {
  Migration& m = *s_.db.migration(mid);
  s_.db.set_status(m, MigrationStatus::kMigrating);
  // migrate_disk_and_power_off: the guest stops here; its taps go with it.
  Status s = s_.hypervisor.power_off(config_.name, uuid);
  if (!s.ok()) {
    s_.timeline.record(source(), "resize_instance failed: " + s.message());
    for (const auto& port_id : s_.db.instance(uuid)->port_ids) (void)s_.neutron.delete_binding(port_id, m.dest);
    s_.db.instance(uuid)->task_state.clear();
    s_.db.set_status(m, MigrationStatus::kError);
    return;
  }
  s_.timeline.record(source(), "resize_instance: powered off, disk moved");
  s_.db.set_status(m, MigrationStatus::kPostMigrating);
  s_.db.instance(uuid)->task_state = "resize_migrated";
  std::string dest = m.dest;
  cast_or_error(compute_rpcapi::kFinishResize, dest, [this, uuid, mid, dest] { s_.hosts.compute(dest)->finish_resize(uuid, mid); },
                uuid, mid);
}

void ComputeManager::finish_resize(const std::string& uuid, int mid) {
  Migration& m = *s_.db.migration(mid);
  Instance& inst = *s_.db.instance(uuid);
  s_.timeline.record(source(), "finish_resize");
  // migrate_instance_finish: the port's binding moves to this host.
  Status s;
  for (const auto& port_id : inst.port_ids) {
    if (s.ok()) s = s_.neutron.activate_binding(port_id, config_.name);
  }
  if (s.ok()) s = plug_vifs(inst, s_.behaviour.pre_plug_vlan_uplink);
  if (s.ok()) {
    inst.host = config_.name;
    s = spawn(uuid);  // define, plug taps, power on
  }
  if (!s.ok()) {
    s_.timeline.record(source(), "finish_resize failed: " + s.message());
    s_.db.set_status(m, MigrationStatus::kError);
    inst.vm_state = "error";
    inst.task_state.clear();
    return;
  }
  inst.vm_state = "resized";
  inst.task_state.clear();
  s_.db.set_status(m, MigrationStatus::kFinished);
  s_.db.note_pending_resize(uuid, mid);
}

void ComputeManager::confirm_resize(const std::string& uuid, int mid) {
  Migration& m = *s_.db.migration(mid);
  Instance& inst = *s_.db.instance(uuid);
  s_.timeline.record(source(), "confirm_resize: source cleanup");
  for (const auto& port_id : inst.port_ids) {
    auto vif = s_.neutron.vif_for(port_id, config_.name);
    if (vif.ok() && vif->vif_type == "bridge") (void)unplug_linux_bridge(*vif, net_);
    (void)s_.neutron.delete_binding(port_id, config_.name);
  }
  inst.vm_state = "active";
  s_.db.set_status(m, MigrationStatus::kConfirmed);
}

void ComputeManager::revert_resize(const std::string& uuid, int mid) {
  Migration& m = *s_.db.migration(mid);
  Instance& inst = *s_.db.instance(uuid);
  s_.timeline.record(source(), "revert_resize: destroy here");
  Status s = s_.hypervisor.power_off(config_.name, uuid);
  if (!s.ok()) s_.timeline.record(source(), "revert_resize: power off failed: " + s.message());
  // The binding goes back to the source; this host's is deleted.
  for (const auto& port_id : inst.port_ids) {
    (void)s_.neutron.activate_binding(port_id, m.source);
    (void)s_.neutron.delete_binding(port_id, config_.name);
  }
  std::string src = m.source;
  cast_or_error(compute_rpcapi::kFinishRevertResize, src,
                [this, uuid, mid, src] { s_.hosts.compute(src)->finish_revert_resize(uuid, mid); }, uuid, mid);
}

void ComputeManager::finish_revert_resize(const std::string& uuid, int mid) {
  Migration& m = *s_.db.migration(mid);
  Instance& inst = *s_.db.instance(uuid);
  s_.timeline.record(source(), "finish_revert_resize");
  Status s = plug_vifs(inst, false);
  if (s.ok()) {
    inst.host = config_.name;
    s = spawn(uuid);
  }
  if (!s.ok()) {
    s_.timeline.record(source(), "finish_revert_resize failed: " + s.message());
    inst.vm_state = "error";
    s_.db.set_status(m, MigrationStatus::kError);
    return;
  }
  inst.vm_state = "active";
  inst.task_state.clear();
  s_.db.set_status(m, MigrationStatus::kReverted);
}

void ComputeManager::rollback_live_migration(const std::string& uuid, const std::string& dest,
                                             int mid, const Status& why) {
  s_.timeline.record(source(), "rollback_live_migration: " + why.to_string());
  // An aborted job (the monitor's completion timeout, an operator) is
  // 'cancelled', anything else 'error', as nova's recover_method records.
  const MigrationStatus status = why.code() == StatusCode::kCancelled ? MigrationStatus::kCancelled : MigrationStatus::kError;
  s_.rpc.call(
      compute_rpcapi::kRollbackLiveMigrationAtDestination, dest,
      [this, dest, uuid] {
        s_.hosts.compute(dest)->rollback_live_migration_at_destination(uuid);
        return ok_status();
      },
      [this, uuid, mid, status](Status s) {
        if (!s.ok()) s_.timeline.record(source(), "rollback at destination failed: " + s.to_string());
        if (Instance* inst = s_.db.instance(uuid)) inst->task_state.clear();
        s_.db.set_status(*s_.db.migration(mid), status);
      });
}

void ComputeManager::rollback_live_migration_at_destination(const std::string& uuid) {
  Instance* inst = s_.db.instance(uuid);
  s_.timeline.record(source(), "rollback_live_migration_at_destination");
  for (const auto& port_id : inst->port_ids) {
    auto vif = s_.neutron.vif_for(port_id, config_.name);
    if (vif.ok()) (void)unplug_linux_bridge(*vif, net_);
    (void)s_.neutron.update_profile(port_id, "migrating_to", std::nullopt);
    (void)s_.neutron.delete_binding(port_id, config_.name);
  }
}

}  // namespace lmh::core
