#include "harness/lab/libvirt_hypervisor.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>

#include "core/fault_hooks.h"
#include "harness/system/files.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"

namespace lmh::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How often the loop drains the inbox while something is outstanding.
constexpr auto kPumpInterval = 2ms;
// How often a booting guest's serial log is read for its ready marker.
constexpr auto kBootCheckInterval = 10ms;
// How long a completed migration waits for the destination's RESUMED event
// before the resume is taken from the completion itself.
constexpr auto kResumeEventGrace = 2s;
// How often the job thread queries the migration job.
constexpr auto kJobPollInterval = 100ms;

// A guest that hangs on its new host, for the runner's unresponsive-guest
// detection: QEMU completes the migration and announces, the vCPUs do not
// run (libvirt's VIR_MIGRATE_PAUSED), then resume after the delay.
const auto kGuestFreeze = faults::define_fault_point({
    .name = "guest.freeze",
    .description = "the guest's vCPUs stay stopped for MS after the migration completes (a guest hung on its new host)",
    .actions = {faults::ActionKind::kDelay},
    .phase = faults::MigrationPhase::kFinish,
    .tiers = faults::kLibvirtTier,
});

size_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(n);
}

std::string tail(const std::string& text, size_t n) {
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The directory of the running program (its build tree, for lmh and tests).
std::string program_dir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().string();
}

std::string fmt_ms(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

const char* lifecycle_name(int event) {
  switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED: return "defined";
    case VIR_DOMAIN_EVENT_UNDEFINED: return "undefined";
    case VIR_DOMAIN_EVENT_STARTED: return "started";
    case VIR_DOMAIN_EVENT_SUSPENDED: return "suspended";
    case VIR_DOMAIN_EVENT_RESUMED: return "resumed";
    case VIR_DOMAIN_EVENT_STOPPED: return "stopped";
    case VIR_DOMAIN_EVENT_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_EVENT_PMSUSPENDED: return "pmsuspended";
    case VIR_DOMAIN_EVENT_CRASHED: return "crashed";
  }
  return "event";
}

// libvirt's default event loop, run by one thread for the whole process
// while any hypervisor uses it. The implementation must be registered
// before the connections that deliver events are opened, and only once.
class EventThread {
 public:
  static void acquire() {
    std::lock_guard<std::mutex> lock(mu());
    static bool registered = [] {
      virInitialize();
      return virEventRegisterDefaultImpl() == 0;
    }();
    (void)registered;
    if (users()++ > 0) return;
    stop() = false;
    // A periodic no-op: virEventRunDefaultImpl returns at least this often,
    // so the thread sees stop() promptly.
    timer() = virEventAddTimeout(100, [](int, void*) {}, nullptr, nullptr);
    thread() = std::thread([] {
      while (!stop().load()) {
        if (virEventRunDefaultImpl() < 0) std::this_thread::sleep_for(10ms);
      }
    });
  }
  static void release() {
    std::lock_guard<std::mutex> lock(mu());
    if (users() == 0 || --users() > 0) return;
    stop() = true;
    if (thread().joinable()) thread().join();
    if (timer() >= 0) virEventRemoveTimeout(timer());
    timer() = -1;
  }

 private:
  static std::mutex& mu() { static std::mutex m; return m; }
  static int& users() { static int n = 0; return n; }
  static int& timer() { static int t = -1; return t; }
  static std::atomic<bool>& stop() { static std::atomic<bool> s{false}; return s; }
  static std::thread& thread() { static std::thread t; return t; }
};

struct TypedParams {
  virTypedParameterPtr params = nullptr;
  int n = 0;
  int max = 0;
  ~TypedParams() { virTypedParamsFree(params, n); }
};

// The <interface> of 'iface' rewritten for 'gi': type, source bridge,
// target dev and (openvswitch) the virtualport; MAC, model, ROM and the
// guest PCI address stay.
void apply_interface(pugi::xml_node iface, const core::GuestInterface& gi) {
  iface.attribute("type") ? iface.attribute("type").set_value("bridge") : iface.append_attribute("type").set_value("bridge");
  auto set_child_attr = [&](const char* child, const char* attr, const std::string& value) {
    pugi::xml_node n = iface.child(child);
    if (!n) n = iface.append_child(child);
    for (auto a = n.first_attribute(); a;) {
      auto next = a.next_attribute();
      n.remove_attribute(a);
      a = next;
    }
    n.append_attribute(attr).set_value(value.c_str());
  };
  set_child_attr("source", "bridge", gi.bridge);
  set_child_attr("target", "dev", gi.target_dev);
  while (pugi::xml_node vp = iface.child("virtualport")) iface.remove_child(vp);
  if (gi.type == "openvswitch") {
    pugi::xml_node vp = iface.append_child("virtualport");
    vp.append_attribute("type").set_value("openvswitch");
    vp.append_child("parameters").append_attribute("interfaceid").set_value(gi.interface_id.c_str());
  }
}

std::string to_text(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default | pugi::format_no_declaration);
  return out.str();
}

}  // namespace

// ---------------------------------------------------------------- files

StatusOr<GuestImage> real_tier_guest_image() {
  auto image_in = [](const std::string& dir) {
    return GuestImage{dir + "/vmlinuz", dir + "/initramfs.cpio.gz"};
  };
  auto present = [](const GuestImage& g) {
    return ::access(g.kernel.c_str(), R_OK) == 0 && ::access(g.initrd.c_str(), R_OK) == 0;
  };
  if (const char* dir = ::getenv("LMH_GUEST_DIR"); dir && *dir) {
    GuestImage g = image_in(dir);
    if (!present(g))
      return environment_error(std::string("LMH_GUEST_DIR=") + dir + " holds no vmlinuz and initramfs.cpio.gz "
                               "(build one with tools/build-guest-image.sh " + dir + ")");
    return g;
  }
  const std::string dir = program_dir() + "/guest";
#ifdef LMH_SOURCE_DIR
  // The source tree that built this program: its script refreshes the image
  // (a no-op while the image is newer than the script).
  if (::access(LMH_SOURCE_DIR "/tools/build-guest-image.sh", R_OK) == 0) {
    auto built = ensure_guest_image(LMH_SOURCE_DIR, dir);
    if (built.ok()) return built;
    if (!present(image_in(dir))) return built.status();
    // A stale image that could not be refreshed (no network) still boots.
  }
#endif
  GuestImage g = image_in(dir);
  if (!present(g))
    return environment_error("no guest image in " + dir + " (run `make guest-image`, or set LMH_GUEST_DIR to a "
                             "directory holding vmlinuz and initramfs.cpio.gz)");
  return g;
}

