// The real guest tier: core::Hypervisor on libvirt's C API, one libvirtd per
// lab host (LabHost::libvirt, harness/virt/libvirt_host.h) running real QEMU
// guests (tools/build-guest-image.sh).
//
//   spawn        define + start a domain whose NIC is the GuestSpec's
//                interface: <interface type='bridge'> on a Linux bridge, or
//                with <virtualport type='openvswitch'> on an OVS bridge
//                (libvirt then runs ovs-vsctl against the host's own OVS)
//   live_migrate virDomainMigrateToURI3, peer-to-peer and tunnelled, with
//                the source's migratable XML whose interfaces core replaced
//                (matched by MAC), in a worker thread. libvirt's lifecycle
//                events give the phases: SUSPENDED on the source is the
//                switchover ("guest paused on <src>"), RESUMED on the
//                destination the resume ("guest resumed on <dst>"); QEMU
//                sends its own announce (RARPs) from the destination.
//                After completion QEMU's downtime is read from the
//                destination's completed job (virDomainGetJobStats).
//   migration_job  virDomainGetJobInfo / MigrateSetMaxDowntime / AbortJob /
//                Suspend (nova's force-complete without post-copy), run by a
//                job thread: libvirt holds the domain's job lock through
//                Confirm (seconds under TCG), and a query waiting for it
//                must not stall core's loop. job_info() returns the thread's
//                latest answer; the commands are queued and their outcome
//                recorded on the timeline.
//   announce_self  QMP announce-self through virDomainQemuMonitorCommand
//   guest traffic  RealGuestConfig::traffic_after_resume: a serial command
//                (`ping <peer>`) sent that long after the resume
//
// Threads: core's EventLoop is single-threaded. The migration worker, the
// job thread, guest commands and libvirt's event thread never call into
// core; they put closures into a mutex-guarded inbox that a short periodic
// task on the loop drains (it runs only while something is outstanding: a
// migration, a booting guest, a guest command). Timestamps are taken where
// things happen, so the hand-off delay does not shift the timeline (the
// Timeline itself is thread-safe).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "core/hypervisor.h"
#include "core/job_monitor.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"
#include "harness/lab/lab.h"
#include "harness/virt/accel_probe.h"
#include "harness/virt/libvirt_host.h"

namespace lmh::harness {

// The guest image of the libvirt tier: $LMH_GUEST_DIR when set (used as
// is), else <directory of the running program>/guest, built or refreshed
// there by tools/build-guest-image.sh when the source tree is known.
// Environment error naming the directory and the fix when it is missing.
StatusOr<GuestImage> real_tier_guest_image();

// Where the lab's libvirtds share QEMU's capabilities cache (kept across
// runs: probing QEMU costs seconds per new daemon): $LMH_LIBVIRT_CACHE, else
// <directory of the running program>/libvirt-cache.
std::string real_tier_libvirt_cache_dir();

// A guest's configuration beyond the GuestSpec core passes to spawn().
struct RealGuestConfig {
  std::string ip_cidr;  // lmh.ip on the kernel command line
  std::string gateway;  // lmh.gw ("" for none)
  int memory_mib = 128;
  // After resume on a destination: the guest pings 'traffic_to' once (one
  // echo request, what chronyd's datagram was in seed 001), sent through
  // its serial console this long after the resume.
  std::optional<MonoClock::duration> traffic_after_resume;
  std::string traffic_to;
};

// The lines of a guest's serial log where its kernel complains about a
// virtio device (a corrupt ring: "is not a head", "broken", "Bad ...").
std::vector<std::string> virtio_kernel_errors(const std::string& serial_log);

class LibvirtHypervisor final : public core::Hypervisor {
 public:
  struct Options {
    GuestImage image;
    std::string accel = "tcg";  // "kvm" or "tcg" (probe_accel)
    // Power-on to the guest's ready marker.
    std::chrono::milliseconds boot_timeout = std::chrono::seconds(120);
  };

  // Connects to the libvirtd of every lab host that has one (LabHost::libvirt)
  // and registers for domain lifecycle events. 'faults' may be null
  // (hypervisor.migrate, fabric.port and ovs.vswitchd are consulted).
  static StatusOr<std::unique_ptr<LibvirtHypervisor>> create(Lab& lab, core::EventLoop& loop,
                                                             core::Timeline& timeline, Options options,
                                                             faults::FaultPlan* faults = nullptr);
  // Aborts a migration still running, waits for the worker threads, closes
  // the connections. The domains go with the lab's libvirt hosts.
  ~LibvirtHypervisor() override;
  LibvirtHypervisor(const LibvirtHypervisor&) = delete;
  LibvirtHypervisor& operator=(const LibvirtHypervisor&) = delete;

  // Sets a guest's address, memory and traffic before spawn(); once.
  Status configure_guest(const std::string& instance_uuid, RealGuestConfig config);

