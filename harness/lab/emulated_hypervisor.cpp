#include "harness/lab/emulated_hypervisor.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/packet.h"
#include "common/netns.h"
#include "core/fault_hooks.h"
#include "harness/system/sysctl.h"

namespace lmh::harness {

namespace {

// libvirt gives the host side of a tap the guest MAC with the first byte
// 0xfe, so the bridge never picks it as its own address.
std::string host_side_mac(const std::string& guest_mac) { return "fe" + guest_mac.substr(2); }

std::string ms_text(MonoClock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

std::vector<MonoClock::duration> announce_offsets(const EmulatedGuestTiming& t) {
  std::vector<MonoClock::duration> out;
  MonoClock::duration at{0};
  MonoClock::duration gap = t.announce_initial;
  for (int i = 0; i < t.announce_rounds; ++i) {
    out.push_back(at);
    at += gap;
    gap += t.announce_step;
  }
  return out;
}

EmulatedHypervisor::Guest::~Guest() {
  if (packet_fd >= 0) ::close(packet_fd);
}

EmulatedHypervisor::EmulatedHypervisor(Lab& lab, core::EventLoop& loop, core::Timeline& timeline,
                                       faults::FaultPlan* faults)
    : lab_(lab), loop_(loop), timeline_(timeline), faults_(faults) {}

void EmulatedHypervisor::abort_migration(Guest& g, const std::string& source, const std::string& destination,
                                         const std::vector<core::GuestInterface>& dest_interfaces) {
  (void)g.nl->set_master(guest_port(source), "eth0");  // idempotent when still there
  for (const auto& gi : dest_interfaces) detach(destination, gi);
  timeline_.record("libvirt", "job aborted: guest stays on " + source + ", incoming domain on " + destination + " gone");
}

EmulatedHypervisor::~EmulatedHypervisor() = default;

Status EmulatedHypervisor::configure_guest(const std::string& uuid, std::string ip_cidr,
                                           EmulatedGuestTiming timing) {
  if (guests_.count(uuid)) return Status(StatusCode::kAlreadyExists, "guest " + uuid + " already configured");
  auto g = std::make_unique<Guest>();
  g->uuid = uuid;
  g->ip_cidr = std::move(ip_cidr);
  g->timing = std::move(timing);
  guests_[uuid] = std::move(g);
  return ok_status();
}

int EmulatedHypervisor::guest_netns_fd(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  return it == guests_.end() ? -1 : it->second->ns.fd();
}

Status EmulatedHypervisor::attach(Guest& g, const std::string& host, const core::GuestInterface& gi) {
  LabHost* h = lab_.host(host);
  if (!h) return not_found("host " + host);
  const bool ovs = gi.type == "openvswitch";
  if (!ovs && gi.type != "bridge") return failed_precondition("interface type " + gi.type + " is not supported");
  if (ovs && !h->ovs) return failed_precondition("<virtualport type='openvswitch'> on " + host + ", which runs no Open vSwitch");
  Netlink& hn = h->net->netlink();
  // libvirt fails the same way when <source bridge> names a missing bridge;
  // it creates none (seed 000's brq… OVS bridge came from os-vif's plug).
  if (ovs ? !h->ovs->database().bridge_exists(gi.bridge) : !hn.exists(gi.bridge))
    return failed_precondition(std::string(ovs ? "OVS bridge " : "bridge ") + gi.bridge + " does not exist on " + host);
  LMH_RETURN_IF_ERROR(hn.create_veth(gi.target_dev, guest_port(host), g.ns.fd()));
  Status s = hn.set_mac(gi.target_dev, host_side_mac(gi.mac));
  if (s.ok() && ovs) {
    // As libvirt's virNetDevOpenvswitchAddPort: the tap on the bridge with
    // the port's identity in external_ids, for the OVS agent to find.
    s = h->ovs->database().add_port(gi.bridge, gi.target_dev,
                                    {{"iface-id", gi.interface_id},
                                     {"iface-status", "active"},
                                     {"attached-mac", gi.mac},
                                     {"vm-uuid", g.uuid}},
                                    std::nullopt);
  } else if (s.ok()) {
    s = hn.set_master(gi.target_dev, gi.bridge);
  }
  if (s.ok()) s = hn.set_up(gi.target_dev);
  if (s.ok()) s = g.nl->set_up(guest_port(host));
  if (!s.ok()) detach(host, gi);
  return s;
}

void EmulatedHypervisor::detach(const std::string& host, const core::GuestInterface& gi) {
  LabHost* h = lab_.host(host);
  if (!h) return;
  // libvirt removes the OVS port row with the tap (--if-exists del-port).
  if (gi.type == "openvswitch" && h->ovs) (void)h->ovs->database().delete_port(gi.target_dev);
  (void)h->net->netlink().delete_link(gi.target_dev);
}

Status EmulatedHypervisor::spawn(const std::string& host, const core::GuestSpec& spec) {
  auto it = guests_.find(spec.instance_uuid);
  if (it == guests_.end()) return failed_precondition("guest " + spec.instance_uuid + " not configured");
  Guest& g = *it->second;
  if (spec.interfaces.size() != 1) return invalid_argument("the emulated guest has exactly one NIC");
  const core::GuestInterface& gi = spec.interfaces[0];
  if (g.ns.fd() >= 0) {
    // Powered on again on 'host' (cold migration, resize revert): its disk
    // (the namespace) came along; it boots and announces itself.
    if (!g.host.empty()) return failed_precondition("guest " + spec.name + " is running on " + g.host);
    LMH_RETURN_IF_ERROR(attach(g, host, gi));
    LMH_RETURN_IF_ERROR(g.nl->set_master(guest_port(host), "eth0"));
    g.host = host;
    g.interfaces = spec.interfaces;
    timeline_.record("guest", "powered on on " + host + ", booting");
    Guest* gp = &g;
    loop_.post_after(g.timing.boot, [this, gp, host] {
      if (gp->host != host) return;  // powered off again meanwhile
      timeline_.record(core::EventKind::kGuestBooted, host, "guest", "resumed on " + host + " (booted)");
      Status a = send_gratuitous_arp(*gp);
      if (!a.ok()) timeline_.record("guest", "gratuitous ARP failed: " + a.message());
    });
    return ok_status();
  }
  g.name = spec.name;
  auto ns = lab_.make_namespace("g-" + spec.name);
  if (!ns.ok()) return ns.status();
  g.ns = std::move(ns).value();
  auto nl = Netlink::open(g.ns.fd());
  if (!nl.ok()) return nl.status();
  g.nl = std::move(nl).value();
  Netlink& n = *g.nl;
  // Only eth0 may answer ARP for the guest's address: the anchor and a port
  // not yet (or no longer) in eth0 are up too, and with the default
  // arp_ignore=0 they would answer with their own MACs and teach the peer
  // and the fabric a wrong location.
  LMH_RETURN_IF_ERROR(write_sysctl(g.ns.fd(), "net/ipv4/conf/all/arp_ignore", "1"));
  LMH_RETURN_IF_ERROR(n.create_bridge("eth0"));
  LMH_RETURN_IF_ERROR(n.set_mac("eth0", gi.mac));
  LMH_RETURN_IF_ERROR(n.create_veth("anchor0", "anchor1"));
  LMH_RETURN_IF_ERROR(n.set_master("anchor0", "eth0"));
  LMH_RETURN_IF_ERROR(n.set_up("anchor1"));
  LMH_RETURN_IF_ERROR(n.set_up("anchor0"));
  LMH_RETURN_IF_ERROR(n.add_address("eth0", g.ip_cidr));
  LMH_RETURN_IF_ERROR(n.set_up("eth0"));
  {
    ScopedNetns in(g.ns.fd());
    if (!in.ok()) return in.status();
    g.packet_fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (g.packet_fd < 0) return internal_error(std::string("packet socket: ") + std::strerror(errno));
    g.eth0_index = static_cast<int>(::if_nametoindex("eth0"));
  }
  LMH_RETURN_IF_ERROR(attach(g, host, gi));
  LMH_RETURN_IF_ERROR(n.set_master(guest_port(host), "eth0"));
  g.host = host;
  g.interfaces = spec.interfaces;
  timeline_.record(core::EventKind::kGuestStarted, host, "guest", "started on " + host + ", " + gi.target_dev + " on " + gi.bridge);
  return ok_status();
}

void EmulatedHypervisor::live_migrate(const std::string& uuid, const std::string& source,
                                      const std::string& destination,
                                      const std::vector<core::GuestInterface>& dest_interfaces,
                                      core::LiveMigrationCallbacks cb) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host != source || dest_interfaces.size() != 1) {
    loop_.post([cb] { cb.on_done(failed_precondition("no such guest running on the source")); });
    return;
  }
  auto move = std::make_shared<LiveMove>();
  move->guest = it->second.get();
  move->source = source;
  move->destination = destination;
  move->dest_interfaces = dest_interfaces;
  move->cb = std::move(cb);
  loop_.post([this, move] { begin(move); });
}

void EmulatedHypervisor::begin(const std::shared_ptr<LiveMove>& move) {
  Guest* g = move->guest;
  const std::string& source = move->source;
  const std::string& destination = move->destination;
  const core::GuestInterface& incoming = move->dest_interfaces[0];
  timeline_.record(core::EventKind::kBegin, source, "libvirt", "Begin on " + source);
  Status s = attach(*g, destination, incoming);
  if (!s.ok()) {
    timeline_.record("libvirt", "Prepare on " + destination + " failed: " + s.message());
    move->cb.on_done(s.with_context("Prepare"));
    return;
  }
  timeline_.record(core::EventKind::kPrepare, destination, "libvirt",
                   "Prepare on " + destination + ": " + incoming.target_dev + " attached to " + incoming.bridge);
  // hypervisor.migrate: the job can take longer (a busy guest dirtying
  // memory) or fail at the end of pre-copy.
  faults::Decision job_fault = core::consult_fault(faults_, timeline_, core::kHypervisorMigrate);
  MonoClock::duration precopy = g->timing.precopy;
  if (job_fault.kind == faults::ActionKind::kDelay) precopy += job_fault.delay;
  else if (job_fault.fires() && job_fault.kind != faults::ActionKind::kFail)
    core::fault_not_supported(timeline_, core::kHypervisorMigrate, job_fault);
  move->job_fault = job_fault;
  timeline_.record(core::EventKind::kPerform, source, "libvirt", "Perform: pre-copy " + ms_text(precopy));
  g->job.type = core::JobInfo::kUnbounded;
  g->job.started = loop_.now();
  g->job.precopy = precopy;
  g->job.cancel = [this, move] {
    move->guest->job.type = core::JobInfo::kCancelled;
    abort_migration(*move->guest, move->source, move->destination, move->dest_interfaces);
    move->cb.on_done(cancelled("migration job cancelled"));
  };
  g->job.switchover = [this, move] { switchover(move); };
  g->job.precopy_timer = loop_.post_after(precopy, [g] { g->job.switchover(); });
}

void EmulatedHypervisor::switchover(const std::shared_ptr<LiveMove>& move) {
  Guest* g = move->guest;
  const std::string& source = move->source;
  if (move->job_fault.kind == faults::ActionKind::kFail) {
    g->job.type = core::JobInfo::kFailed;
    abort_migration(*g, source, move->destination, move->dest_interfaces);
    move->cb.on_done(internal_error("migration job failed: " + move->job_fault.message));
    return;
  }
  // The guest stops on the source.
  Status r = g->nl->release(guest_port(source));
  timeline_.record(core::EventKind::kGuestPaused, source, "guest",
                   "paused on " + source + (r.ok() ? "" : " (" + r.message() + ")"));
  move->cb.on_paused();
  // hypervisor.switchover: a delay lengthens the pause (a slow final copy).
  MonoClock::duration pause = g->timing.pause;
  faults::Decision sw = core::consult_fault(faults_, timeline_, core::kHypervisorSwitchover);
  if (sw.kind == faults::ActionKind::kDelay) pause += sw.delay;
  else if (sw.fires() && sw.kind != faults::ActionKind::kFail)
    core::fault_not_supported(timeline_, core::kHypervisorSwitchover, sw);
  lab_.switchover_faults(move->destination, faults_, loop_, timeline_);
  loop_.post_after(pause, [this, move, sw] { resume(move, sw); });
}

void EmulatedHypervisor::resume(const std::shared_ptr<LiveMove>& move, const faults::Decision& sw) {
  Guest* g = move->guest;
  const std::string& source = move->source;
  const std::string& destination = move->destination;
  // hypervisor.switchover fail: the destination cannot resume it.
  Status m = sw.kind == faults::ActionKind::kFail ? internal_error("resume failed: " + sw.message)
                                                  : g->nl->set_master(guest_port(destination), "eth0");
  if (!m.ok()) {
    // As QEMU does when the destination fails: the guest resumes on the
    // source and the destination's incoming domain goes away.
    timeline_.record("guest", "resume on " + destination + " failed: " + m.message());
    (void)g->nl->set_master(guest_port(source), "eth0");
    for (const auto& gi : move->dest_interfaces) detach(destination, gi);
    timeline_.record(core::EventKind::kGuestResumed, source, "guest", "resumed on " + source + " (migration failed)");
    g->job.type = core::JobInfo::kFailed;
    move->cb.on_done(m.with_context("Finish"));
    return;
  }
  g->job.type = core::JobInfo::kCompleted;
  g->host = destination;
  const std::vector<core::GuestInterface> source_interfaces = g->interfaces;
  g->interfaces = move->dest_interfaces;
  timeline_.record(core::EventKind::kGuestResumed, destination, "guest", "resumed on " + destination);
  timeline_.record(core::EventKind::kFinish, destination, "libvirt", "Finish on " + destination);
  move->cb.on_resumed();
  // QEMU announces from the destination right after resume; the first
  // round goes now, before anything else the loop has to do.
  schedule_announces(*g, /*first_now=*/true);
  if (g->timing.traffic_after_resume) {
    loop_.post_after(*g->timing.traffic_after_resume, [this, g] {
      Status t = send_traffic(*g);
      if (!t.ok()) timeline_.record("guest", "traffic failed: " + t.message());
    });
  }
  // Confirm: the source QEMU exits and takes its tap with it.
  loop_.post([this, move, source_interfaces] {
    for (const auto& gi : source_interfaces) detach(move->source, gi);
    timeline_.record(core::EventKind::kConfirm, move->source, "libvirt",
                     "Confirm on " + move->source + ": source domain gone");
    move->cb.on_done(ok_status());
  });
}

core::JobControl* EmulatedHypervisor::migration_job(const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end()) return nullptr;
  Guest::Job& job = it->second->job;
  job.loop = &loop_;
  job.timeline = &timeline_;
  job.type = core::JobInfo::kNone;  // a new job, not started yet
  return &job;
}