std::string real_tier_libvirt_cache_dir() {
  if (const char* dir = ::getenv("LMH_LIBVIRT_CACHE"); dir && *dir) return dir;
  return program_dir() + "/libvirt-cache";
}

// ---------------------------------------------------------------- state

struct LibvirtHypervisor::Shared {
  std::mutex mu;
  std::deque<std::function<void()>> inbox;
  void post(std::function<void()> f) {
    std::lock_guard<std::mutex> lock(mu);
    inbox.push_back(std::move(f));
  }
  std::deque<std::function<void()>> take() {
    std::lock_guard<std::mutex> lock(mu);
    return std::exchange(inbox, {});
  }
  bool empty() {
    std::lock_guard<std::mutex> lock(mu);
    return inbox.empty();
  }
};

struct LibvirtHypervisor::HostConnection {
  std::string host;
  LibvirtHost* libvirt = nullptr;
  LibvirtConnection conn;  // ours: opened after the event loop was registered
  int callback_id = -1;
};

// One live migration: set up on the loop, run by the worker, finished on
// the loop. The worker reads only the immutable part.
struct LibvirtHypervisor::Migration {
  std::string uuid, source, destination;
  std::string source_uri, dest_uri, dest_xml;
  std::vector<core::GuestInterface> dest_interfaces;
  core::LiveMigrationCallbacks cb;
  std::string fail_message;  // hypervisor.migrate fail: abort once running
  std::chrono::milliseconds freeze{0};  // guest.freeze: migrate paused, resume this much later
  // Loop thread only.
  bool paused = false;
  bool resumed = false;
  bool finished = false;
  bool abort_requested = false;
  bool fault_abort_sent = false;  // job thread only
  MonoTime started{};
  MonoTime completed_at{};
  // Set by the worker before it posts its result.
  std::atomic<bool> worker_done{false};
  // The job thread (see job_thread()): the latest job query, and the
  // control commands nova's monitor asked for, run in order.
  std::mutex mu;
  std::condition_variable cv;
  std::optional<StatusOr<core::JobInfo>> snapshot;
  std::deque<std::pair<std::string, std::function<int(virDomainPtr)>>> commands;
};

struct LibvirtHypervisor::Guest {
  std::string uuid, name;
  RealGuestConfig config;
  std::string host;  // where it runs; "" before spawn and after power_off
  core::GuestSpec spec;
  bool powered_on_before = false;
  // Boot.
  bool booting = false;
  bool ready = false;
  Status boot_status;
  MonoTime boot_started{};
  MonoTime last_boot_check{};
  size_t log_offset = 0;
  std::optional<double> boot_ms;
  // Serial console on 'host'.
  std::string serial_socket, serial_log;
  int next_seq = 1;
  // Migrations: the current (or last) one.
  std::shared_ptr<Migration> migration;
  std::optional<double> downtime_ms;
  std::optional<double> migration_ms;
  // What nova's monitor drives.
  struct Job final : core::JobControl {
    LibvirtHypervisor* hv = nullptr;
    std::string uuid;
    StatusOr<core::JobInfo> job_info() override;
    Status set_max_downtime(int ms) override;
    Status abort() override;
    Status force_complete() override;
    // Queues 'what' ('run' on the source domain) for the job thread.
    Status enqueue(const std::string& what, std::function<int(virDomainPtr)> run);
  } job;
};

// ---------------------------------------------------------------- set-up

LibvirtHypervisor::LibvirtHypervisor(Lab& lab, core::EventLoop& loop, core::Timeline& timeline, Options options,
                                     faults::FaultPlan* faults)
    : lab_(lab), loop_(loop), timeline_(timeline), options_(std::move(options)), faults_(faults),
      shared_(std::make_shared<Shared>()) {}

StatusOr<std::unique_ptr<LibvirtHypervisor>> LibvirtHypervisor::create(Lab& lab, core::EventLoop& loop,
                                                                       core::Timeline& timeline, Options options,
                                                                       faults::FaultPlan* faults) {
  if (options.accel != "kvm" && options.accel != "tcg") return invalid_argument("accel must be kvm or tcg");
  std::unique_ptr<LibvirtHypervisor> hv(new LibvirtHypervisor(lab, loop, timeline, std::move(options), faults));
  EventThread::acquire();
  hv->events_acquired_ = true;
  LMH_RETURN_IF_ERROR(hv->connect_hosts());
  return hv;
}

Status LibvirtHypervisor::connect_hosts() {
  for (const auto& spec : lab_.topology().hosts) {
    LabHost* h = lab_.host(spec.name);
    if (!h || !h->libvirt) continue;
    auto hc = std::make_unique<HostConnection>();
    hc->host = spec.name;
    hc->libvirt = h->libvirt.get();
    auto conn = open_libvirt(h->libvirt->uri());
    if (!conn.ok()) return conn.status().with_context("libvirtd on " + spec.name);
    hc->conn = std::move(conn).value();
    // The callback runs on libvirt's event thread: it only posts.
    struct Context {
      std::weak_ptr<Shared> shared;
      LibvirtHypervisor* self;
      std::string host;
    };
    auto* ctx = new Context{shared_, this, spec.name};
    virConnectDomainEventCallback cb = [](virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) -> int {
      auto* c = static_cast<Context*>(opaque);
      const MonoTime t = MonoClock::now();
      char uuid[VIR_UUID_STRING_BUFLEN] = {};
      if (virDomainGetUUIDString(dom, uuid) != 0) return 0;
      if (auto shared = c->shared.lock()) {
        LibvirtHypervisor* self = c->self;
        std::string host = c->host, id = uuid;
        shared->post([self, host, id, event, detail, t] { self->on_lifecycle(host, id, event, detail, t); });
      }
      return 0;
    };
    hc->callback_id = virConnectDomainEventRegisterAny(hc->conn.get(), nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                       VIR_DOMAIN_EVENT_CALLBACK(cb), ctx,
                                                       [](void* p) { delete static_cast<Context*>(p); });
    if (hc->callback_id < 0) {
      delete ctx;
      return libvirt_error("register lifecycle events on " + spec.name);
    }
    hosts_[spec.name] = std::move(hc);
  }
  if (hosts_.empty()) return failed_precondition("no lab host runs libvirtd (scenario tier is not libvirt?)");
  return ok_status();
}