  Status spawn(const std::string& host, const core::GuestSpec& spec) override;
  Status power_off(const std::string& host, const std::string& instance_uuid) override;
  void live_migrate(const std::string& instance_uuid, const std::string& source, const std::string& destination,
                    const std::vector<core::GuestInterface>& dest_interfaces,
                    core::LiveMigrationCallbacks callbacks) override;
  core::JobControl* migration_job(const std::string& instance_uuid) override;
  Status announce_self(const std::string& instance_uuid) override;
  std::vector<std::string> hosts_running(const std::string& instance_uuid) override;

  // Has the guest printed its ready marker since it was last powered on?
  bool guest_ready(const std::string& instance_uuid) const;
  // The boot error of a guest that did not come up (its QEMU died, or the
  // marker did not appear within boot_timeout); ok otherwise.
  Status guest_boot_status(const std::string& instance_uuid) const;
  // QEMU's downtime of the guest's last completed live migration, as
  // libvirt reports it on the destination (VIR_DOMAIN_JOB_DOWNTIME).
  std::optional<double> last_downtime_ms(const std::string& instance_uuid) const;
  // Power-on to ready marker of the guest's last boot.
  std::optional<double> last_boot_ms(const std::string& instance_uuid) const;
  // Wall time of the guest's last migration call (virDomainMigrateToURI3).
  std::optional<double> last_migration_ms(const std::string& instance_uuid) const;
  const std::string& accel() const { return options_.accel; }

  // Runs 'command' on the guest over its serial console on the host it runs
  // on (tools/build-guest-image.sh's protocol) and returns what it printed
  // before its LMH-DONE line; an error when the console does not answer
  // within 'timeout'. Blocks the caller: for after the measurement, when
  // the loop has nothing outstanding.
  // The kernel's complaints about its virtio devices in the guest's
  // serial log on the host it runs on ("virtio_net virtio0: output.0:id 0
  // is not a head!"): a ring the driver found corrupt is broken for good.
  std::vector<std::string> virtio_errors(const std::string& instance_uuid) const;
  // "paused (reason N)" when the guest's domain on its host is not
  // running its vCPUs, "" when it runs (or is gone).
  std::string paused_state(const std::string& instance_uuid);
  StatusOr<std::string> console_command(const std::string& instance_uuid, const std::string& command,
                                        std::chrono::milliseconds timeout);
  // Copies each guest's serial console log from every host it ran on into
  // 'dir' as "<prefix><host>-<guest name>.serial.log"; the file names
  // written. The logs live in the hosts' state directories, which teardown
  // removes.
  std::vector<std::string> copy_serial_logs(const std::string& dir, const std::string& prefix) const;

 private:
  struct Guest;
  struct Migration;
  struct Shared;  // what threads share with the loop: the inbox
  struct HostConnection;

  LibvirtHypervisor(Lab& lab, core::EventLoop& loop, core::Timeline& timeline, Options options,
                    faults::FaultPlan* faults);
  Status connect_hosts();
  HostConnection* host_connection(const std::string& host);
  // The domain XML for 'spec' on 'host' (its serial socket and log there).
  StatusOr<std::string> domain_xml(Guest& g, const std::string& host, const core::GuestSpec& spec);
  // Loop thread: handles a lifecycle event of domain 'uuid' on 'host'.
  void on_lifecycle(const std::string& host, const std::string& uuid, int event, int detail, MonoTime t);
  // Loop thread: the worker's result.
  void finish_migration(const std::shared_ptr<Migration>& m, Status result);
  void deliver_paused(Migration& m, MonoTime t);
  void deliver_resumed(Migration& m, MonoTime t);
  void start_worker(const std::shared_ptr<Migration>& m);
  // Worker thread: what virDomainMigrateToURI3 of 'm' returned, with QEMU's
  // figures from the destination's completed job.
  struct MigrateCallResult {
    Status status;
    double call_ms = 0;
    std::optional<unsigned long long> downtime_ms, job_ms;
    std::string note;
  };
  static MigrateCallResult migrate_to_uri3(const Migration& m);
  // Starts the thread that queries and controls 'm''s job on the source.
  void job_thread(const std::shared_ptr<Migration>& m);
  void schedule_traffic(Guest& g);
  // guest.freeze: starts the vCPUs of a guest migrated paused.
  void unfreeze(const std::string& uuid, const std::string& host);
  // Keeps the inbox pump running while anything is outstanding.
  void ensure_pump();
  void pump();
  bool outstanding() const;
  // Fault points reached at switchover, as on the emulated tier.
  void join_threads(bool abort_migrations);

  Lab& lab_;
  core::EventLoop& loop_;
  core::Timeline& timeline_;
  Options options_;
  faults::FaultPlan* faults_;
  std::shared_ptr<Shared> shared_;
  std::map<std::string, std::unique_ptr<HostConnection>> hosts_;
  std::map<std::string, std::unique_ptr<Guest>> guests_;
  bool pump_scheduled_ = false;
  int commands_in_flight_ = 0;
  std::vector<std::thread> threads_;
  bool events_acquired_ = false;
};

}  // namespace lmh::harness