StatusOr<core::JobInfo> EmulatedHypervisor::Guest::Job::job_info() {
  core::JobInfo info;
  info.type = type;
  info.memory_total = memory_bytes;
  if (type == core::JobInfo::kUnbounded) {
    info.elapsed = loop->now() - started;
    // Pre-copy progress, linear in time (the emulation copies no memory).
    double done = precopy.count() > 0 ? std::min(1.0, double(info.elapsed.count()) / double(precopy.count())) : 1.0;
    info.memory_processed = static_cast<uint64_t>(done * double(memory_bytes));
    info.memory_remaining = memory_bytes - info.memory_processed;
  }
  return info;
}

Status EmulatedHypervisor::Guest::Job::set_max_downtime(int ms) {
  // Recorded only: the emulated switchover pause is the scenario's.
  timeline->record("libvirt", "migrate-setmaxdowntime " + std::to_string(ms) + " ms");
  return ok_status();
}

Status EmulatedHypervisor::Guest::Job::abort() {
  if (type != core::JobInfo::kUnbounded) return failed_precondition("no migration job in pre-copy to abort");
  loop->cancel(precopy_timer);
  timeline->record("libvirt", "job abort");
  loop->post(cancel);
  return ok_status();
}

Status EmulatedHypervisor::Guest::Job::force_complete() {
  if (type != core::JobInfo::kUnbounded) return failed_precondition("no migration job in pre-copy to complete");
  loop->cancel(precopy_timer);
  timeline->record("libvirt", "job force complete: switchover now");
  loop->post(switchover);
  return ok_status();
}

