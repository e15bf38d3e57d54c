// The fast guest tier. A guest is a namespace whose "NIC" is the bridge eth0
// (guest MAC and IP, so the guest's ARP cache survives a move the way it
// survives in QEMU's RAM), with one port per host attachment: a veth whose
// other end is the tap in the host namespace. An always-up anchor port keeps
// eth0's carrier on (a carrier drop would flush the guest's neighbours).
//
// Live migration does what libvirt + QEMU do, with real timing:
//   Prepare:  the destination tap appears (QEMU -incoming), attached to the
//             bridge named in the destination interface config (libvirt
//             attaches, it never creates the bridge)
//   Perform:  pre-copy for 'precopy', then the guest pauses: the source port
//             leaves eth0
//   Finish:   after 'pause', the destination port joins eth0 (resume) and
//             QEMU's self-announce goes out: 5 RARPs at +0/50/200/450/800 ms
//   Confirm:  the source QEMU exits: its tap disappears
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/job_monitor.h"
#include "core/hypervisor.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"
#include "harness/lab/lab.h"

namespace lmh::harness {

struct EmulatedGuestTiming {
  MonoClock::duration precopy = std::chrono::milliseconds(500);
  MonoClock::duration pause = std::chrono::milliseconds(30);
  // QEMU announce: 5 rounds, 50 ms initial, +100 ms step (qemu_announce_self).
  int announce_rounds = 5;
  MonoClock::duration announce_initial = std::chrono::milliseconds(50);
  MonoClock::duration announce_step = std::chrono::milliseconds(100);
  // A datagram from the guest to 'traffic_to' this long after resume.
  std::optional<MonoClock::duration> traffic_after_resume;
  // Power-on to a running guest (cold migration, revert): it boots, then
  // announces itself with a gratuitous ARP.
  MonoClock::duration boot = std::chrono::milliseconds(1000);
  std::string traffic_to;
};

// Offsets of the announce rounds after resume: 0, 50, 200, 450, 800 ms.
std::vector<MonoClock::duration> announce_offsets(const EmulatedGuestTiming& t);

class EmulatedHypervisor final : public core::Hypervisor {
 public:
  // 'guest_ip_cidr' gives the guest's address; instances get it by name.
  // 'faults' (may be null): hypervisor.migrate, hypervisor.switchover,
  // guest.announce.
  EmulatedHypervisor(Lab& lab, core::EventLoop& loop, core::Timeline& timeline,
                     faults::FaultPlan* faults = nullptr);
  ~EmulatedHypervisor() override;

  // Sets the timing and address of a guest before spawn(); a guest is
  // configured once (timers of a running migration point at it).
  Status configure_guest(const std::string& instance_uuid, std::string ip_cidr, EmulatedGuestTiming timing);

  Status spawn(const std::string& host, const core::GuestSpec& spec) override;
  void live_migrate(const std::string& instance_uuid, const std::string& source,
                    const std::string& destination,
                    const std::vector<core::GuestInterface>& dest_interfaces,
                    core::LiveMigrationCallbacks callbacks) override;
  Status power_off(const std::string& host, const std::string& instance_uuid) override;
  Status announce_self(const std::string& instance_uuid) override;
  std::vector<std::string> hosts_running(const std::string& instance_uuid) override;
  core::JobControl* migration_job(const std::string& instance_uuid) override;

  // The guest's namespace fd (for tests and capture), -1 when unknown.
  int guest_netns_fd(const std::string& instance_uuid) const;

 private:
  struct Guest {
    std::string uuid;
    std::string name;
    std::string ip_cidr;
    EmulatedGuestTiming timing;
    NamedNetns ns;
    std::unique_ptr<Netlink> nl;
    std::string host;  // where it runs
    std::vector<core::GuestInterface> interfaces;
    // The guest's packet socket on eth0, opened once: closing one costs
    // 10-20 ms (synchronize_net) that must not land between announces.
    int packet_fd = -1;
    int eth0_index = 0;
    // The live-migration job while one runs (nova's monitor drives it).
    struct Job final : core::JobControl {
      core::EventLoop* loop = nullptr;
      core::Timeline* timeline = nullptr;
      core::JobInfo::Type type = core::JobInfo::kNone;
      MonoTime started{};
      MonoClock::duration precopy{};
      uint64_t memory_bytes = 128ull << 20;
      core::EventLoop::TimerId precopy_timer = 0;
      std::function<void()> switchover;  // ends pre-copy now
      std::function<void()> cancel;      // aborts during pre-copy
      StatusOr<core::JobInfo> job_info() override;
      Status set_max_downtime(int ms) override;
      Status abort() override;
      Status force_complete() override;
    } job;
    ~Guest();
  };
  // Creates tap 'gi.target_dev' on 'host' attached to 'gi.bridge', with its
  // guest-side end "vif-<host>" in the guest (not yet in eth0).
  Status attach(Guest& g, const std::string& host, const core::GuestInterface& gi);
  Status send_announce(Guest& g, int round);
  // QEMU's announce: 'rounds' RARPs on the announce timer (+0/50/200/450/800
  // ms); 'first_now' sends round 1 synchronously (the resume path).
  // Removes the guest's port 'gi' from 'host' (the OVS row too).
  void detach(const std::string& host, const core::GuestInterface& gi);
  void schedule_announces(Guest& g, bool first_now);
  Status send_traffic(Guest& g);
  // Sends 'frame' out of the guest's eth0 as a broadcast; returns when it
  // left (the moment the timeline records).
  StatusOr<MonoTime> send_broadcast(Guest& g, std::span<const uint8_t> frame);
  // A booting guest's gratuitous ARP (its address, from its MAC, broadcast).
  Status send_gratuitous_arp(Guest& g);
  static std::string guest_port(const std::string& host) { return "vif-" + host; }

  // One live migration in flight, shared by its phases' timers.
  struct LiveMove {
    Guest* guest = nullptr;
    std::string source;
    std::string destination;
    std::vector<core::GuestInterface> dest_interfaces;
    core::LiveMigrationCallbacks cb;
    faults::Decision job_fault;  // hypervisor.migrate
  };
  // libvirt's phases, emulated: Begin and Prepare (the destination's tap),
  // Perform (pre-copy); the switchover pauses the guest on the source; the
  // resume is Finish on the destination (or back on the source when the
  // destination cannot resume it), then Confirm on the source.
  void begin(const std::shared_ptr<LiveMove>& move);
  void switchover(const std::shared_ptr<LiveMove>& move);
  void resume(const std::shared_ptr<LiveMove>& move, const faults::Decision& switchover_fault);

  // Aborts a migration in Perform: the guest stays on 'source', the
  // destination's incoming tap goes.
  void abort_migration(Guest& g, const std::string& source, const std::string& destination,
                       const std::vector<core::GuestInterface>& dest_interfaces);

  Lab& lab_;
  core::EventLoop& loop_;
  core::Timeline& timeline_;
  faults::FaultPlan* faults_;
  std::map<std::string, std::unique_ptr<Guest>> guests_;
};

}  // namespace lmh::harness