void LibvirtHypervisor::join_threads(bool abort_migrations) {
  if (abort_migrations) {
    for (auto& [uuid, g] : guests_) {
      auto& m = g->migration;
      if (!m || m->worker_done.load()) continue;
      HostConnection* hc = host_connection(m->source);
      LibvirtDomain dom(virDomainLookupByUUIDString(hc->conn.get(), uuid.c_str()));
      if (dom) (void)virDomainAbortJob(dom.get());
    }
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

LibvirtHypervisor::~LibvirtHypervisor() {
  join_threads(/*abort_migrations=*/true);
  for (auto& [name, hc] : hosts_)
    if (hc->callback_id >= 0) (void)virConnectDomainEventDeregisterAny(hc->conn.get(), hc->callback_id);
  hosts_.clear();
  if (events_acquired_) EventThread::release();
}

LibvirtHypervisor::HostConnection* LibvirtHypervisor::host_connection(const std::string& host) {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? nullptr : it->second.get();
}

Status LibvirtHypervisor::configure_guest(const std::string& uuid, RealGuestConfig config) {
  if (guests_.count(uuid)) return Status(StatusCode::kAlreadyExists, "guest " + uuid + " already configured");
  auto g = std::make_unique<Guest>();
  g->uuid = uuid;
  g->config = std::move(config);
  g->job.hv = this;
  g->job.uuid = uuid;
  guests_[uuid] = std::move(g);
  return ok_status();
}

// ---------------------------------------------------------------- the inbox

bool LibvirtHypervisor::outstanding() const {
  if (commands_in_flight_ > 0) return true;
  for (const auto& [uuid, g] : guests_) {
    if (g->booting) return true;
    if (g->migration && !g->migration->finished) return true;
  }
  return false;
}

void LibvirtHypervisor::ensure_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  loop_.post_after(kPumpInterval, [this] { pump(); });
}

void LibvirtHypervisor::pump() {
  pump_scheduled_ = false;
  for (auto& task : shared_->take()) task();
  const MonoTime now = loop_.now();
  for (auto& [uuid, gp] : guests_) {
    Guest& g = *gp;
    if (!g.booting || now - g.last_boot_check < kBootCheckInterval) continue;
    g.last_boot_check = now;
    std::string log = read_text_file(g.serial_log);
    if (log.size() > g.log_offset && log.find(kGuestReadyMarker, g.log_offset) != std::string::npos) {
      g.booting = false;
      g.ready = true;
      g.boot_ms = ms_since(g.boot_started, now);
      if (g.powered_on_before) timeline_.record(core::EventKind::kGuestBooted, g.host, "guest", "resumed on " + g.host + " (booted)");
      else timeline_.record("guest", "ready on " + g.host + " after " + fmt_ms(*g.boot_ms) + " ms (" + options_.accel + ")");
      g.powered_on_before = true;
    } else if (now - g.boot_started > options_.boot_timeout) {
      g.booting = false;
      g.boot_status = deadline_exceeded("guest " + g.name + " on " + g.host + " printed no " + kGuestReadyMarker +
                                        " within " + std::to_string(options_.boot_timeout.count()) +
                                        " ms; serial log " + g.serial_log + ":\n" + tail(log.substr(std::min(log.size(), g.log_offset)), 1500));
      timeline_.record("guest", "boot on " + g.host + " timed out");
    }
  }
  if (outstanding() || !shared_->empty()) ensure_pump();
}

// ---------------------------------------------------------------- domains

StatusOr<std::string> LibvirtHypervisor::domain_xml(Guest& g, const std::string& host, const core::GuestSpec& spec) {
  HostConnection* hc = host_connection(host);
  const core::GuestInterface& gi = spec.interfaces.at(0);
  GuestDomainSpec ds;
  ds.name = spec.name;
  ds.accel = options_.accel;
  ds.memory_mib = g.config.memory_mib;
  ds.kernel = options_.image.kernel;
  ds.initrd = options_.image.initrd;
  ds.ip_cidr = g.config.ip_cidr;
  ds.gateway = g.config.gateway;
  ds.mac = gi.mac;
  ds.bridge = gi.bridge;
  ds.tap = gi.target_dev;
  ds.serial_socket = hc->libvirt->state_dir() + "/" + spec.name + ".serial";
  ds.serial_log = hc->libvirt->state_dir() + "/" + spec.name + ".serial.log";
  pugi::xml_document doc;
  if (!doc.load_string(guest_domain_xml(ds).c_str())) return internal_error("guest_domain_xml produced bad XML");
  pugi::xml_node domain = doc.child("domain");
  // The instance UUID is the domain's, as nova defines it: migration keeps it.
  domain.insert_child_after("uuid", domain.child("name")).text().set(spec.instance_uuid.c_str());
  apply_interface(domain.child("devices").child("interface"), gi);
  return to_text(doc);
}

Status LibvirtHypervisor::spawn(const std::string& host, const core::GuestSpec& spec) {
  auto it = guests_.find(spec.instance_uuid);
  if (it == guests_.end()) return failed_precondition("guest " + spec.instance_uuid + " not configured");
  Guest& g = *it->second;
  if (spec.interfaces.size() != 1) return invalid_argument("the real guest has exactly one NIC");
  if (!g.host.empty()) return failed_precondition("guest " + spec.name + " is running on " + g.host);
  HostConnection* hc = host_connection(host);
  if (!hc) return failed_precondition("host " + host + " runs no libvirtd");
  const core::GuestInterface& gi = spec.interfaces[0];
  if (gi.type != "bridge" && gi.type != "openvswitch")
    return failed_precondition("interface type " + gi.type + " is not supported");
  if (gi.type == "openvswitch" && !lab_.host(host)->ovs)
    return failed_precondition("<virtualport type='openvswitch'> on " + host + ", which runs no Open vSwitch");
  g.name = spec.name;
  auto xml = domain_xml(g, host, spec);
  if (!xml.ok()) return xml.status();
  LibvirtDomain dom(virDomainDefineXML(hc->conn.get(), xml->c_str()));
  if (!dom) return libvirt_error("define " + spec.name + " on " + host);
  g.serial_socket = hc->libvirt->state_dir() + "/" + spec.name + ".serial";
  g.serial_log = hc->libvirt->state_dir() + "/" + spec.name + ".serial.log";
  g.log_offset = file_size(g.serial_log);
  const MonoTime t0 = loop_.now();
  if (virDomainCreate(dom.get()) != 0) {
    Status s = libvirt_error("start " + spec.name + " on " + host);
    (void)virDomainUndefine(dom.get());
    std::string qemu_log = read_text_file(hc->libvirt->state_dir() + "/log/qemu/" + spec.name + ".log");
    return s.with_context(qemu_log.empty() ? "spawn" : "spawn (QEMU log: " + tail(qemu_log, 800) + ")");
  }
  g.host = host;
  g.spec = spec;
  g.booting = true;
  g.ready = false;
  g.boot_status = ok_status();
  g.boot_started = t0;
  if (g.powered_on_before) timeline_.record("guest", "powered on on " + host + ", booting");
  else timeline_.record(core::EventKind::kGuestStarted, host, "guest", "started on " + host + ", " + gi.target_dev + " on " + gi.bridge);
  ensure_pump();
  return ok_status();
}

Status LibvirtHypervisor::power_off(const std::string& host, const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host != host) return failed_precondition("guest not running on " + host);
  Guest& g = *it->second;
  HostConnection* hc = host_connection(host);
  LibvirtDomain dom(virDomainLookupByUUIDString(hc->conn.get(), uuid.c_str()));
  if (!dom) return libvirt_error("look up " + g.name + " on " + host);
  // As nova's destroy: the QEMU process goes (with its tap), then the
  // definition.
  if (virDomainIsActive(dom.get()) == 1 && virDomainDestroy(dom.get()) != 0)
    return libvirt_error("destroy " + g.name + " on " + host);
  if (virDomainIsPersistent(dom.get()) == 1 && virDomainUndefine(dom.get()) != 0)
    return libvirt_error("undefine " + g.name + " on " + host);
  g.host.clear();
  g.booting = false;
  g.ready = false;
  timeline_.record(core::EventKind::kGuestPoweredOff, host, "guest", "powered off on " + host);
  return ok_status();
}

