#include "harness/runner.h"

#include <algorithm>
#include <filesystem>

#include "capture/analysis.h"
#include "capture/pcap_capture.h"
#include "capture/prober.h"
#include "core/cloud.h"
#include "core/implied_status.h"
#include "core/names.h"
#include "harness/emulated_hypervisor.h"
#include "harness/lab.h"

namespace lmh::harness {

namespace {

using namespace std::chrono_literals;

std::string fmt_ms(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

// Fills 'r' from the timeline (relative to 'origin').
void copy_timeline(const core::Timeline& tl, MonoTime origin, reports::ScenarioResult& r) {
  for (const auto& e : tl.events()) r.timeline.push_back({ms_since(origin, e.t), e.source, e.event});
}

// One run: the session, then capture and prober, which stop before the
// session (guest, lab) goes away.
struct RunState {
  std::unique_ptr<ScenarioSession> session;
  std::unique_ptr<capture::CaptureSession> capture;
  std::unique_ptr<capture::Prober> prober;
  ~RunState() {
    if (prober) prober->stop();
    if (capture) capture->stop();
    prober.reset();
    capture.reset();
    session.reset();
  }
};

// The verdict rule of DESIGN.md: pass when connectivity is back within the
// scenario's limit, downtime is within threshold, the migration completed
// and no invariant broke.
void decide_verdict(const Scenario& sc, const capture::Metrics& m, reports::ScenarioResult& r) {
  std::vector<std::string> why;
  if (r.migration_status != "completed" && r.migration_status != "confirmed" && r.migration_status != "reverted")
    why.push_back("migration ended " + r.migration_status);
  // A guest that never moved (refused, rolled back, aborted) has nothing to
  // recover from: the downtime threshold alone judges its connectivity.
  const bool moved = m.recovery_ms.has_value() || m.stale_forwarding_ms.has_value();
  if (moved && !m.recovered) why.push_back("connectivity not restored by the end of the scenario");
  else if (m.recovery_ms && *m.recovery_ms > sc.expect.recover_within_ms)
    why.push_back("recovery " + fmt_ms(*m.recovery_ms) + " ms > " + std::to_string(sc.expect.recover_within_ms) + " ms");
  if (m.downtime_ms > sc.expect.max_downtime_ms)
    why.push_back("downtime " + fmt_ms(m.downtime_ms) + " ms > " + fmt_ms(sc.expect.max_downtime_ms) + " ms");
  for (const auto& v : r.invariants)
    if (!v.ok) why.push_back("invariant " + v.name + ": " + v.detail);
  r.verdict = why.empty() ? "pass" : "fail";
  for (const auto& w : why) r.verdict_reason += (r.verdict_reason.empty() ? "" : "; ") + w;
}

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
    tl.record_at(seen[i], "guest", "announce RARP " + std::to_string(i + 1) + " (QEMU, seen on " + host + ".tap)");
}

}  // namespace

StatusOr<std::unique_ptr<ScenarioSession>> ScenarioSession::create(const Scenario& sc, const Capabilities& caps,
                                                                    const std::string& lab_run_id) {
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
  auto lab = Lab::build(sc, lab_run_id, caps);
  if (!lab.ok()) return lab.status();
  ss->lab_ = std::move(lab).value();
  ss->lab_setup_ms_ = ms_since(start, MonoClock::now());
  ss->loop_ = std::make_unique<core::EventLoop>(ss->clock_);
  ss->timeline_ = std::make_unique<core::Timeline>(ss->clock_);
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
  ss->cloud_->set_rpc_response_timeout(std::chrono::seconds(sc.nova.rpc_response_timeout_s));
  for (const auto& h : sc.hosts) {
    core::HostConfig hc;
    hc.name = h.name;
    hc.physical_interface_mappings = {{sc.network.physnet, h.physical_interface}};
    hc.polling_interval = std::chrono::milliseconds(sc.agent.polling_interval_ms);
    hc.live_migration_wait_for_vif_plug = sc.nova.live_migration_wait_for_vif_plug;
    hc.vif_plugging_timeout = std::chrono::seconds(sc.nova.vif_plugging_timeout_s);
    hc.vif_plugging_is_fatal = sc.nova.vif_plugging_is_fatal;
    hc.libvirt = sc.nova.libvirt;
    hc.service_enabled = h.service_enabled;
    hc.memory_mb = static_cast<uint64_t>(h.memory_mb);
    hc.hypervisor_version = h.hypervisor_version;
    LabHost* lh = ss->lab_->host(h.name);
    hc.backend = h.backend;
    if (h.backend == core::Backend::kOpenVswitch) {
      hc.firewall_driver = h.firewall_driver;
      hc.datapath_type = lh->ovs->options().datapath_type;
      hc.bridge_mappings = {{sc.network.physnet, Lab::ovs_physical_bridge()}};
      hc.ovs = &lh->ovs->database();
      hc.links = lh->net.get();
    }
    LMH_RETURN_IF_ERROR(ss->cloud_->add_host(hc, *lh->net));
  }
  LMH_RETURN_IF_ERROR(ss->cloud_->neutron().create_network(
      {sc.network.id, sc.network.type, sc.network.physnet, sc.network.type == "vlan" ? sc.network.segmentation_id : 0}));
  return ss;
}

ScenarioSession::~ScenarioSession() {
  cloud_.reset();
  libvirt_.reset();
  hypervisor_.reset();
  timeline_.reset();
  loop_.reset();
  lab_.reset();
}

Status ScenarioSession::boot(const std::atomic<bool>* interrupt) {
  const Scenario& sc = scenario_;
  core::Cloud& cloud = *cloud_;
  const std::string prefix_len = sc.network.cidr.substr(sc.network.cidr.find('/'));
  // The instance under test, and (warm destination) a bystander on the
  // destination that made the agent build bridge and uplink there before.
  struct Vm { std::string uuid, name, port, mac, ip, host; };
  std::vector<Vm> vms = {{sc.guest.instance_uuid, sc.guest.name, sc.guest.port_id, sc.guest.mac, sc.guest.ip,
                          sc.migration.source}};
  if (sc.warm_destination) {
    // Derived ids: same shape, first hex digit changed, so device names
    // (the first 11 characters) differ too.
    auto derive = [](std::string id) {
      static const std::string hex = "0123456789abcdef";
      auto pos = hex.find(static_cast<char>(std::tolower(id[0])));
      id[0] = hex[(pos == std::string::npos ? 0 : pos + 1) % 16];
      return id;
    };
    std::string mac = sc.guest.mac;
    mac.back() = mac.back() == '0' ? '1' : '0';
    vms.push_back({derive(sc.guest.instance_uuid), "warm", derive(sc.guest.port_id), mac, sc.bystander_ip(),
                   sc.migration.destination});
  }
  for (const auto& vm : vms) {
    core::Port p;
    p.id = vm.port;
    p.network_id = sc.network.id;
    p.mac = vm.mac;
    p.ip = vm.ip;
    p.device_id = vm.uuid;
    LMH_RETURN_IF_ERROR(cloud.neutron().create_port(p));
    EmulatedGuestTiming timing;
    timing.precopy = std::chrono::milliseconds(sc.migration.precopy_ms);
    timing.pause = std::chrono::milliseconds(sc.migration.pause_ms);
    timing.boot = std::chrono::milliseconds(sc.guest.boot_ms);
    if (vm.uuid == sc.guest.instance_uuid && sc.guest.traffic_after_resume_ms)
      timing.traffic_after_resume = std::chrono::milliseconds(*sc.guest.traffic_after_resume_ms);
    timing.traffic_to = sc.peer.ip;
    if (libvirt_) LMH_RETURN_IF_ERROR(libvirt_->configure_guest(vm.uuid, real_guest_config(sc, vm.ip + prefix_len, vm.uuid)));
    else LMH_RETURN_IF_ERROR(hypervisor_->configure_guest(vm.uuid, vm.ip + prefix_len, timing));
    core::Instance inst{vm.uuid, vm.name, "", "active", "", {vm.port}, static_cast<uint64_t>(sc.guest.memory_mb)};
    LMH_RETURN_IF_ERROR(cloud.boot(inst, vm.host).with_context("boot " + vm.name));
  }
  // Ready when every port is ACTIVE (its agent plugged it).
  auto all_active = [&] {
    for (const auto& vm : vms)
      if (cloud.neutron().port(vm.port)->status != "ACTIVE") return false;
    return true;
  };
  Status active = loop_->run_until(all_active, loop_->now() + 10s, interrupt)
      .with_context("waiting for ports to become ACTIVE");
  if (!active.ok() || !libvirt_) return active;
  // Real guests boot for seconds (TCG): wait for every ready marker.
  auto booted = [&] {
    for (const auto& vm : vms)
      if (!libvirt_->guest_ready(vm.uuid) && libvirt_->guest_boot_status(vm.uuid).ok()) return false;
    return true;
  };
  LMH_RETURN_IF_ERROR(loop_->run_until(booted, loop_->now() + 150s, interrupt).with_context("waiting for the guests to boot"));
  for (const auto& vm : vms) LMH_RETURN_IF_ERROR(libvirt_->guest_boot_status(vm.uuid));
  return ok_status();
}

StatusOr<reports::ScenarioResult> run_scenario(const Scenario& sc, const Capabilities& caps,
                                               const RunOptions& opt, int index) {
  reports::ScenarioResult r;
  r.name = sc.display_name();
  r.scenario_file = sc.source_file;
  r.tier = to_string(sc.tier);
  r.behaviour = sc.behaviour_map();
  for (const auto& c : caps.list)
    r.fallbacks.push_back({c.name, c.available, c.available ? "native" : (c.fallback.empty() ? "none" : c.fallback)});
  const MonoTime origin = MonoClock::now();
  // A lab per scenario run: "<run id><index>", [a-z0-9] only, so cleanup can
  // tell runs apart by the text between "lmh-" and the next '-'.
  const std::string lab_id = opt.run_id + std::to_string(index);
  RunState st;
  auto error = [&](const Status& s) -> StatusOr<reports::ScenarioResult> {
    // Anything that fails while an interrupt is pending is the interrupt.
    if (s.code() == StatusCode::kCancelled || (opt.interrupt && opt.interrupt->load()))
      return cancelled("interrupted");
    r.verdict = "error";
    r.verdict_reason = s.to_string();
    if (st.session) {
      // A dead fabric explains most later errors; name it first.
      Lab& lab = st.session->lab();
      if (!lab.fabric().healthy())
        r.verdict_reason = "the fabric's Open vSwitch daemons died during the run (see " + lab.state_dir() +
                           "/ovs-vswitchd.log); " + r.verdict_reason;
      copy_timeline(st.session->timeline(), origin, r);
    }
    return r;
  };
  auto session = ScenarioSession::create(sc, caps, lab_id);
  if (!session.ok()) return error(session.status());
  st.session = std::move(session).value();
  if (opt.interrupt && opt.interrupt->load()) return error(cancelled("interrupted"));
  r.lab_setup_ms = st.session->lab_setup_ms();
  if (st.session->libvirt()) r.accel = st.session->libvirt()->accel();
  Status s = st.session->boot(opt.interrupt);
  if (!s.ok()) return error(s);
  core::Cloud& cloud = st.session->cloud();
  core::EventLoop& loop = st.session->loop();
  core::Timeline& timeline = st.session->timeline();
  Lab& lab = st.session->lab();

  // Capture points and the prober.
  std::filesystem::create_directories(opt.results_dir);
  const std::string& src = sc.migration.source;
  const std::string& dst = sc.migration.destination;
  const std::string tap = core::tap_name(sc.guest.port_id);
  std::vector<capture::CapturePointSpec> points;
  auto point = [&](const std::string& name, int fd, const std::string& ifname) {
    std::string file = std::to_string(index) + "-" + name + ".pcap";
    points.push_back({name, fd, ifname, opt.results_dir + "/" + file});
    r.pcaps.push_back(file);
  };
  point("peer", lab.peer_ns().fd(), "eth0");
  for (const auto& h : {src, dst}) {
    point(h + ".fabric_port", lab.fabric_ns().fd(), lab.fabric_uplink_port(h));
    point(h + ".uplink", lab.host(h)->ns.fd(), lab.uplink_name(h));
    point(h + ".tap", lab.host(h)->ns.fd(), tap);
  }
  auto cap = capture::CaptureSession::start(points);
  if (!cap.ok()) return error(cap.status());
  st.capture = std::move(cap).value();
  capture::ProbeConfig pc;
  pc.netns_fd = lab.peer_ns().fd();
  pc.target_ip = sc.guest.ip;
  pc.interval = std::chrono::milliseconds(sc.probe.interval_ms);
  pc.reply_timeout = std::chrono::milliseconds(sc.probe.reply_timeout_ms);
  auto prober = capture::Prober::start(pc);
  if (!prober.ok()) return error(prober.status());
  st.prober = std::move(prober).value();
  const MonoTime probe_start = MonoClock::now();
  timeline.record("prober", "start, every " + std::to_string(sc.probe.interval_ms) + " ms");

  s = loop.run_for(std::chrono::milliseconds(sc.probe.settle_ms), opt.interrupt);
  if (!s.ok()) return error(s);

  if (sc.migration.resume_after_dest_poll_ms) {
    // Start so that the resume falls the given time after a destination
    // agent poll (start-to-resume is pre-copy + pause plus a few ms of RPC).
    core::L2Agent* agent = cloud.agent(dst);
    auto interval = agent->polling_interval();
    auto to_resume = std::chrono::milliseconds(sc.migration.precopy_ms + sc.migration.pause_ms);
    MonoTime resume_at = *agent->last_poll() + std::chrono::milliseconds(*sc.migration.resume_after_dest_poll_ms);
    while (resume_at - to_resume < loop.now()) resume_at += interval;
    s = loop.run_for(resume_at - to_resume - loop.now(), opt.interrupt);
    if (!s.ok()) return error(s);
  }
  // Baseline: a guest that never answered before the migration makes every
  // number after it meaningless.
  {
    int replied = 0;
    for (const auto& rec : st.prober->records()) replied += rec.replied.has_value();
    if (replied == 0) return error(failed_precondition("baseline: the guest did not answer a single probe before the migration"));
  }
  st.session->fault_plan().arm();
  timeline.record("runner", "fault plan armed");
  const bool live = sc.migration.kind == core::MigrationKind::kLive;
  auto mid = live ? cloud.live_migrate(sc.guest.instance_uuid, dst, sc.migration.force)
                  : cloud.migrate(sc.guest.instance_uuid, dst, sc.migration.kind == core::MigrationKind::kResize);
  if (!mid.ok()) {
    // The control plane said no (a conductor check, a fault at the API
    // cast): a result to judge like any other, with the guest untouched.
    if (cloud.migration_count() == 0) return error(mid.status().with_context("migration refused"));
    timeline.record("runner", "migration refused: " + mid.status().message());
    mid = cloud.migration_count();
  }
  if (!live) {
    // Cold migration / resize: to VERIFY_RESIZE, a while there, then the
    // operator's confirm or revert.
    auto verify = [&] {
      const std::string& st = cloud.migration(*mid)->status;
      return st == "finished" || core::is_terminal_migration_status(st);
    };
    s = loop.run_until(verify, loop.now() + 60s, opt.interrupt);
    if (s.code() == StatusCode::kCancelled) return error(s);
    if (cloud.migration(*mid)->status == "finished") {
      s = loop.run_for(std::chrono::milliseconds(sc.migration.verify_ms), opt.interrupt);
      if (!s.ok()) return error(s);
      Status outcome = sc.migration.resize_outcome == "revert" ? cloud.revert_resize(sc.guest.instance_uuid)
                                                               : cloud.confirm_resize(sc.guest.instance_uuid);
      if (!outcome.ok()) return error(outcome);
    }
  }
  // Every wait is bounded: long enough for nova's vif-plugging timeout and
  // the job; a migration still not terminal then is a hang, reported by the
  // migration_terminal invariant (a failure, not an error).
  auto terminal = [&] { return core::is_terminal_migration_status(cloud.migration(*mid)->status); };
  // (Two rpc timeouts: a call to a dead compute, then its rollback call.)
  auto bound = std::chrono::seconds(sc.nova.vif_plugging_timeout_s) +
               2 * std::chrono::seconds(sc.nova.rpc_response_timeout_s) +
               std::chrono::milliseconds(sc.migration.precopy_ms + sc.migration.pause_ms) + 30s;
  s = loop.run_until(terminal, loop.now() + bound, opt.interrupt);
  if (s.code() == StatusCode::kDeadlineExceeded) timeline.record("runner", "migration not terminal after bound: a hang");
  else if (!s.ok()) return error(s.with_context("waiting for the migration"));
  s = loop.run_for(std::chrono::milliseconds(sc.probe.observe_ms), opt.interrupt);
  if (!s.ok()) return error(s);

  const MonoTime probe_end = MonoClock::now();
  st.prober->stop();
  st.capture->stop();
  // A capture point that never opened would look exactly like the outage
  // being measured (nothing seen): refuse to judge without them. The
  // destination's fabric port and uplink may legitimately never exist.
  {
    auto opened = st.capture->opened_points();
    std::vector<std::string> required = {"peer", src + ".fabric_port", src + ".uplink", src + ".tap"};
    // The destination tap exists once libvirt's Prepare ran.
    if (timeline.first("libvirt", "Prepare on " + dst + ":")) required.push_back(dst + ".tap");
    for (const std::string& p : required)
      if (std::find(opened.begin(), opened.end(), p) == opened.end())
        return error(environment_error("capture point " + p + " never opened: measurements are void"));
  }
  // A fabric daemon that died mid-run invalidates every number.
  if (!lab.fabric().healthy()) return error(environment_error("measurements are void"));
  r.migration_status = cloud.migration(*mid)->status;
  core::MoveContext move;
  move.migration_type = cloud.migration(*mid)->migration_type;
  move.waits_for_vif_plugged = sc.nova.live_migration_wait_for_vif_plug;
  move.vif_plugging_is_fatal = sc.nova.vif_plugging_is_fatal;
  auto implied = core::implied_migration_statuses(move, st.session->fault_plan().fired());
  for (const auto& i : cloud.invariant_report(sc.guest.instance_uuid, *mid, implied))
    r.invariants.push_back({i.name, i.ok, i.detail});
  // Hosts with Open vSwitch: both daemons must still run (a crashed
  // ovs-vswitchd silently stops every VM on the host).
  {
    std::string dead;
    bool any = false;
    for (const auto& h : sc.hosts) {
      LabHost* lh = lab.host(h.name);
      if (!lh || !lh->ovs) continue;
      any = true;
      if (!lh->ovs->healthy()) dead += (dead.empty() ? "" : "; ") + std::string("Open vSwitch daemons on ") + h.name + " not running";
    }
    if (any) r.invariants.push_back({"ovs_daemons_alive", dead.empty(), dead});
  }
  r.fault_seed = sc.fault_seed;
  for (const auto& [point, c] : st.session->fault_plan().counts()) r.faults.push_back({point, c.action, c.reached, c.injected});
  if (auto port = lab.fabric().port_of(sc.guest.mac, sc.network.type == "vlan" ? sc.network.segmentation_id : 0);
      port.ok()) {
    timeline.record("fabric", "fdb: " + sc.guest.mac + " -> " + (port->empty() ? "(none)" : *port));
  }

  // Analysis.
  capture::AnalysisInput in;
  in.probes = st.prober->records();
  in.interval = std::chrono::milliseconds(sc.probe.interval_ms);
  in.reply_timeout = std::chrono::milliseconds(sc.probe.reply_timeout_ms);
  in.origin = origin;
  in.window_start = probe_start;
  in.window_end = probe_end;
  // Per-move metrics describe the last move (a revert's, after a resize):
  // the last resume, from the host the guest left to the one it ended on.
  std::string final_host = cloud.instance(sc.guest.instance_uuid)->host;
  std::string left = final_host == src ? dst : src;
  if (LibvirtHypervisor* hv = st.session->libvirt()) {
    auto paused = timeline.all("guest", "paused on");
    record_qemu_announces(timeline, st.capture->packets(), final_host, *capture::parse_mac(sc.guest.mac),
                          paused.empty() ? probe_start : paused.back().t);
    r.metrics.hypervisor_downtime_ms = hv->last_downtime_ms(sc.guest.instance_uuid);
  }
  if (auto all = timeline.all("guest", "resumed on"); !all.empty()) in.resume = all.back().t;
  for (const auto& e : timeline.all("guest", "announce RARP")) in.announces_sent.push_back(e.t);
  in.packets = st.capture->packets();
  in.guest_mac = *capture::parse_mac(sc.guest.mac);
  in.guest_ip = *capture::parse_ipv4(sc.guest.ip);
  in.peer_ip = *capture::parse_ipv4(sc.peer.ip);
  in.src_fabric_point = left + ".fabric_port";
  in.dst_fabric_point = final_host + ".fabric_port";
  capture::Metrics m = capture::analyze(in);
  if (st.session->libvirt() && m.recovered) {
    // QEMU announces as soon as the incoming migration completes, a moment
    // before libvirt resumes the vCPUs: what re-taught the fabric is looked
    // for from the switchover on, not from the resume.
    auto paused = timeline.all("guest", "paused on");
    if (!paused.empty() && in.resume && paused.back().t < *in.resume) {
      capture::AnalysisInput from_pause = in;
      from_pause.resume = paused.back().t;
      m.recovery_cause = capture::analyze(from_pause).recovery_cause;
    }
  }
  r.metrics = {m.loss, m.probes, m.interval_ms, m.max_gap_ms, m.downtime_ms, m.recovery_ms, m.stale_forwarding_ms,
               r.metrics.hypervisor_downtime_ms};
  r.recovery_cause = m.recovery_cause;
  for (const auto& a : m.announces) r.announces.push_back({a.seq, a.t_ms, a.seen_at});
  decide_verdict(sc, m, r);
  copy_timeline(timeline, origin, r);

  // Teardown now, so wall time covers it.
  st.prober.reset();
  st.capture.reset();
  st.session.reset();
  r.wall_ms = ms_since(origin, MonoClock::now());
  return r;
}

}  // namespace lmh::harness
