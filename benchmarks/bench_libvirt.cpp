// Real-guest tier costs (root, libvirtd, QEMU): a host's libvirtd bring-up,
// a guest's boot to its ready marker, and a p2p tunnelled live migration
// between two hosts (wall time, and QEMU's own downtime figure). The
// accelerator is whatever probe_accel picks (TCG where KVM does not boot).
#include <benchmark/benchmark.h>
#include <libvirt/libvirt.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>

#include "common/time.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"
#include "harness/virt/accel_probe.h"
#include "harness/virt/libvirt_host.h"

namespace {

using namespace lmh;
using namespace lmh::harness;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The run "zvb": namespaces lmh-zvb-*, state under /run/lmh/zvb.
constexpr const char* kRunDir = "/run/lmh/zvb";

std::string build_dir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path().string();
}

struct Env {
  Status status;
  GuestImage image;
  AccelChoice accel;
};

// Root, packages, guest image, accelerator: checked once.
const Env& env() {
  static Env e = [] {
    Env e;
    if (::geteuid() != 0) { e.status = failed_precondition("needs root"); return e; }
    if (find_program("libvirtd").empty() || find_program("qemu-system-x86_64").empty()) {
      e.status = environment_error("needs libvirtd and qemu-system-x86_64");
      return e;
    }
    auto image = ensure_guest_image(LMH_SOURCE_DIR, build_dir() + "/guest");
    if (!image.ok()) { e.status = image.status(); return e; }
    e.image = *image;
    e.accel = probe_accel({e.image});
    return e;
  }();
  return e;
}

bool skip_unless_ready(benchmark::State& state) {
  if (env().status.ok()) return false;
  state.SkipWithError(env().status.to_string().c_str());
  return true;
}

// /run/lmh/zvb with our pid as owner (a concurrent `lmh cleanup` leaves it).
struct RunDir {
  RunDir() {
    fs::create_directories(kRunDir);
    std::ofstream(std::string(kRunDir) + "/owner.pid") << ::getpid() << "\n";
  }
  ~RunDir() {
    std::error_code ec;
    fs::remove_all(kRunDir, ec);
  }
};

LibvirtHost::Options host_options(const std::string& host, int netns_fd) {
  LibvirtHost::Options o;
  o.name = "lmh-zvb-" + host;
  o.netns_fd = netns_fd;
  o.state_dir = std::string(kRunDir) + "/" + host;
  o.cache_dir = build_dir() + "/libvirt-cache";
  return o;
}

// A host namespace with one bridge "brzvb".
struct HostNs {
  NamedNetns ns;
  Status status;
  explicit HostNs(const std::string& name) {
    auto created = NamedNetns::create(name);
    if (!created.ok()) { status = created.status(); return; }
    ns = std::move(created).value();
    auto nl = Netlink::open(ns.fd());
    if (!nl.ok()) { status = nl.status(); return; }
    status = (*nl)->create_bridge("brzvb");
    if (status.ok()) status = (*nl)->set_up("brzvb");
  }
};

GuestDomainSpec guest_on(const LibvirtHost& host, const std::string& name) {
  GuestDomainSpec g;
  g.name = name;
  g.accel = env().accel.accel;
  g.kernel = env().image.kernel;
  g.initrd = env().image.initrd;
  g.ip_cidr = "10.78.0.5/24";
  g.mac = "52:54:00:7a:76:42";
  g.bridge = "brzvb";
  g.serial_socket = host.state_dir() + "/" + name + ".serial";
  g.serial_log = host.state_dir() + "/" + name + ".serial.log";
  return g;
}

// Starts a guest on 'host' and waits for its ready marker.
Status boot(const LibvirtHost& host, const GuestDomainSpec& g) {
  LibvirtDomain dom(virDomainCreateXML(host.connection(), guest_domain_xml(g).c_str(), 0));
  if (!dom) return libvirt_error("create " + g.name);
  return wait_for_file_text(g.serial_log, kGuestReadyMarker, 60s);
}

// start() until libvirtd answers, then teardown.
void BM_LibvirtdBringUp(benchmark::State& state) {
  if (skip_unless_ready(state)) return;
  RunDir run_dir;
  HostNs ns("lmh-zvb-a");
  if (!ns.status.ok()) { state.SkipWithError(ns.status.to_string().c_str()); return; }
  double teardown = 0;
  for (auto _ : state) {
    auto t0 = MonoClock::now();
    auto host = LibvirtHost::start(host_options("a", ns.ns.fd()));
    auto t1 = MonoClock::now();
    if (!host.ok()) { state.SkipWithError(host.status().to_string().c_str()); return; }
    host->reset();
    teardown += ms_since(t1, MonoClock::now());
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  state.counters["teardown_ms"] = teardown / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LibvirtdBringUp)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);