std::vector<std::string> LibvirtHypervisor::hosts_running(const std::string& uuid) {
  std::vector<std::string> out;
  for (auto& [name, hc] : hosts_) {
    LibvirtDomain dom(virDomainLookupByUUIDString(hc->conn.get(), uuid.c_str()));
    if (dom && virDomainIsActive(dom.get()) == 1) out.push_back(name);
  }
  return out;
}

bool LibvirtHypervisor::guest_ready(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  return it != guests_.end() && it->second->ready;
}

Status LibvirtHypervisor::guest_boot_status(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  if (it == guests_.end()) return not_found("guest " + uuid);
  return it->second->boot_status;
}

std::optional<double> LibvirtHypervisor::last_downtime_ms(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  return it == guests_.end() ? std::nullopt : it->second->downtime_ms;
}

std::optional<double> LibvirtHypervisor::last_boot_ms(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  return it == guests_.end() ? std::nullopt : it->second->boot_ms;
}

std::optional<double> LibvirtHypervisor::last_migration_ms(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  return it == guests_.end() ? std::nullopt : it->second->migration_ms;
}

Status LibvirtHypervisor::announce_self(const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host.empty()) return failed_precondition("guest not running");
  Guest& g = *it->second;
  HostConnection* hc = host_connection(g.host);
  LibvirtDomain dom(virDomainLookupByUUIDString(hc->conn.get(), uuid.c_str()));
  if (!dom) return libvirt_error("look up " + g.name + " on " + g.host);
  // QEMU's own defaults, spelled out: 5 rounds, 50 ms initial, +100 ms.
  const char* cmd =
      "{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,\"max\":550,\"rounds\":5,\"step\":100}}";
  char* reply = nullptr;
  if (virDomainQemuMonitorCommand(dom.get(), cmd, &reply, VIR_DOMAIN_QEMU_MONITOR_COMMAND_DEFAULT) != 0)
    return libvirt_error("QMP announce-self on " + g.host);
  ::free(reply);
  timeline_.record("libvirt", "QMP announce-self on " + g.host);
  return ok_status();
}

// ---------------------------------------------------------------- live migration