Status EmulatedHypervisor::send_announce(Guest& g, int round) {
  auto mac = capture::parse_mac(g.interfaces.at(0).mac);
  if (!mac) return invalid_argument("bad guest MAC");
  auto frame = capture::build_rarp_announce(*mac);
  auto sent = send_broadcast(g, frame);
  if (!sent.ok()) return sent.status().with_context("send RARP");
  timeline_.record_at(*sent, core::EventKind::kAnnounceSent, g.host, "guest", "announce RARP " + std::to_string(round));
  return ok_status();
}

StatusOr<MonoTime> EmulatedHypervisor::send_broadcast(Guest& g, std::span<const uint8_t> frame) {
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = g.eth0_index;
  addr.sll_halen = ETH_ALEN;
  std::memset(addr.sll_addr, 0xff, ETH_ALEN);
  ssize_t n = ::sendto(g.packet_fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  MonoTime sent = MonoClock::now();
  if (n != static_cast<ssize_t>(frame.size())) return internal_error(std::strerror(errno));
  return sent;
}

Status EmulatedHypervisor::send_traffic(Guest& g) {
  ScopedNetns in(g.ns.fd());
  if (!in.ok()) return in.status();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return internal_error("udp socket");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(123);  // what chronyd sends (seed 001)
  ::inet_pton(AF_INET, g.timing.traffic_to.c_str(), &to.sin_addr);
  const char payload[48] = {0x23};  // an NTP v4 client request header
  ssize_t n = ::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  int err = errno;
  ::close(fd);
  if (n < 0) return internal_error(std::string("send NTP: ") + std::strerror(err));
  timeline_.record("guest", "traffic NTP to " + g.timing.traffic_to);
  return ok_status();
}

void EmulatedHypervisor::schedule_announces(Guest& g, bool first_now) {
  Guest* gp = &g;
  auto offsets = announce_offsets(g.timing);
  for (size_t i = 0; i < offsets.size(); ++i) {
    auto announce = [=, this] {
      Status a = send_announce(*gp, static_cast<int>(i) + 1);
      if (!a.ok()) timeline_.record("guest", "announce failed: " + a.message());
    };
    // guest.announce: each round can be lost, late or doubled.
    faults::Decision d = core::consult_fault(faults_, timeline_, core::kGuestAnnounce);
    MonoClock::duration at = offsets[i];
    if (d.kind == faults::ActionKind::kDrop) continue;
    if (d.kind == faults::ActionKind::kDelay) at += d.delay;
    if (d.kind == faults::ActionKind::kDuplicate) loop_.post_after(at, announce);
    else if (d.fires() && d.kind != faults::ActionKind::kDelay) core::fault_not_supported(timeline_, core::kGuestAnnounce, d);
    if (first_now && at == MonoClock::duration::zero()) announce();
    else loop_.post_after(at, announce);
  }
}

Status EmulatedHypervisor::announce_self(const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host.empty()) return failed_precondition("guest not running");
  schedule_announces(*it->second, /*first_now=*/true);
  return ok_status();
}