// virDomainCreateXML until LMH-GUEST-READY on the serial log.
void BM_GuestBootToReady(benchmark::State& state) {
  if (skip_unless_ready(state)) return;
  RunDir run_dir;
  HostNs ns("lmh-zvb-a");
  if (!ns.status.ok()) { state.SkipWithError(ns.status.to_string().c_str()); return; }
  auto host = LibvirtHost::start(host_options("a", ns.ns.fd()));
  if (!host.ok()) { state.SkipWithError(host.status().to_string().c_str()); return; }
  int i = 0;
  for (auto _ : state) {
    GuestDomainSpec g = guest_on(**host, "zvbboot" + std::to_string(i++));
    auto t0 = MonoClock::now();
    Status s = boot(**host, g);
    auto t1 = MonoClock::now();
    if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    LibvirtDomain dom(virDomainLookupByName((*host)->connection(), g.name.c_str()));
    if (dom) virDomainDestroy(dom.get());
  }
  state.SetLabel(env().accel.accel);
}
BENCHMARK(BM_GuestBootToReady)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

// The destination XML: the guest's serial socket and log on 'dest'.
std::string destination_xml(const std::string& source_xml, const GuestDomainSpec& dest) {
  pugi::xml_document doc;
  doc.load_string(source_xml.c_str());
  auto devices = doc.child("domain").child("devices");
  for (auto nic : devices.children("interface")) nic.child("source").attribute("bridge").set_value(dest.bridge.c_str());
  for (const char* kind : {"serial", "console"})
    for (auto port : devices.children(kind)) {
      if (auto src = port.child("source")) src.attribute("path").set_value(dest.serial_socket.c_str());
      if (auto log = port.child("log")) log.attribute("file").set_value(dest.serial_log.c_str());
    }
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

// Migrates 'name' from 'src' to 'dst'; QEMU's downtime (ms) via 'downtime_ms'.
Status migrate(const LibvirtHost& src, const LibvirtHost& dst, const std::string& name, unsigned long long* downtime_ms) {
  LibvirtDomain dom(virDomainLookupByName(src.connection(), name.c_str()));
  if (!dom) return libvirt_error("lookup " + name);
  char* xml = virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_MIGRATABLE);
  if (!xml) return libvirt_error("migratable xml");
  std::string dest_xml = destination_xml(xml, guest_on(dst, name));
  ::free(xml);
  virTypedParameterPtr params = nullptr;
  int n = 0, max = 0;
  virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DEST_XML, dest_xml.c_str());
  unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_TUNNELLED | VIR_MIGRATE_UNDEFINE_SOURCE;
  int rc = virDomainMigrateToURI3(dom.get(), dst.uri().c_str(), params, n, flags);
  virTypedParamsFree(params, n);
  if (rc != 0) return libvirt_error("migrate " + name);
  LibvirtDomain moved(virDomainLookupByName(dst.connection(), name.c_str()));
  if (!moved) return libvirt_error("lookup on destination");
  int type = 0;
  virTypedParameterPtr stats = nullptr;
  int nstats = 0;
  if (virDomainGetJobStats(moved.get(), &type, &stats, &nstats, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0) {
    virTypedParamsGetULLong(stats, nstats, VIR_DOMAIN_JOB_DOWNTIME, downtime_ms);
    virTypedParamsFree(stats, nstats);
  }
  return ok_status();
}

// A 128 MiB guest back and forth between two hosts; one migration per
// iteration.
void BM_LiveMigrationP2pTunnelled(benchmark::State& state) {
  if (skip_unless_ready(state)) return;
  RunDir run_dir;
  HostNs ns_a("lmh-zvb-a"), ns_b("lmh-zvb-b");
  if (!ns_a.status.ok() || !ns_b.status.ok()) { state.SkipWithError("lab namespaces"); return; }
  auto a = LibvirtHost::start(host_options("a", ns_a.ns.fd()));
  auto b = LibvirtHost::start(host_options("b", ns_b.ns.fd()));
  if (!a.ok() || !b.ok()) { state.SkipWithError((a.ok() ? b : a).status().to_string().c_str()); return; }
  const std::string name = "zvbmig";
  if (Status s = boot(**a, guest_on(**a, name)); !s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
  LibvirtHost* from = a->get();
  LibvirtHost* to = b->get();
  double downtime = 0;
  for (auto _ : state) {
    unsigned long long dt = 0;
    auto t0 = MonoClock::now();
    Status s = migrate(*from, *to, name, &dt);
    auto t1 = MonoClock::now();
    if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    downtime += static_cast<double>(dt);
    std::swap(from, to);
  }
  state.counters["qemu_downtime_ms"] = downtime / static_cast<double>(state.iterations());
  state.SetLabel(env().accel.accel);
}
BENCHMARK(BM_LiveMigrationP2pTunnelled)->Iterations(4)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