void LibvirtHypervisor::live_migrate(const std::string& uuid, const std::string& source,
                                     const std::string& destination,
                                     const std::vector<core::GuestInterface>& dest_interfaces,
                                     core::LiveMigrationCallbacks cb) {
  auto fail_now = [&](Status s) {
    timeline_.record("libvirt", "Begin on " + source + " failed: " + s.message());
    loop_.post([cb, s] { cb.on_done(s); });
  };
  auto it = guests_.find(uuid);
  HostConnection* src = host_connection(source);
  HostConnection* dst = host_connection(destination);
  if (it == guests_.end() || it->second->host != source) return fail_now(failed_precondition("no such guest running on the source"));
  if (!src || !dst) return fail_now(failed_precondition("source or destination runs no libvirtd"));
  Guest& g = *it->second;
  if (g.migration && !g.migration->finished) return fail_now(failed_precondition("a migration of this guest is running"));

  // Begin: the migratable XML, with what core computed for the destination
  // (interfaces matched by MAC) and the destination host's serial paths.
  LibvirtDomain dom(virDomainLookupByUUIDString(src->conn.get(), uuid.c_str()));
  if (!dom) return fail_now(libvirt_error("look up " + g.name + " on " + source));
  char* xml = virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_MIGRATABLE);
  if (!xml) return fail_now(libvirt_error("migratable XML of " + g.name));
  pugi::xml_document doc;
  bool parsed = static_cast<bool>(doc.load_string(xml));
  ::free(xml);
  if (!parsed) return fail_now(internal_error("libvirt returned unparsable domain XML"));
  pugi::xml_node devices = doc.child("domain").child("devices");
  for (pugi::xml_node iface : devices.children("interface")) {
    std::string mac = lower(iface.child("mac").attribute("address").value());
    for (const auto& gi : dest_interfaces)
      if (lower(gi.mac) == mac) apply_interface(iface, gi);
  }
  const std::string dst_dir = dst->libvirt->state_dir();
  for (const char* kind : {"serial", "console"}) {
    for (pugi::xml_node port : devices.children(kind)) {
      if (auto s = port.child("source")) s.attribute("path").set_value((dst_dir + "/" + g.name + ".serial").c_str());
      if (auto l = port.child("log")) l.attribute("file").set_value((dst_dir + "/" + g.name + ".serial.log").c_str());
    }
  }

  auto m = std::make_shared<Migration>();
  m->uuid = uuid;
  m->source = source;
  m->destination = destination;
  m->source_uri = src->libvirt->uri();
  m->dest_uri = dst->libvirt->uri();
  m->dest_xml = to_text(doc);
  m->dest_interfaces = dest_interfaces;
  m->cb = std::move(cb);
  g.migration = m;
  timeline_.record(core::EventKind::kBegin, source, "libvirt", "Begin on " + source + ": p2p tunnelled migrateToURI3 to " + destination);

  // hypervisor.migrate: a delay holds the job back; a fail aborts it once
  // it runs (the guest stays on the source, the incoming domain goes).
  faults::Decision d = core::consult_fault(faults_, timeline_, core::kHypervisorMigrate);
  MonoClock::duration hold{0};
  if (d.kind == faults::ActionKind::kDelay) hold = d.delay;
  else if (d.kind == faults::ActionKind::kFail) m->fail_message = d.message.empty() ? "injected failure" : d.message;
  else if (d.fires()) core::fault_not_supported(timeline_, core::kHypervisorMigrate, d);
  faults::Decision freeze = core::consult_fault(faults_, timeline_, kGuestFreeze);
  if (freeze.kind == faults::ActionKind::kDelay) m->freeze = freeze.delay;
  else if (freeze.fires()) core::fault_not_supported(timeline_, kGuestFreeze, freeze);
  ensure_pump();
  job_thread(m);
  if (hold.count() > 0) loop_.post_after(hold, [this, m] { start_worker(m); });
  else start_worker(m);
}