Status EmulatedHypervisor::power_off(const std::string& host, const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host != host) return failed_precondition("guest not running on " + host);
  Guest& g = *it->second;
  (void)g.nl->release(guest_port(host));
  for (const auto& gi : g.interfaces) detach(host, gi);
  g.host.clear();
  timeline_.record(core::EventKind::kGuestPoweredOff, host, "guest", "powered off on " + host);
  return ok_status();
}

Status EmulatedHypervisor::send_gratuitous_arp(Guest& g) {
  auto mac = capture::parse_mac(g.interfaces.at(0).mac);
  auto ip = capture::parse_ipv4(g.ip_cidr.substr(0, g.ip_cidr.find('/')));
  if (!mac || !ip) return invalid_argument("bad guest MAC or address");
  std::array<uint8_t, 60> f{};
  std::memset(f.data(), 0xff, 6);
  std::memcpy(f.data() + 6, mac->data(), 6);
  f[12] = 0x08; f[13] = 0x06;                       // ARP
  f[14] = 0; f[15] = 1; f[16] = 0x08; f[17] = 0;    // Ethernet, IPv4
  f[18] = 6; f[19] = 4; f[20] = 0; f[21] = 1;       // request
  std::memcpy(f.data() + 22, mac->data(), 6);
  for (int i = 0; i < 4; ++i) f[28 + i] = f[38 + i] = static_cast<uint8_t>(*ip >> (24 - 8 * i));
  auto sent = send_broadcast(g, f);
  if (!sent.ok()) return sent.status().with_context("send gratuitous ARP");
  timeline_.record_at(*sent, "guest", "gratuitous ARP");
  return ok_status();
}

std::vector<std::string> EmulatedHypervisor::hosts_running(const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host.empty()) return {};
  return {it->second->host};
}

}  // namespace lmh::harness
