// A lab host of the real-guest tier: its own libvirtd, run inside the host's
// network namespace plus a private mount and UTS namespace. Per-host
// directories under 'state_dir' are bind-mounted over the paths libvirtd
// hard-codes (/run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt,
// /var/cache/libvirt), so several libvirtds coexist on one machine and none
// of them touches (or depends on) a system libvirtd. Each has its own
// hostname and host UUID, which is what lets libvirt migrate between them
// (it refuses a "migration to the same host").
//
// Mounts live in the daemon's private mount namespace and vanish with its
// processes (libvirtd and the QEMUs it starts); nothing is mounted in the
// caller's namespace. The only trace outside 'state_dir' is a set of empty
// mount-point directories (/run/libvirt, ...) created when missing.
//
// libvirtd gets PR_SET_PDEATHSIG, so it dies with the thread that started it;
// QEMU processes outlive it, and are found again through their pid files
// (<state_dir>/run/qemu/<domain>.pid) or, from `lmh cleanup`, as processes
// of the lab's network namespace.
#pragma once

#include <libvirt/libvirt.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/status.h"
#include "harness/system/process.h"

namespace lmh::harness {

struct LibvirtConnectionCloser {
  void operator()(virConnectPtr c) const { if (c) virConnectClose(c); }
};
struct LibvirtDomainFreer {
  void operator()(virDomainPtr d) const { if (d) virDomainFree(d); }
};
using LibvirtConnection = std::unique_ptr<virConnect, LibvirtConnectionCloser>;
using LibvirtDomain = std::unique_ptr<virDomain, LibvirtDomainFreer>;

// libvirt's last error on this thread as a Status: "'context': <message>".
// The first open_libvirt() or LibvirtHost::start() installs an error handler
// that keeps libvirt from printing errors on stderr (they are read from
// here instead) and ignores SIGPIPE, which libvirt requires of its clients.
Status libvirt_error(const std::string& context, StatusCode code = StatusCode::kInternal);

// Opens a read-write connection to 'uri'. Unavailable when the daemon does
// not answer (yet).
StatusOr<LibvirtConnection> open_libvirt(const std::string& uri);

class LibvirtHost {
 public:
  struct Options {
    // Host name: the UTS hostname libvirtd sees (and reports to migration
    // peers). Letters, digits, '-' and '.', at most 63 characters.
    std::string name;
    // The host's network namespace: an open fd (used when >= 0, not taken
    // over) or a name under /run/netns.
    int netns_fd = -1;
    std::string netns_name;
    // Per-host directory (absolute) for run/, lib/, etc/, log/, cache/, the
    // daemon's log and pid file. Created (wiped when a dead host left it),
    // removed at destruction.
    std::string state_dir;
    // Where /var/cache/libvirt points; empty: <state_dir>/cache. Hosts that
    // share one keep one QEMU capabilities cache (probing QEMU costs seconds
    // at a host's first domain, and again at its first incoming migration).
    // A shared directory is kept at destruction.
    std::string cache_dir;
    // The host's own Open vSwitch run directory (where its db.sock is), or
    // "": libvirtd then runs with OVS_RUNDIR set to it, so the ovs-vsctl it
    // runs for <virtualport type='openvswitch'> reaches this host's
    // ovsdb-server instead of the default /run/openvswitch/db.sock.
    std::string ovs_run_dir;
    // Bound on "started and answering".
    std::chrono::milliseconds start_timeout = std::chrono::seconds(20);
  };

  // Starts libvirtd for 'options' and waits until it answers on uri().
  // Environment when libvirtd or QEMU is not installed; AlreadyExists when
  // a live libvirtd already owns 'state_dir'; DeadlineExceeded when it did
  // not answer in time (the error carries the tail of its log).
  static StatusOr<std::unique_ptr<LibvirtHost>> start(const Options& options);
  // Destroys remaining domains, stops libvirtd (SIGTERM, then SIGKILL),
  // kills QEMU processes it left, removes the state directory.
  ~LibvirtHost();
  LibvirtHost(const LibvirtHost&) = delete;
  LibvirtHost& operator=(const LibvirtHost&) = delete;

  const std::string& name() const { return options_.name; }
  // qemu+unix:///system?socket=<state_dir>/run/libvirt-sock
  const std::string& uri() const { return uri_; }
  pid_t pid() const { return daemon_.pid(); }
  // The host's own connection (valid while the host lives).
  virConnectPtr connection() const { return conn_.get(); }
  const std::string& state_dir() const { return options_.state_dir; }
  std::string log_path() const { return options_.state_dir + "/libvirtd.log"; }
  // Is libvirtd alive and answering on its connection?
  bool healthy();
  // Pids of QEMU processes this host's libvirtd runs (from its pid files).
  std::vector<pid_t> qemu_pids() const;
  // The teardown of the destructor, now (idempotent).
  void stop();

 private:
  explicit LibvirtHost(Options options);
  Status prepare_state_dir();
  Status spawn_daemon();
  Status wait_answering();
  void destroy_domains();
  void kill_leftover_qemus();
  std::string log_tail() const;

  Options options_;
  NetnsFd netns_;
  std::string uri_;
  Daemon daemon_;  // libvirtd
  ino_t mount_ns_ino_ = 0;  // the daemon's mount namespace (QEMUs share it)
  LibvirtConnection conn_;
  bool owns_state_dir_ = false;  // created (or wiped) by us: removed at stop
  bool stopped_ = false;
};

// A minimal real guest (tools/build-guest-image.sh): direct kernel boot, one
// virtio NIC on a Linux bridge, serial console on a unix socket with a log.
struct GuestDomainSpec {
  std::string name;
  std::string accel = "tcg";  // "kvm" or "tcg" (see accel_probe.h)
  int memory_mib = 128;
  std::string kernel;         // vmlinuz
  std::string initrd;         // initramfs.cpio.gz
  std::string ip_cidr;        // lmh.ip, e.g. "10.77.0.5/24"
  std::string gateway;        // lmh.gw ("" for none)
  std::string mac;            // "52:54:00:..."
  std::string bridge;         // <source bridge=...>
  std::string tap;            // <target dev=...> ("" lets libvirt name it vnetN)
  std::string serial_socket;  // the guest's ttyS0 (commands in, output out)
  std::string serial_log;     // everything the guest printed on ttyS0
};

// The libvirt domain XML for 'spec'.
std::string guest_domain_xml(const GuestDomainSpec& spec);

// Marker the guest prints on ttyS0 once eth0 is configured.
inline constexpr const char* kGuestReadyMarker = "LMH-GUEST-READY";

// Sends "'seq' 'command'" on the guest's serial socket 'serial_socket' (see
// tools/build-guest-image.sh for the commands) and waits for its
// "LMH-DONE 'seq' rc=N" line in 'serial_log'; returns N. 'seq' tells this
// command's answer from earlier ones, so use a new one per command.
StatusOr<int> guest_serial_command(const std::string& serial_socket, const std::string& serial_log, int seq,
                                   const std::string& command, std::chrono::milliseconds timeout);

// Waits until file 'path' contains 'text' (at or after byte 'from').
// DeadlineExceeded after 'timeout'.
Status wait_for_file_text(const std::string& path, const std::string& text,
                          std::chrono::milliseconds timeout, size_t from = 0);

}  // namespace lmh::harness