LibvirtHypervisor::MigrateCallResult LibvirtHypervisor::migrate_to_uri3(const Migration& mig) {
  const Migration* m = &mig;  // the worker holds it alive
  MigrateCallResult r;
  auto src = open_libvirt(m->source_uri);
  if (!src.ok()) { r.status = src.status(); return r; }
  LibvirtDomain dom(virDomainLookupByUUIDString(src->get(), m->uuid.c_str()));
  if (!dom) { r.status = libvirt_error("look up the guest on " + m->source); return r; }
  TypedParams p;
  if (virTypedParamsAddString(&p.params, &p.n, &p.max, VIR_MIGRATE_PARAM_DEST_XML, m->dest_xml.c_str()) < 0 ||
      virTypedParamsAddString(&p.params, &p.n, &p.max, VIR_MIGRATE_PARAM_PERSIST_XML, m->dest_xml.c_str()) < 0) {
    r.status = libvirt_error("migration parameters");
    return r;
  }
  const unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                         VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_TUNNELLED |
                         (m->freeze.count() > 0 ? static_cast<unsigned>(VIR_MIGRATE_PAUSED) : 0u);
  const MonoTime t0 = MonoClock::now();
  int rc = virDomainMigrateToURI3(dom.get(), m->dest_uri.c_str(), p.params, p.n, flags);
  r.call_ms = ms_since(t0, MonoClock::now());
  if (rc != 0) r.status = libvirt_error("virDomainMigrateToURI3");
  auto dst = open_libvirt(m->dest_uri);
  if (!dst.ok()) {
    if (r.status.ok()) r.status = dst.status();
    return r;
  }
  LibvirtDomain on_dst(virDomainLookupByUUIDString(dst->get(), m->uuid.c_str()));
  if (!r.status.ok()) {
    // A failed migration leaves nothing on the destination: libvirt's
    // Finish/Confirm kill the incoming QEMU; make sure.
    if (on_dst) {
      if (virDomainIsActive(on_dst.get()) == 1) (void)virDomainDestroy(on_dst.get());
      if (virDomainIsPersistent(on_dst.get()) == 1) (void)virDomainUndefine(on_dst.get());
      r.note = "removed a domain left on " + m->destination;
    }
    return r;
  }
  if (!on_dst) {
    r.status = libvirt_error("the guest is not on " + m->destination + " after migration");
    return r;
  }
  // QEMU's downtime: with UNDEFINE_SOURCE the source's job is gone;
  // the destination's completed (incoming) job carries it.
  int type = 0;
  virTypedParameterPtr stats = nullptr;
  int n = 0;
  if (virDomainGetJobStats(on_dst.get(), &type, &stats, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0) {
    unsigned long long v = 0;
    if (virTypedParamsGetULLong(stats, n, VIR_DOMAIN_JOB_DOWNTIME, &v) == 1) r.downtime_ms = v;
    if (virTypedParamsGetULLong(stats, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) == 1) r.job_ms = v;
    virTypedParamsFree(stats, n);
  } else {
    r.note = libvirt_error("completed job stats").message();
  }
  return r;
}

void LibvirtHypervisor::start_worker(const std::shared_ptr<Migration>& m) {
  m->started = loop_.now();
  if (m->abort_requested) {
    // Aborted while held back by a fault delay: nothing ran.
    {
      std::lock_guard<std::mutex> lock(m->mu);
      m->worker_done = true;
    }
    m->cv.notify_all();
    finish_migration(m, cancelled("migration job cancelled"));
    return;
  }
  std::shared_ptr<Shared> shared = shared_;
  threads_.emplace_back([this, shared, m] {
    MigrateCallResult r = migrate_to_uri3(*m);
    {
      std::lock_guard<std::mutex> lock(m->mu);
      m->worker_done = true;
    }
    m->cv.notify_all();
    shared->post([this, m, r] {
      if (auto it = guests_.find(m->uuid); it != guests_.end()) {
        Guest& g = *it->second;
        g.migration_ms = r.call_ms;
        if (r.downtime_ms) g.downtime_ms = static_cast<double>(*r.downtime_ms);
      }
      std::string what = "migrateToURI3 returned after " + fmt_ms(r.call_ms) + " ms";
      if (r.downtime_ms) what += ", QEMU downtime " + std::to_string(*r.downtime_ms) + " ms";
      if (r.job_ms) what += " (job " + std::to_string(*r.job_ms) + " ms)";
      if (!r.note.empty()) what += "; " + r.note;
      timeline_.record("libvirt", what);
      finish_migration(m, r.status);
    });
  });
  timeline_.record(core::EventKind::kPerform, m->source, "libvirt", "Perform on " + m->source + ": migration job started");
}

void LibvirtHypervisor::deliver_paused(Migration& m, MonoTime t) {
  if (m.paused) return;
  m.paused = true;
  timeline_.record_at(t, core::EventKind::kGuestPaused, m.source, "guest", "paused on " + m.source);
  lab_.switchover_faults(m.destination, faults_, loop_, timeline_);
  if (m.cb.on_paused) m.cb.on_paused();
}

void LibvirtHypervisor::deliver_resumed(Migration& m, MonoTime t) {
  if (m.resumed) return;
  if (!m.paused) {
    timeline_.record_at(t, "libvirt", "no SUSPENDED event from " + m.source + " before the resume");
    deliver_paused(m, t);
  }
  m.resumed = true;
  timeline_.record_at(t, core::EventKind::kGuestResumed, m.destination, "guest", "resumed on " + m.destination);
  timeline_.record_at(t, core::EventKind::kFinish, m.destination, "libvirt", "Finish on " + m.destination);
  if (auto it = guests_.find(m.uuid); it != guests_.end()) {
    Guest& g = *it->second;
    HostConnection* dst = host_connection(m.destination);
    g.host = m.destination;
    g.spec.interfaces = m.dest_interfaces;
    g.serial_socket = dst->libvirt->state_dir() + "/" + g.name + ".serial";
    g.serial_log = dst->libvirt->state_dir() + "/" + g.name + ".serial.log";
    schedule_traffic(g);
  }
  if (m.cb.on_resumed) m.cb.on_resumed();
}

void LibvirtHypervisor::on_lifecycle(const std::string& host, const std::string& uuid, int event, int detail,
                                     MonoTime t) {
  auto it = guests_.find(uuid);
  if (it == guests_.end()) return;
  Guest& g = *it->second;
  timeline_.record_at(t, "libvirt." + host, g.name + " " + lifecycle_name(event) + " (detail " + std::to_string(detail) + ")");
  std::shared_ptr<Migration> m = g.migration;
  if (m && !m->finished) {
    if (host == m->destination && event == VIR_DOMAIN_EVENT_STARTED && detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED) {
      std::string what;
      for (const auto& gi : m->dest_interfaces) what += (what.empty() ? "" : ", ") + gi.target_dev + " attached to " + gi.bridge;
      timeline_.record_at(t, core::EventKind::kPrepare, m->destination, "libvirt",
                          "Prepare on " + m->destination + ": incoming QEMU started, " + what);
    } else if (host == m->source && event == VIR_DOMAIN_EVENT_SUSPENDED) {
      deliver_paused(*m, t);
    } else if (host == m->destination && event == VIR_DOMAIN_EVENT_RESUMED) {
      deliver_resumed(*m, t);
    } else if (host == m->source && event == VIR_DOMAIN_EVENT_RESUMED && m->paused && !m->resumed) {
      timeline_.record_at(t, core::EventKind::kGuestResumed, m->source, "guest", "resumed on " + m->source + " (migration failed)");
    }
    return;
  }
  if (g.booting && host == g.host && event == VIR_DOMAIN_EVENT_STOPPED) {
    g.booting = false;
    HostConnection* hc = host_connection(host);
    std::string qemu_log = hc ? read_text_file(hc->libvirt->state_dir() + "/log/qemu/" + g.name + ".log") : "";
    g.boot_status = environment_error("QEMU of " + g.name + " on " + host + " stopped while booting: " + tail(qemu_log, 800));
  }
}

void LibvirtHypervisor::finish_migration(const std::shared_ptr<Migration>& m, Status result) {
  if (m->finished) return;
  auto it = guests_.find(m->uuid);
  if (it == guests_.end()) return;
  Guest& g = *it->second;
  const MonoTime now = loop_.now();
  if (result.ok() && !m->resumed && m->freeze.count() > 0) {
    // Migrated paused: no RESUMED event comes. QEMU runs and announces on
    // the destination from the completion; the vCPUs start later.
    timeline_.record("libvirt", "guest.freeze: " + g.name + " migrated paused; vCPUs start in " +
                                    std::to_string(m->freeze.count()) + " ms");
    deliver_resumed(*m, now);
    loop_.post_after(m->freeze, [this, uuid = m->uuid, host = m->destination] { unfreeze(uuid, host); });
  }
  if (result.ok() && !m->resumed) {
    // The RESUMED event travels on another connection: give it a moment.
    if (m->completed_at == MonoTime{}) m->completed_at = now;
    if (now - m->completed_at < kResumeEventGrace) {
      loop_.post_after(10ms, [this, m, result] { finish_migration(m, result); });
      return;
    }
    timeline_.record("libvirt", "no RESUMED event from " + m->destination + ": resume taken at completion");
    deliver_resumed(*m, m->completed_at);
  }
  m->finished = true;
  if (result.ok()) {
    timeline_.record(core::EventKind::kConfirm, m->source, "libvirt", "Confirm on " + m->source + ": source domain gone");
    if (m->cb.on_done) m->cb.on_done(ok_status());
    return;
  }
  // The guest stays where it was (QEMU resumes it on the source).
  if (!m->resumed) g.host = m->source;
  Status s = result;
  if (!m->fail_message.empty()) s = internal_error("migration job failed: " + m->fail_message + " (" + result.message() + ")");
  else if (m->abort_requested) s = cancelled("migration job cancelled (" + result.message() + ")");
  timeline_.record("libvirt", "migration to " + m->destination + " failed: " + s.message() + "; guest stays on " + m->source);
  if (m->cb.on_done) m->cb.on_done(s);
}

void LibvirtHypervisor::unfreeze(const std::string& uuid, const std::string& host) {
  auto it = guests_.find(uuid);
  HostConnection* hc = host_connection(host);
  if (it == guests_.end() || it->second->host != host || !hc) return;  // powered off or moved on
  LibvirtDomain dom(virDomainLookupByUUIDString(hc->conn.get(), uuid.c_str()));
  const bool resumed = dom && virDomainResume(dom.get()) == 0;
  timeline_.record("libvirt", "guest.freeze: " + it->second->name + (resumed ? " vCPUs started on " + host
                                                                             : " resume failed: " + libvirt_error("resume").message()));
}

void LibvirtHypervisor::schedule_traffic(Guest& g) {
  if (!g.config.traffic_after_resume || g.config.traffic_to.empty()) return;
  const std::string uuid = g.uuid, host = g.host;
  commands_in_flight_++;  // keeps the pump alive until the command is done
  loop_.post_after(*g.config.traffic_after_resume, [this, uuid, host] {
    Guest& g = *guests_.at(uuid);
    if (g.host != host) {
      commands_in_flight_--;
      return;
    }
    const int seq = g.next_seq++;
    const std::string to = g.config.traffic_to;
    const std::string socket = g.serial_socket, log = g.serial_log;
    timeline_.record("guest", "traffic ping to " + to + " (serial command)");
    std::shared_ptr<Shared> shared = shared_;
    threads_.emplace_back([this, shared, socket, log, seq, to] {
      auto rc = guest_serial_command(socket, log, seq, "ping " + to + " 1", 10s);
      shared->post([this, rc, to] {
        commands_in_flight_--;
        timeline_.record("guest", "traffic ping to " + to + ": " +
                                      (rc.ok() ? "rc=" + std::to_string(*rc) : rc.status().message()));
      });
    });
    ensure_pump();
  });
}

// ---------------------------------------------------------------- console

std::vector<std::string> virtio_kernel_errors(const std::string& serial_log) {
  std::vector<std::string> out;
  std::istringstream log(serial_log);
  for (std::string line; std::getline(log, line);) {
    if (line.find("virtio") == std::string::npos) continue;
    if (line.find("is not a head") == std::string::npos && line.find("broken") == std::string::npos &&
        line.find("Bad ") == std::string::npos && line.find("error") == std::string::npos)
      continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> LibvirtHypervisor::virtio_errors(const std::string& uuid) const {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host.empty()) return {};
  return virtio_kernel_errors(read_text_file(it->second->serial_log));
}

std::string LibvirtHypervisor::paused_state(const std::string& uuid) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host.empty()) return "";
  HostConnection* hc = host_connection(it->second->host);
  if (!hc) return "";
  LibvirtDomain dom(virDomainLookupByUUIDString(hc->conn.get(), uuid.c_str()));
  int state = 0, reason = 0;
  if (!dom || virDomainGetState(dom.get(), &state, &reason, 0) != 0 || state != VIR_DOMAIN_PAUSED) return "";
  return "paused (libvirt reason " + std::to_string(reason) + ")";
}

