// The hypervisor side-effect family: what nova's libvirt driver asks libvirt
// to do. The emulated tier implements it with namespaces (harness/), the
// libvirt tier later with libvirtd + QEMU; unit tests use a fake.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/job_monitor.h"
#include "faults/fault_points.h"

namespace lmh::core {

// One guest NIC as the domain XML describes it (<interface type='bridge'>):
// libvirt creates 'target_dev' and attaches it to 'bridge'; it does not
// create the bridge.
struct GuestInterface {
  std::string mac;
  std::string target_dev;  // tap name
  std::string bridge;      // <source bridge=...>
  // "bridge": a Linux bridge; "openvswitch": <virtualport type='openvswitch'>,
  // libvirt adds the tap to that OVS bridge with the port's external_ids.
  std::string type = "bridge";
  std::string interface_id;  // <virtualport><parameters interfaceid=...> (openvswitch)
};

struct GuestSpec {
  std::string instance_uuid;
  std::string name;
  std::vector<GuestInterface> interfaces;
};

// Phases of a live migration, named as libvirt's protocol names them.
struct LiveMigrationCallbacks {
  std::function<void()> on_paused;     // Perform: switchover began on the source
  std::function<void()> on_resumed;    // Finish: guest runs on the destination
  std::function<void(Status)> on_done; // Confirm done (ok) or the job failed
};

// Fault points every implementation consults (defined in hypervisor.cpp:
// part of this interface's contract, and the flow's rules about them are
// core's, core/implied_status.h):
//   kHypervisorMigrate     when the live-migration job starts (its memory copy)
//   kHypervisorSwitchover  when the guest pauses on the source to switch over
//   kGuestAnnounce         at each self-announce round after the resume
// The last two act on the emulated guest only; QEMU switches over and
// announces by itself.
extern const faults::FaultPointDescriptor kHypervisorMigrate;
extern const faults::FaultPointDescriptor kHypervisorSwitchover;
extern const faults::FaultPointDescriptor kGuestAnnounce;

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  // Defines and starts the guest on 'host' (taps attached per 'spec'). Also
  // powers on a guest that was powered off elsewhere (cold migration).
  virtual Status spawn(const std::string& host, const GuestSpec& spec) = 0;
  // Powers the guest off on 'host' and undefines it there: its taps go
  // (migrate_disk_and_power_off, or destroy on revert/confirm).
  virtual Status power_off(const std::string& host, const std::string& instance_uuid) = 0;
  // Starts a live migration of 'instance_uuid' from 'source' to
  // 'destination', whose domain gets 'dest_interfaces' (the destination XML
  // computed by core). Runs asynchronously; reports through 'callbacks'.
  virtual void live_migrate(const std::string& instance_uuid, const std::string& source,
                            const std::string& destination,
                            const std::vector<GuestInterface>& dest_interfaces,
                            LiveMigrationCallbacks callbacks) = 0;
  // The live-migration job of 'instance_uuid' while one is in progress (what
  // nova's monitor polls: virDomainGetJobInfo, SetMaxDowntime, Abort), or
  // nullptr when this hypervisor offers no job control.
  virtual JobControl* migration_job(const std::string& instance_uuid) { return nullptr; }
  // QEMU monitor announce_self: the guest's NIC announces its location again
  // (a full round of RARPs) from wherever it runs.
  virtual Status announce_self(const std::string& instance_uuid) = 0;
  // Hosts on which a domain of 'instance_uuid' is running (for invariants).
  virtual std::vector<std::string> hosts_running(const std::string& instance_uuid) = 0;
};

}  // namespace lmh::core
