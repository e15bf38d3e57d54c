#include "harness/run/runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/analysis.h"
#include "capture/pcap_capture.h"
#include "capture/prober.h"
#include "core/cloud.h"
#include "core/implied_status.h"
#include "core/names.h"
#include "harness/lab/emulated_hypervisor.h"
#include "harness/lab/lab.h"
#include "harness/lab/lab_backend.h"
#include "harness/run/judge.h"
#include "harness/run/scenario_topology.h"

namespace lmh::harness {

namespace {

using namespace std::chrono_literals;

// The libvirt tier's guest 'uuid' at 'ip_cidr': the peer is its gateway and
// the target of its traffic after resume (the instance under test only).
RealGuestConfig real_guest_config(const Scenario& sc, const std::string& ip_cidr, const std::string& uuid) {
  RealGuestConfig c;
  c.ip_cidr = ip_cidr;
  c.gateway = sc.peer.ip;
  c.memory_mib = sc.guest.memory_mb;
  if (uuid == sc.guest.instance_uuid && sc.guest.traffic_after_resume_ms)
    c.traffic_after_resume = std::chrono::milliseconds(*sc.guest.traffic_after_resume_ms);
  c.traffic_to = sc.peer.ip;
  return c;
}

}  // namespace

StatusOr<std::unique_ptr<ScenarioSession>> ScenarioSession::create(const Scenario& sc, const Capabilities& caps,
                                                                    const std::string& lab_run_id) {
  // requested-chassis lists and activation-strategy came with OVN 22.09;
  // older ovn-controllers compare the whole list with their own name and
  // would bind the port nowhere (docs/upstream/ovn-live-migration.md).
  const bool ovn = std::any_of(sc.hosts.begin(), sc.hosts.end(),
                               [](const HostSpec& h) { return h.backend == core::Backend::kOvn; });
  if (ovn && sc.behaviour.ovn_multichassis_binding && !caps.ovn_version.empty()) {
    int major = 0, minor = 0;
    if (std::sscanf(caps.ovn_version.c_str(), "%d.%d", &major, &minor) == 2 && (major < 22 || (major == 22 && minor < 9)))
      return environment_error("behaviour.ovn_multichassis_binding needs OVN 22.09 or later; this machine has " +
                               caps.ovn_version);
  }
  std::unique_ptr<ScenarioSession> ss(new ScenarioSession(sc));
  // Armed when the migration is requested: set-up and boot run clean.
  ss->fault_plan_ = std::make_unique<faults::FaultPlan>(sc.faults, sc.fault_seed, /*armed=*/false);
  // The real guest tier: its image and accelerator before anything is built.
  std::optional<GuestImage> image;
  AccelChoice accel;
  if (sc.tier == Tier::kLibvirt) {
    auto found = real_tier_guest_image();
    if (!found.ok()) return found.status().with_context("libvirt tier");
    image = *found;
    accel = probe_accel({*image});
  }
  const MonoTime start = MonoClock::now();
  Topology topology = topology_of(sc);
  if (image) topology.libvirt_cache_dir = real_tier_libvirt_cache_dir();
  auto lab = Lab::build(topology, lab_run_id, caps);
  if (!lab.ok()) return lab.status();
  ss->lab_ = std::move(lab).value();
  ss->lab_setup_ms_ = ms_since(start, MonoClock::now());
  ss->loop_ = std::make_unique<core::EventLoop>(ss->clock_);
  ss->timeline_ = std::make_unique<core::Timeline>(ss->clock_);
  // --verbose: the guest's and libvirt's phases as they happen (what a
  // watcher such as the kill-soak reads to tell pre-copy from switchover).
  if (spdlog::should_log(spdlog::level::debug))
    ss->timeline_->set_listener([run = lab_run_id](const core::TimelineEvent& e) {
      spdlog::debug("run {}: event {} on {}", run, core::to_string(e.kind), e.host);
    });
  if (image) {
    ss->timeline_->record("runner", "accel " + accel.accel + ": " + accel.reason);
    auto hv = LibvirtHypervisor::create(*ss->lab_, *ss->loop_, *ss->timeline_, {*image, accel.accel},
                                        ss->fault_plan_.get());
    if (!hv.ok()) return hv.status();
    ss->libvirt_ = std::move(hv).value();
  } else {
    ss->hypervisor_ = std::make_unique<EmulatedHypervisor>(*ss->lab_, *ss->loop_, *ss->timeline_, ss->fault_plan_.get());
  }
  core::Hypervisor& hypervisor = ss->libvirt_ ? static_cast<core::Hypervisor&>(*ss->libvirt_) : *ss->hypervisor_;
  ss->cloud_ = std::make_unique<core::Cloud>(*ss->loop_, *ss->timeline_, hypervisor, sc.behaviour,
                                             ss->fault_plan_.get());
  ss->cloud_->rpc().set_response_timeout(std::chrono::seconds(sc.nova.rpc_response_timeout_s));
  // ML2/OVN's mechanism driver, before the network it turns into a logical switch.
  if (OvnCentral* central = ss->lab_->ovn_central()) {
    auto nb = OvnNorthboundIdl::connect(central->nb_socket(), central->sb_socket(), std::chrono::seconds(10));
    if (!nb.ok()) return nb.status().with_context("OVN databases");
    ss->ovn_nb_ = std::move(nb).value();
    LMH_RETURN_IF_ERROR(ss->cloud_->use_ovn(*ss->ovn_nb_));
  }
  for (const auto& h : sc.hosts) {
    core::HostConfig hc;
    hc.name = h.name;
    hc.physical_interface_mappings = {{sc.network.physnet, h.physical_interface}};
    hc.polling_interval = std::chrono::milliseconds(h.agent.polling_interval_ms);
    hc.live_migration_wait_for_vif_plug = h.nova.live_migration_wait_for_vif_plug;
    hc.vif_plugging_timeout = std::chrono::seconds(h.nova.vif_plugging_timeout_s);
    hc.vif_plugging_is_fatal = h.nova.vif_plugging_is_fatal;
    hc.libvirt = h.nova.libvirt;
    hc.service_enabled = h.service_enabled;
    hc.memory_mb = static_cast<uint64_t>(h.memory_mb);
    hc.hypervisor_version = h.hypervisor_version;
    LabHost* lh = ss->lab_->host(h.name);
    hc.backend = h.backend;
    lab_backend(h.backend).configure(hc, *lh, ss->lab_->topology());
    LMH_RETURN_IF_ERROR(ss->cloud_->add_host(hc, *lh->net));
  }
  LMH_RETURN_IF_ERROR(ss->cloud_->neutron().create_network(
      {sc.network.id, sc.network.type, sc.network.is_tunnel() ? "" : sc.network.physnet,
       sc.network.type == "flat" ? 0 : sc.network.segmentation_id}));
  return ss;
}

ScenarioSession::~ScenarioSession() {
  cloud_.reset();
  ovn_nb_.reset();
  libvirt_.reset();
  hypervisor_.reset();
  timeline_.reset();
  loop_.reset();
  lab_.reset();
}

Status ScenarioSession::boot(const std::atomic<bool>* interrupt) {
  const Scenario& sc = scenario_;
  core::Cloud& cloud = *cloud_;
  // A peer on a compute host is a port bound there, like a VM's: the
  // host's agent plugs its tap (l2population then tells the others).
  std::vector<std::string> ports;
  auto create_port = [&](const std::string& id, const std::string& network_id, const std::string& mac,
                         const std::string& ip, const std::string& device_id) {
    core::Port p;
    p.id = id;
    p.network_id = network_id;
    p.mac = mac;
    p.ip = ip;
    p.device_id = device_id;
    return cloud.neutron().create_port(p);
  };
  for (const auto& peer : lab_->topology().peers) {
    if (peer.host.empty()) continue;
    LMH_RETURN_IF_ERROR(create_port(peer.port_id, peer.network_id, peer.mac, peer.ip, "peer-" + peer.name));
    LMH_RETURN_IF_ERROR(cloud.neutron().create_binding(peer.port_id, peer.host));
    ports.push_back(peer.port_id);
  }
  // The instance under test, and (warm destination) a bystander on the
  // destination that made the agent build bridge and uplink there before.
  const std::vector<TopologyGuest>& vms = lab_->topology().guests;
  for (const auto& vm : vms) ports.push_back(vm.port_id);
  for (const auto& vm : vms) {
    const TopologyNetwork& net = *lab_->topology().network(vm.network_id);
    LMH_RETURN_IF_ERROR(create_port(vm.port_id, vm.network_id, vm.mac, vm.ip, vm.instance_uuid));
    EmulatedGuestTiming timing;
    timing.precopy = std::chrono::milliseconds(sc.migration.precopy_ms);
    timing.pause = std::chrono::milliseconds(sc.migration.pause_ms);
    timing.boot = std::chrono::milliseconds(sc.guest.boot_ms);
    if (vm.instance_uuid == sc.guest.instance_uuid && sc.guest.traffic_after_resume_ms)
      timing.traffic_after_resume = std::chrono::milliseconds(*sc.guest.traffic_after_resume_ms);
    timing.traffic_to = sc.peer.ip;
    const std::string ip_cidr = vm.ip + net.prefix_length();
    if (libvirt_) LMH_RETURN_IF_ERROR(libvirt_->configure_guest(vm.instance_uuid, real_guest_config(sc, ip_cidr, vm.instance_uuid)));
    else LMH_RETURN_IF_ERROR(hypervisor_->configure_guest(vm.instance_uuid, ip_cidr, timing));
    core::Instance inst{vm.instance_uuid, vm.name, "", "active", "", {vm.port_id}, static_cast<uint64_t>(vm.memory_mb)};
    LMH_RETURN_IF_ERROR(cloud.boot(inst, vm.host).with_context("boot " + vm.name));
  }
  // Ready when every port is ACTIVE (its agent plugged it).
  auto all_active = [&] {
    for (const auto& id : ports)
      if (cloud.neutron().port(id)->status != "ACTIVE") return false;
    return true;
  };
  Status active = loop_->run_until(all_active, loop_->now() + 10s, interrupt)
      .with_context("waiting for ports to become ACTIVE");
  if (!active.ok() || !libvirt_) return active;
  // Real guests boot for seconds (TCG): wait for every ready marker.
  auto booted = [&] {
    for (const auto& vm : vms)
      if (!libvirt_->guest_ready(vm.instance_uuid) && libvirt_->guest_boot_status(vm.instance_uuid).ok()) return false;
    return true;
  };
  LMH_RETURN_IF_ERROR(loop_->run_until(booted, loop_->now() + 150s, interrupt).with_context("waiting for the guests to boot"));
  for (const auto& vm : vms) LMH_RETURN_IF_ERROR(libvirt_->guest_boot_status(vm.instance_uuid));
  return ok_status();
}

// A run, stage by stage: plan the captures from the lab, start measuring,
// drive the migration, check that the measurements stand, collect the
// invariants, analyse, judge, build the result. Each stage has one job.
namespace {

using namespace std::chrono_literals;

// One run: the session, then capture and prober, which stop before the
// session (guest, lab) goes away.
struct RunState {
  std::unique_ptr<ScenarioSession> session;
  std::unique_ptr<capture::CaptureSession> capture;
  std::unique_ptr<capture::Prober> prober;
  MonoTime probe_start;
  MonoTime window_start;  // the first reply: the path was up
  MonoTime probe_end;
  ~RunState() {
    if (prober) prober->stop();
    if (capture) capture->stop();
    prober.reset();
    capture.reset();
    session.reset();
  }
};

// What every stage reads: the scenario, the options and the run's origin.
struct RunContext {
  const Scenario& sc;
  const RunOptions& opt;
  int index;
  MonoTime origin;
};

// Fills 'r' from the timeline (relative to 'origin').
void copy_timeline(const core::Timeline& tl, MonoTime origin, reports::ScenarioResult& r) {
  for (const auto& e : tl.events())
    r.timeline.push_back({ms_since(origin, e.t), e.source, e.event, core::to_string(e.kind), e.host});
}

// The result of a run that could not be judged: verdict "error" with the
// reason, the fabric's death named first (it explains most later errors).
// An interrupt pending is the cause of whatever failed.
// The real tier: every guest's serial console log goes into the results
// ("<index>-<host>-<guest>.serial.log"), pass or fail, before teardown
// removes the hosts' state directories.
void keep_serial_logs(const RunContext& ctx, RunState& st, reports::ScenarioResult& r) {
  if (LibvirtHypervisor* hv = st.session->libvirt()) {
    std::filesystem::create_directories(ctx.opt.results_dir);
    r.serial_logs = hv->copy_serial_logs(ctx.opt.results_dir, std::to_string(ctx.index) + "-");
  }
}

StatusOr<reports::ScenarioResult> error_result(const RunContext& ctx, RunState& st, reports::ScenarioResult r,
                                               const Status& s) {
  if (s.code() == StatusCode::kCancelled || (ctx.opt.interrupt && ctx.opt.interrupt->load()))
    return cancelled("interrupted");
  r.verdict = Verdict::kError;
  r.verdict_reason = s.to_string();
  if (st.session) {
    Lab& lab = st.session->lab();
    if (!lab.fabric().healthy())
      r.verdict_reason = "the fabric's Open vSwitch daemons died during the run (see " + lab.state_dir() +
                         "/ovs-vswitchd.log); " + r.verdict_reason;
    copy_timeline(st.session->timeline(), ctx.origin, r);
    keep_serial_logs(ctx, st, r);
  }
  return r;
}

// The capture points of a run: the peer, and on the source and destination
// their fabric port, uplink and the guest's tap (pcaps named
// "<index>-<point>.pcap" in the results directory).
std::vector<capture::CapturePointSpec> plan_captures(const RunContext& ctx, Lab& lab) {
  const Scenario& sc = ctx.sc;
  const std::string tap = core::tap_name(sc.guest.port_id);
  std::vector<capture::CapturePointSpec> points;
  auto point = [&](const std::string& name, int fd, const std::string& ifname) {
    points.push_back({name, fd, ifname,
                      ctx.opt.results_dir + "/" + std::to_string(ctx.index) + "-" + name + ".pcap"});
  };
  point("peer", lab.peer_ns().fd(), "eth0");
  // A peer on a host: that host's fabric port too (where its stale
  // tunnel forwarding to the source shows).
  if (!sc.peer.host.empty())
    point(sc.peer.host + ".fabric_port", lab.fabric_ns().fd(), lab.fabric_uplink_port(sc.peer.host, sc.network.id));
  for (const auto& h : {sc.migration.source, sc.migration.destination}) {
    point(h + ".fabric_port", lab.fabric_ns().fd(), lab.fabric_uplink_port(h, sc.network.id));
    point(h + ".uplink", lab.host(h)->ns.fd(), lab.uplink_name(h, sc.network.id));
    point(h + ".tap", lab.host(h)->ns.fd(), tap);
  }
  return points;
}

// Starts the captures of 'points' and the prober from the peer.
Status start_measuring(const RunContext& ctx, RunState& st, const std::vector<capture::CapturePointSpec>& points) {
  auto cap = capture::CaptureSession::start(points);
  if (!cap.ok()) return cap.status();
  st.capture = std::move(cap).value();
  capture::ProbeConfig pc;
  pc.netns_fd = st.session->lab().peer_ns().fd();
  pc.target_ip = ctx.sc.guest.ip;
  pc.interval = std::chrono::milliseconds(ctx.sc.probe.interval_ms);
  pc.reply_timeout = std::chrono::milliseconds(ctx.sc.probe.reply_timeout_ms);
  auto prober = capture::Prober::start(pc);
  if (!prober.ok()) return prober.status();
  st.prober = std::move(prober).value();
  st.probe_start = MonoClock::now();
  st.session->timeline().record("prober", "start, every " + std::to_string(ctx.sc.probe.interval_ms) + " ms");
  return ok_status();
}

// The measurement starts once the guest answers: a path still being built
// when probing starts (an agent applying its first forwarding entries, a
// neighbour being resolved) is not an outage of the move. Bounded: a guest
// that never answers is the baseline error below.
Status wait_for_path(const RunContext& ctx, RunState& st) {
  constexpr auto kPathTimeout = 10s;
  core::EventLoop& loop = st.session->loop();
  auto first_answered = [&]() -> std::optional<MonoTime> {
    for (const auto& rec : st.prober->records())
      if (rec.replied) return rec.replied;
    return std::nullopt;
  };
  Status s = loop.run_until([&] { return first_answered().has_value(); }, loop.now() + kPathTimeout, ctx.opt.interrupt);
  if (s.code() == StatusCode::kCancelled) return s;
  st.window_start = first_answered().value_or(st.probe_start);
  st.session->timeline().record(
      "prober", fmt::format("first reply {:.1f} ms after the start: measuring from there",
                            std::chrono::duration<double, std::milli>(st.window_start - st.probe_start).count()));
  return ok_status();
}

// Probes for the settle time; then, when the scenario pins the destination
// agent's phase, waits until a start now makes the guest resume the given
// time after one of that agent's polls (start-to-resume is pre-copy + pause
// plus a few ms of RPC).
Status settle(const RunContext& ctx, RunState& st) {
  const Scenario& sc = ctx.sc;
  core::EventLoop& loop = st.session->loop();
  LMH_RETURN_IF_ERROR(loop.run_for(std::chrono::milliseconds(sc.probe.settle_ms), ctx.opt.interrupt));
  if (!sc.migration.resume_after_dest_poll_ms) return ok_status();
  core::L2Agent* agent = st.session->cloud().agent(sc.migration.destination);
  if (!agent || !agent->last_poll())
    return failed_precondition("migration.resume_after_dest_poll_ms: the destination's L2 agent has not polled yet");
  auto interval = agent->polling_interval();
  auto to_resume = std::chrono::milliseconds(sc.migration.precopy_ms + sc.migration.pause_ms);
  MonoTime resume_at = *agent->last_poll() + std::chrono::milliseconds(*sc.migration.resume_after_dest_poll_ms);
  while (resume_at - to_resume < loop.now()) resume_at += interval;
  return loop.run_for(resume_at - to_resume - loop.now(), ctx.opt.interrupt);
}

// A guest that never answered before the migration makes every number
// after it meaningless.
Status check_baseline(const capture::Prober& prober) {
  for (const auto& rec : prober.records())
    if (rec.replied) return ok_status();
  return failed_precondition("baseline: the guest did not answer a single probe before the migration");
}

// Arms the fault plan and asks the API for the move; a refusal by the
// control plane (a conductor check, a fault at the API cast) is a result
// to judge like any other, with the guest untouched. Returns the id of the
// migration record.
StatusOr<int> request_migration(const RunContext& ctx, RunState& st) {
  const Scenario& sc = ctx.sc;
  core::Cloud& cloud = st.session->cloud();
  st.session->fault_plan().arm();
  st.session->timeline().record("runner", "fault plan armed");
  const std::string& dst = sc.migration.destination;
  auto mid = sc.migration.kind == core::MigrationKind::kLive ? cloud.live_migrate(sc.guest.instance_uuid, dst, sc.migration.force)
                                         : cloud.migrate(sc.guest.instance_uuid, dst, sc.migration.kind == core::MigrationKind::kResize);
  if (mid.ok()) return mid;
  if (cloud.migration_count() == 0) return mid.status().with_context("migration refused");
  st.session->timeline().record("runner", "migration refused: " + mid.status().message());
  return cloud.migration_count();
}

// Cold migration / resize: to VERIFY_RESIZE, a while there, then the
// operator's confirm or revert.
Status drive_resize_outcome(const RunContext& ctx, RunState& st, int mid) {
  const Scenario& sc = ctx.sc;
  core::Cloud& cloud = st.session->cloud();
  core::EventLoop& loop = st.session->loop();
  auto verify = [&] {
    const core::MigrationStatus status = cloud.migration(mid)->status;
    return status == core::MigrationStatus::kFinished || core::is_terminal(status);
  };
  Status s = loop.run_until(verify, loop.now() + 60s, ctx.opt.interrupt);
  if (s.code() == StatusCode::kCancelled) return s;
  if (cloud.migration(mid)->status != core::MigrationStatus::kFinished) return ok_status();
  LMH_RETURN_IF_ERROR(loop.run_for(std::chrono::milliseconds(sc.migration.verify_ms), ctx.opt.interrupt));
  return sc.migration.resize_outcome == "revert" ? cloud.revert_resize(sc.guest.instance_uuid)
                                                 : cloud.confirm_resize(sc.guest.instance_uuid);
}

// Waits, bounded, for the migration to end, then probes for the observe
// time. The bound is long enough for the source's vif-plugging timeout, two
// rpc timeouts (a call to a dead compute, then its rollback call) and the
// job; a migration still not terminal then is a hang, which the
// migration_terminal invariant reports (a failure, not an error).
Status wait_and_observe(const RunContext& ctx, RunState& st, int mid) {
  const Scenario& sc = ctx.sc;
  core::Cloud& cloud = st.session->cloud();
  core::EventLoop& loop = st.session->loop();
  auto terminal = [&] { return core::is_terminal(cloud.migration(mid)->status); };
  auto bound = std::chrono::seconds(sc.host(sc.migration.source)->nova.vif_plugging_timeout_s) +
               2 * std::chrono::seconds(sc.nova.rpc_response_timeout_s) +
               std::chrono::milliseconds(sc.migration.precopy_ms + sc.migration.pause_ms) + 30s;
  Status s = loop.run_until(terminal, loop.now() + bound, ctx.opt.interrupt);
  if (s.code() == StatusCode::kDeadlineExceeded) st.session->timeline().record("runner", "migration not terminal after bound: a hang");
  else if (!s.ok()) return s.with_context("waiting for the migration");
  return loop.run_for(std::chrono::milliseconds(sc.probe.observe_ms), ctx.opt.interrupt);
}

// The migration from request to the end of the observation; returns the
// migration id.
StatusOr<int> drive_migration(const RunContext& ctx, RunState& st) {
  LMH_RETURN_IF_ERROR(wait_for_path(ctx, st));
  LMH_RETURN_IF_ERROR(settle(ctx, st));
  LMH_RETURN_IF_ERROR(check_baseline(*st.prober));
  auto mid = request_migration(ctx, st);
  if (!mid.ok()) return mid.status();
  if (ctx.sc.migration.kind != core::MigrationKind::kLive) LMH_RETURN_IF_ERROR(drive_resize_outcome(ctx, st, *mid));
  LMH_RETURN_IF_ERROR(wait_and_observe(ctx, st, *mid));
  return mid;
}

// Stops measuring and checks the measurements stand: a capture point that
// never opened would look exactly like the outage being measured (nothing
// seen), and a fabric daemon that died mid-run invalidates every number.
// The destination's fabric port and uplink may legitimately never exist;
// its tap does once libvirt's Prepare ran there.
Status stop_measuring(const RunContext& ctx, RunState& st) {
  st.probe_end = MonoClock::now();
  st.prober->stop();
  st.capture->stop();
  const std::string& src = ctx.sc.migration.source;
  const std::string& dst = ctx.sc.migration.destination;
  std::vector<std::string> required = {"peer", src + ".fabric_port", src + ".uplink", src + ".tap"};
  if (st.session->timeline().first(core::EventKind::kPrepare, dst)) required.push_back(dst + ".tap");
  auto opened = st.capture->opened_points();
  for (const std::string& p : required)
    if (std::find(opened.begin(), opened.end(), p) == opened.end())
      return environment_error("capture point " + p + " never opened: measurements are void");
  if (!st.session->lab().fabric().healthy()) return environment_error("measurements are void");
  return ok_status();
}

// Core's invariants (the final status constrained by the faults that
// fired), and on hosts with Open vSwitch that both daemons still run (a
// crashed ovs-vswitchd silently stops every VM on the host).
std::vector<reports::InvariantEntry> collect_invariants(const RunContext& ctx, RunState& st, int mid) {
  const Scenario& sc = ctx.sc;
  core::Cloud& cloud = st.session->cloud();
  core::MoveContext move;
  move.migration_type = cloud.migration(mid)->migration_type;
  // Nova reads each option on the host that acts on it (core/implied_status.h).
  move.waits_for_vif_plugged = sc.host(sc.migration.destination)->nova.live_migration_wait_for_vif_plug;
  move.vif_plugging_is_fatal = sc.host(sc.migration.source)->nova.vif_plugging_is_fatal;
  auto implied = core::implied_migration_statuses(move, st.session->fault_plan().fired());
  std::vector<reports::InvariantEntry> out;
  for (const auto& i : cloud.invariant_report(sc.guest.instance_uuid, mid, implied))
    out.push_back({i.name, i.ok, i.detail});
  std::string dead;
  bool any = false;
  for (const auto& h : sc.hosts) {
    LabHost* lh = st.session->lab().host(h.name);
    if (!lh || !lh->ovs) continue;
    any = true;
    if (!lh->ovs->healthy()) dead += (dead.empty() ? "" : "; ") + std::string("Open vSwitch daemons on ") + h.name + " not running";
  }
  if (any) out.push_back({"ovs_daemons_alive", dead.empty(), dead});
  return out;
}

// QEMU announces by itself on the libvirt tier: its RARPs are the ones seen
// leaving the guest at its tap on 'host' after the switchover began
// ('after'); they go on the timeline as the emulated guest's do.
void record_qemu_announces(core::Timeline& tl, const std::vector<capture::Packet>& packets, const std::string& host,
                           const capture::Mac& guest_mac, MonoTime after) {
  std::vector<MonoTime> seen;
  for (const auto& p : packets)
    if (p.point == host + ".tap" && p.t > after && p.frame.kind == capture::FrameKind::kRarp &&
        (p.frame.src == guest_mac || p.frame.arp_sha == guest_mac))
      seen.push_back(p.t);
  std::sort(seen.begin(), seen.end());
  for (size_t i = 0; i < seen.size(); ++i)
    tl.record_at(seen[i], core::EventKind::kAnnounceSent, host, "guest",
                 "announce RARP " + std::to_string(i + 1) + " (QEMU, seen on " + host + ".tap)");
}

// The analysis of the last move (a revert's, after a resize): the last
// resume, from the host the guest left to the one it ended on. On the
// libvirt tier QEMU announces as soon as the incoming migration completes,
// a moment before libvirt resumes the vCPUs, so what re-taught the fabric is
// looked for from the switchover on.
capture::Metrics analyse(const RunContext& ctx, RunState& st) {
  const Scenario& sc = ctx.sc;
  core::Timeline& timeline = st.session->timeline();
  const std::string final_host = st.session->cloud().instance(sc.guest.instance_uuid)->host;
  const std::string left = final_host == sc.migration.source ? sc.migration.destination : sc.migration.source;
  const auto paused = timeline.all(core::EventKind::kGuestPaused);
  const auto guest_mac = *capture::parse_mac(sc.guest.mac);
  if (st.session->libvirt())
    record_qemu_announces(timeline, st.capture->packets(), final_host, guest_mac,
                          paused.empty() ? st.probe_start : paused.back().t);
  capture::AnalysisInput in;
  in.probes = st.prober->records();
  in.interval = std::chrono::milliseconds(sc.probe.interval_ms);
  in.reply_timeout = std::chrono::milliseconds(sc.probe.reply_timeout_ms);
  in.origin = ctx.origin;
  in.window_start = st.window_start;
  in.window_end = st.probe_end;
  std::optional<MonoTime> resume;
  for (const auto& e : timeline.events())
    if (e.kind == core::EventKind::kGuestResumed || e.kind == core::EventKind::kGuestBooted) resume = e.t;
  in.resume = resume;
  for (const auto& e : timeline.all(core::EventKind::kAnnounceSent)) in.announces_sent.push_back(e.t);
  in.packets = st.capture->packets();
  in.guest_mac = guest_mac;
  in.guest_ip = *capture::parse_ipv4(sc.guest.ip);
  in.peer_ip = *capture::parse_ipv4(sc.peer.ip);
  in.src_fabric_point = left + ".fabric_port";
  in.dst_fabric_point = final_host + ".fabric_port";
  // A tunnel network: each captured host's endpoint, seen at its fabric port
  // (OVN chassis have endpoints on VLAN networks too; their frames there
  // still travel the fabric's VLAN).
  const std::vector<std::string> opened = st.capture->opened_points();
  for (const auto& h : st.session->lab().topology().hosts) {
    if (!sc.network.is_tunnel()) break;
    const std::string point = h.name + ".fabric_port";
    if (h.tunnel && std::find(opened.begin(), opened.end(), point) != opened.end())
      in.tunnel_endpoints.push_back({h.name, *capture::parse_ipv4(h.tunnel->local_ip), point});
  }
  in.src_host = left;
  in.dst_host = final_host;
  capture::Metrics m = capture::analyze(in);
  if (st.session->libvirt() && m.recovered && !paused.empty() && in.resume && paused.back().t < *in.resume) {
    capture::AnalysisInput from_pause = in;
    from_pause.resume = paused.back().t;
    m.recovery_cause = capture::analyze(from_pause).recovery_cause;
  }
  return m;
}

// The real tier's guest that stops answering after a live migration
// (README, "Known limits"): the network delivered the peer's requests to
// the guest's tap on its final host and the guest sent nothing back, not
// even an ARP. That is the guest, not an outage; the reason says so, with
// what its serial console answers (a hung guest does not answer there
// either; one whose network stack stalled does, with its kernel's view).
std::optional<std::string> guest_unresponsive(const RunContext& ctx, RunState& st, const capture::Metrics& m) {
  LibvirtHypervisor* hv = st.session->libvirt();
  if (!hv || m.recovered) return std::nullopt;
  const Scenario& sc = ctx.sc;
  const core::Instance* inst = st.session->cloud().instance(sc.guest.instance_uuid);
  const auto resumed = st.session->timeline().all(core::EventKind::kGuestResumed);
  if (!inst || resumed.empty()) return std::nullopt;
  capture::AnalysisInput in;
  in.origin = ctx.origin;
  in.packets = st.capture->packets();
  in.guest_mac = *capture::parse_mac(sc.guest.mac);
  in.guest_ip = *capture::parse_ipv4(sc.guest.ip);
  const std::string point = inst->host + ".tap";
  // A domain left paused runs no vCPU: its QEMU holds every frame, the
  // announces too, so the fabric never learns the new port. Say so.
  if (const std::string paused = hv->paused_state(sc.guest.instance_uuid); !paused.empty())
    return "guest unresponsive after migration: its domain on " + inst->host + " is " + paused +
           ", so QEMU sent no announce and the guest nothing; serial logs in the results (" +
           std::to_string(ctx.index) + "-*.serial.log)";
  const capture::TapActivity a = capture::tap_activity(in, point, resumed.back().t);
  // A few requests: one lost ARP is not a silent guest.
  constexpr int kRequestsThatNeedAnAnswer = 3;
  if (a.requests_to_guest < kRequestsThatNeedAnAnswer || a.frames_from_guest > 0) return std::nullopt;
  std::string why = "guest unresponsive after migration: " + std::to_string(a.requests_to_guest) +
                    " requests for it reached " + point + " from " + fmt::format("{:.0f}", a.first_request_ms.value_or(0)) +
                    " ms on and it sent nothing";
  // Twice, a second apart: whether eth0's counters move tells a receive
  // path that stalled from a stack that receives and does not answer.
  auto one_line = [](std::string text) {
    std::replace(text.begin(), text.end(), '\n', ';');
    std::replace(text.begin(), text.end(), '\r', ' ');
    return text;
  };
  // Seen here under load: the guest's virtio-net driver found its TX ring
  // corrupt after the migration ("output.0:id 0 is not a head!") and
  // stopped transmitting for good.
  if (const auto errors = hv->virtio_errors(sc.guest.instance_uuid); !errors.empty()) {
    why += "; its kernel logged:";
    for (const auto& e : errors) why += " " + e;
  }
  auto diag = hv->console_command(sc.guest.instance_uuid, "diag", std::chrono::seconds(5));
  if (diag.ok()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto again = hv->console_command(sc.guest.instance_uuid, "diag", std::chrono::seconds(5));
    why += "; its serial console answers (kernel and init run): " + one_line(*diag) + " | 1 s later: " +
           (again.ok() ? one_line(*again) : again.status().message());
  } else {
    why += "; its serial console does not answer either (" + diag.status().message() + ")";
  }
  return why + "; serial logs in the results (" + std::to_string(ctx.index) + "-*.serial.log)";
}

reports::MetricsEntry metrics_entry(const capture::Metrics& m, std::optional<double> hypervisor_downtime_ms) {
  reports::MetricsEntry e;
  e.loss = m.loss;
  e.probes = m.probes;
  e.interval_ms = m.interval_ms;
  e.max_gap_ms = m.max_gap_ms;
  e.downtime_ms = m.downtime_ms;
  e.recovery_ms = m.recovery_ms;
  e.stale_forwarding_ms = m.stale_forwarding_ms;
  e.stale_forwarding_by_host_ms = m.stale_forwarding_by_host_ms;
  e.hypervisor_downtime_ms = hypervisor_downtime_ms;
  e.max_send_gap_ms = m.max_send_gap_ms;
  e.window_ms = m.window_ms;
  e.reply_gaps_ms = m.reply_gaps_ms;
  return e;
}

// Everything measured, checked and judged goes into 'r'.
void build_result(const RunContext& ctx, RunState& st, int mid, const capture::Metrics& m,
                  std::vector<reports::InvariantEntry> invariants, reports::ScenarioResult& r) {
  const Scenario& sc = ctx.sc;
  const core::MigrationStatus status = st.session->cloud().migration(mid)->status;
  r.migration_status = core::migration_status_name(status);
  r.invariants = std::move(invariants);
  r.fault_seed = sc.fault_seed;
  for (const auto& [point, c] : st.session->fault_plan().counts())
    r.faults.push_back({point, c.action, c.reached, c.injected});
  std::optional<double> hv_downtime;
  if (LibvirtHypervisor* hv = st.session->libvirt()) hv_downtime = hv->last_downtime_ms(sc.guest.instance_uuid);
  r.metrics = metrics_entry(m, hv_downtime);
  // ML2/OVN: how long the guest's chassis took from its tap to its flows.
  if (const core::Instance* inst = st.session->cloud().instance(sc.guest.instance_uuid)) {
    auto* chassis = dynamic_cast<core::OvnControllerAgent*>(st.session->cloud().agent(inst->host));
    if (auto after = chassis ? chassis->flows_installed_after(sc.guest.port_id) : std::nullopt)
      r.metrics.flows_installed_ms = std::chrono::duration<double, std::milli>(*after).count();
  }
  r.recovery_cause = m.recovery_cause;
  for (const auto& a : m.announces) r.announces.push_back({a.seq, a.t_ms, a.seen_at});
  Judgement j = judge({.migration_status = status,
                       .downtime_ms = m.downtime_ms,
                       .recovery_ms = m.recovery_ms,
                       .stale_forwarding_ms = m.stale_forwarding_ms,
                       .recovered = m.recovered,
                       .max_downtime_ms = sc.expect.max_downtime_ms,
                       .recover_within_ms = sc.expect.recover_within_ms,
                       .invariants = r.invariants,
                       .max_send_gap_ms = m.max_send_gap_ms,
                       .interval_ms = m.interval_ms});
  r.verdict = j.verdict;
  r.verdict_reason = j.reason();
  copy_timeline(st.session->timeline(), ctx.origin, r);
}

// The fabric's forwarding entry for the guest at the end, on the timeline.
void record_fabric_entry(const Scenario& sc, RunState& st) {
  Lab& lab = st.session->lab();
  auto port = lab.fabric().port_of(sc.guest.mac, lab.topology().network(sc.network.id)->fabric_vlan());
  if (port.ok())
    st.session->timeline().record("fabric", "fdb: " + sc.guest.mac + " -> " + (port->empty() ? "(none)" : *port));
}

reports::ScenarioResult new_result(const Scenario& sc, const Capabilities& caps) {
  reports::ScenarioResult r;
  r.name = sc.display_name();
  r.scenario_file = sc.source_file;
  r.tier = to_string(sc.tier);
  r.behaviour = sc.behaviour_map();
  for (const auto& c : caps.list)
    r.fallbacks.push_back({c.name, c.available, c.available ? "native" : (c.fallback.empty() ? "none" : c.fallback)});
  return r;
}

}  // namespace

StatusOr<reports::ScenarioResult> run_scenario(const Scenario& sc, const Capabilities& caps,
                                               const RunOptions& opt, int index) {
  const RunContext ctx{sc, opt, index, MonoClock::now()};
  reports::ScenarioResult r = new_result(sc, caps);
  RunState st;
  auto error = [&](const Status& s) { return error_result(ctx, st, std::move(r), s); };
  // A lab per scenario run: "<run id><index>", [a-z0-9] only, so cleanup can
  // tell runs apart by the text between "lmh-" and the next '-'.
  const std::string lab_run_id = opt.run_id + std::to_string(index);
  // --verbose names each stage as it starts (set-up, boot, measure,
  // migrate, analyse, teardown, done); the guest's own phases follow from
  // the timeline's listener.
  auto phase = [&](const char* name) {
    spdlog::debug("run {}: phase {}", lab_run_id, name);
    if (opt.on_phase) opt.on_phase(name);
  };
  phase("set-up");
  auto session = ScenarioSession::create(sc, caps, lab_run_id);
  if (!session.ok()) return error(session.status());
  st.session = std::move(session).value();
  if (opt.interrupt && opt.interrupt->load()) return error(cancelled("interrupted"));
  r.lab_setup_ms = st.session->lab_setup_ms();
  if (st.session->libvirt()) r.accel = st.session->libvirt()->accel();
  phase("boot");
  if (Status s = st.session->boot(opt.interrupt); !s.ok()) return error(s);

  std::filesystem::create_directories(opt.results_dir);
  const auto points = plan_captures(ctx, st.session->lab());
  for (const auto& p : points) r.pcaps.push_back(std::filesystem::path(p.pcap_path).filename());
  phase("measure");
  if (Status s = start_measuring(ctx, st, points); !s.ok()) return error(s);
  phase("migrate");
  auto mid = drive_migration(ctx, st);
  if (!mid.ok()) return error(mid.status());
  phase("analyse");
  if (Status s = stop_measuring(ctx, st); !s.ok()) return error(s);

  auto invariants = collect_invariants(ctx, st, *mid);
  record_fabric_entry(sc, st);
  const capture::Metrics m = analyse(ctx, st);
  const auto unresponsive = guest_unresponsive(ctx, st, m);
  build_result(ctx, st, *mid, m, std::move(invariants), r);
  if (unresponsive) {
    r.verdict = Verdict::kError;
    r.verdict_reason = *unresponsive;
  }
  keep_serial_logs(ctx, st, r);

  // Teardown now, so wall time covers it.
  phase("teardown");
  st.prober.reset();
  st.capture.reset();
  st.session.reset();
  phase("done");
  r.wall_ms = ms_since(ctx.origin, MonoClock::now());
  return r;
}

}  // namespace lmh::harness