StatusOr<std::string> LibvirtHypervisor::console_command(const std::string& uuid, const std::string& command,
                                                         std::chrono::milliseconds timeout) {
  auto it = guests_.find(uuid);
  if (it == guests_.end() || it->second->host.empty()) return failed_precondition("guest " + uuid + " is not running");
  Guest& g = *it->second;
  const int seq = g.next_seq++;
  const size_t from = file_size(g.serial_log);
  auto rc = guest_serial_command(g.serial_socket, g.serial_log, seq, command, timeout);
  if (!rc.ok()) return rc.status();
  std::string log = read_text_file(g.serial_log);
  std::string out = log.substr(std::min(from, log.size()));
  if (auto done = out.find("LMH-DONE " + std::to_string(seq) + " "); done != std::string::npos) out.resize(done);
  return out;
}

std::vector<std::string> LibvirtHypervisor::copy_serial_logs(const std::string& dir, const std::string& prefix) const {
  std::vector<std::string> written;
  std::error_code ec;
  for (const auto& [host, hc] : hosts_) {
    for (const auto& [uuid, g] : guests_) {
      const std::string from = hc->libvirt->state_dir() + "/" + g->name + ".serial.log";
      if (!std::filesystem::exists(from, ec)) continue;
      const std::string name = prefix + host + "-" + g->name + ".serial.log";
      if (std::filesystem::copy_file(from, dir + "/" + name, std::filesystem::copy_options::overwrite_existing, ec))
        written.push_back(name);
    }
  }
  return written;
}

// ---------------------------------------------------------------- job control

core::JobControl* LibvirtHypervisor::migration_job(const std::string& uuid) {
  auto it = guests_.find(uuid);
  return it == guests_.end() ? nullptr : &it->second->job;
}

StatusOr<core::JobInfo> LibvirtHypervisor::Guest::Job::job_info() {
  Guest& g = *hv->guests_.at(uuid);
  std::shared_ptr<Migration> m = g.migration;
  core::JobInfo info;
  if (!m) return info;
  if (m->finished) {
    // The call returned: resolve "no job" as nova's find_job_type does.
    if (g.host == m->destination) info.type = core::JobInfo::kCompleted;
    else info.type = m->abort_requested ? core::JobInfo::kCancelled : core::JobInfo::kFailed;
    return info;
  }
  // Never a libvirt call on the loop: the job thread's latest answer.
  std::lock_guard<std::mutex> lock(m->mu);
  if (!m->snapshot) return info;
  return *m->snapshot;
}

Status LibvirtHypervisor::Guest::Job::enqueue(const std::string& what, std::function<int(virDomainPtr)> run) {
  Guest& g = *hv->guests_.at(uuid);
  std::shared_ptr<Migration> m = g.migration;
  if (!m || m->finished || m->worker_done.load()) return failed_precondition("no migration job running: " + what);
  {
    std::lock_guard<std::mutex> lock(m->mu);
    m->commands.emplace_back(what, std::move(run));
  }
  m->cv.notify_all();
  return ok_status();
}

Status LibvirtHypervisor::Guest::Job::set_max_downtime(int ms) {
  return enqueue("migrate-setmaxdowntime " + std::to_string(ms) + " ms", [ms](virDomainPtr d) {
    return virDomainMigrateSetMaxDowntime(d, static_cast<unsigned long long>(ms), 0);
  });
}

Status LibvirtHypervisor::Guest::Job::abort() {
  Guest& g = *hv->guests_.at(uuid);
  std::shared_ptr<Migration> m = g.migration;
  if (!m || m->finished) return failed_precondition("no migration job to abort");
  m->abort_requested = true;
  // Held back by a fault delay: start_worker cancels it instead.
  if (m->started == MonoTime{}) {
    hv->timeline_.record("libvirt", "job abort before it started");
    return ok_status();
  }
  return enqueue("job abort", [](virDomainPtr d) { return virDomainAbortJob(d); });
}

Status LibvirtHypervisor::Guest::Job::force_complete() {
  // nova without post-copy: pause the guest so the copy converges.
  return enqueue("job force complete: suspending the guest", [](virDomainPtr d) { return virDomainSuspend(d); });
}

void LibvirtHypervisor::job_thread(const std::shared_ptr<Migration>& m) {
  // What nova's monitor reads and does, on a thread of its own: libvirt
  // holds a domain's job lock through Confirm (seconds under TCG), and a
  // query waiting for it must not stall core's loop.
  std::shared_ptr<Shared> shared = shared_;
  core::Timeline* timeline = &timeline_;
  threads_.emplace_back([m, shared, timeline] {
    auto set = [&](StatusOr<core::JobInfo> v) {
      std::lock_guard<std::mutex> lock(m->mu);
      m->snapshot = std::move(v);
    };
    auto conn = open_libvirt(m->source_uri);
    if (!conn.ok()) {
      set(conn.status());
      return;
    }
    LibvirtDomain dom(virDomainLookupByUUIDString(conn->get(), m->uuid.c_str()));
    if (!dom) {
      set(libvirt_error("look up the guest on " + m->source));
      return;
    }
    while (!m->worker_done.load()) {
      // Commands first, in order.
      while (true) {
        std::pair<std::string, std::function<int(virDomainPtr)>> cmd;
        {
          std::lock_guard<std::mutex> lock(m->mu);
          if (m->commands.empty()) break;
          cmd = std::move(m->commands.front());
          m->commands.pop_front();
        }
        if (cmd.second(dom.get()) == 0) timeline->record("libvirt", cmd.first);
        else timeline->record("libvirt", cmd.first + " failed: " + libvirt_error("libvirt").message());
      }
      virDomainJobInfo ji{};
      if (virDomainGetJobInfo(dom.get(), &ji) != 0) {
        // As nova's get_job_info + find_job_type: a source domain that
        // stopped (Confirm killed its QEMU) or vanished has moved.
        Status err = libvirt_error("virDomainGetJobInfo");
        virErrorPtr e = virGetLastError();
        const bool gone = e && e->code == VIR_ERR_NO_DOMAIN;
        if (gone || virDomainIsActive(dom.get()) == 0) {
          core::JobInfo done;
          done.type = core::JobInfo::kCompleted;
          set(done);
        } else if (!m->worker_done.load()) {
          set(err);
        }
      } else {
        core::JobInfo info;
        switch (ji.type) {
          case VIR_DOMAIN_JOB_BOUNDED:
          case VIR_DOMAIN_JOB_UNBOUNDED: info.type = core::JobInfo::kUnbounded; break;
          case VIR_DOMAIN_JOB_COMPLETED: info.type = core::JobInfo::kCompleted; break;
          case VIR_DOMAIN_JOB_FAILED: info.type = core::JobInfo::kFailed; break;
          case VIR_DOMAIN_JOB_CANCELLED: info.type = core::JobInfo::kCancelled; break;
          default: info.type = core::JobInfo::kNone; break;
        }
        info.memory_total = ji.memTotal;
        info.memory_processed = ji.memProcessed;
        info.memory_remaining = ji.memRemaining;
        info.disk_total = ji.fileTotal;
        info.disk_processed = ji.fileProcessed;
        info.disk_remaining = ji.fileRemaining;
        info.elapsed = std::chrono::milliseconds(ji.timeElapsed);
        set(info);
        // hypervisor.migrate fail: the job is aborted as soon as it runs.
        if (info.type == core::JobInfo::kUnbounded && !m->fail_message.empty() && !m->fault_abort_sent) {
          m->fault_abort_sent = true;
          timeline->record("libvirt", "job abort (hypervisor.migrate fail: " + m->fail_message + ")");
          if (virDomainAbortJob(dom.get()) != 0)
            timeline->record("libvirt", "job abort failed: " + libvirt_error("virDomainAbortJob").message());
        }
      }
      std::unique_lock<std::mutex> lock(m->mu);
      m->cv.wait_for(lock, kJobPollInterval, [&] { return !m->commands.empty() || m->worker_done.load(); });
    }
    (void)shared;
  });
}

}  // namespace lmh::harness
