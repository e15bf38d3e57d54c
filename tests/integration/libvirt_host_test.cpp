// The real-guest tier's groundwork on real objects: two libvirtds in two lab
// namespaces joined by a veth, a QEMU guest on one host's Linux bridge, a
// peer-to-peer tunnelled live migration to the other host, and a teardown
// that leaves no process and no mount behind. Needs root, libvirtd and QEMU;
// the guest image is built on demand (tools/build-guest-image.sh).
#include <libvirt/libvirt.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>

#include "capture/prober.h"
#include "common/time.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"
#include "harness/virt/accel_probe.h"
#include "harness/virt/libvirt_host.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lmh::testing::reachable;

// The run "zv": namespaces lmh-zv-*, state under /run/lmh/zv with our pid as
// owner, so a concurrent `lmh cleanup` treats it as a live run.
constexpr const char* kRunDir = "/run/lmh/zv";
constexpr const char* kGuestIp = "10.77.0.5";
constexpr const char* kPeerIp = "10.77.0.1";
constexpr const char* kHostBIp = "10.77.0.2";

#define LMH_REQUIRE_LIBVIRT()                                                                        \
  do {                                                                                               \
    LMH_REQUIRE_ROOT();                                                                              \
    if (find_program("libvirtd").empty() || find_program("qemu-system-x86_64").empty())              \
      GTEST_SKIP() << "needs libvirtd and qemu-system-x86_64 (make deps)";                           \
  } while (0)

// The build tree holding this test binary (<build>/tests/<binary>).
std::string build_dir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path().string();
}

// $LMH_GUEST_DIR, else <build>/guest (built when missing or stale).
StatusOr<GuestImage> guest_image() {
  if (const char* dir = ::getenv("LMH_GUEST_DIR"))
    return GuestImage{std::string(dir) + "/vmlinuz", std::string(dir) + "/initramfs.cpio.gz"};
  return ensure_guest_image(LMH_SOURCE_DIR, build_dir() + "/guest");
}

// The run directory, owned by this process while the test runs.
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

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}


// Processes that belong to a host under kRunDir: libvirtd (its command line
// names the state dir) and QEMU (its mount namespace binds the state dir).
std::vector<std::string> processes_of_run() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
    std::string stat = read_text("/proc/" + pid + "/stat");
    auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') continue;
    if (read_text("/proc/" + pid + "/cmdline").find("/run/lmh/zv/") != std::string::npos ||
        read_text("/proc/" + pid + "/mountinfo").find("/lmh/zv/") != std::string::npos)
      out.push_back(pid + " (" + read_text("/proc/" + pid + "/comm") + ")");
  }
  return out;
}

// Our mount table's lines that mention a host's state or libvirt's paths.
std::vector<std::string> leaked_mounts() {
  std::vector<std::string> out;
  std::istringstream in(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);)
    if (line.find("/lmh/zv/") != std::string::npos || line.find(" /run/libvirt ") != std::string::npos ||
        line.find(" /var/lib/libvirt ") != std::string::npos || line.find(" /etc/libvirt ") != std::string::npos)
      out.push_back(line);
  return out;
}

LibvirtHost::Options host_options(const std::string& host, int netns_fd) {
  LibvirtHost::Options o;
  o.name = "lmh-zv-" + host;
  o.netns_fd = netns_fd;
  o.state_dir = std::string(kRunDir) + "/" + host;
  // Kept in the build tree: QEMU's capabilities are probed once, not per
  // host and test (libvirt re-probes when QEMU or libvirtd change).
  o.cache_dir = build_dir() + "/libvirt-cache";
  return o;
}

GuestDomainSpec guest_on(const LibvirtHost& host, const std::string& bridge, const GuestImage& image,
                         const std::string& accel) {
  GuestDomainSpec g;
  g.name = "zvguest";
  g.accel = accel;
  g.kernel = image.kernel;
  g.initrd = image.initrd;
  g.ip_cidr = std::string(kGuestIp) + "/24";
  g.mac = "52:54:00:7a:76:05";
  g.bridge = bridge;
  g.tap = "tapzv0";
  g.serial_socket = host.state_dir() + "/zvguest.serial";
  g.serial_log = host.state_dir() + "/zvguest.serial.log";
  return g;
}

// What nova does to the migratable XML: the destination's bridge, and here
// also the destination host's serial socket and log.
std::string destination_xml(const std::string& source_xml, const GuestDomainSpec& dest) {
  pugi::xml_document doc;
  doc.load_string(source_xml.c_str());
  auto devices = doc.child("domain").child("devices");
  for (auto nic : devices.children("interface")) nic.child("source").attribute("bridge").set_value(dest.bridge.c_str());
  for (const char* kind : {"serial", "console"}) {
    for (auto port : devices.children(kind)) {
      if (auto src = port.child("source")) src.attribute("path").set_value(dest.serial_socket.c_str());
      if (auto log = port.child("log")) log.attribute("file").set_value(dest.serial_log.c_str());
    }
  }
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

// The tap named in the live XML of 'dom'.
std::string tap_of(virDomainPtr dom) {
  char* xml = virDomainGetXMLDesc(dom, 0);
  if (!xml) return "";
  pugi::xml_document doc;
  doc.load_string(xml);
  ::free(xml);
  return doc.child("domain").child("devices").child("interface").child("target").attribute("dev").value();
}

AccelChoice accel() {
  auto image = guest_image();
  return probe_accel({image.ok() ? *image : GuestImage{}});
}

TEST(LibvirtHostTest, LiveMigratesGuestBetweenTwoHostsOverTheirBridges) {
  LMH_REQUIRE_LIBVIRT();
  auto image = guest_image();
  ASSERT_TRUE(image.ok()) << image.status().to_string();
  AccelChoice choice = accel();
  std::printf("accel: %s (%s)\n", choice.accel.c_str(), choice.reason.c_str());
  RunDir run_dir;
  {
    // Lab: A and B each with a bridge, joined by a veth; peer P on A's bridge.
    auto ns_a = NamedNetns::create("lmh-zv-a");
    auto ns_b = NamedNetns::create("lmh-zv-b");
    auto ns_p = NamedNetns::create("lmh-zv-p");
    ASSERT_TRUE(ns_a.ok() && ns_b.ok() && ns_p.ok()) << ns_a.status().to_string() << ns_b.status().to_string();
    auto na = std::move(Netlink::open(ns_a->fd())).value();
    auto nb = std::move(Netlink::open(ns_b->fd())).value();
    auto np = std::move(Netlink::open(ns_p->fd())).value();
    ASSERT_TRUE(na->create_bridge("brzv-a").ok());
    ASSERT_TRUE(nb->create_bridge("brzv-b").ok());
    ASSERT_TRUE(na->create_veth("zv-ab", "zv-ba", ns_b->fd()).ok());
    ASSERT_TRUE(na->create_veth("zv-ap", "zv-pa", ns_p->fd()).ok());
    for (const char* port : {"zv-ab", "zv-ap"}) ASSERT_TRUE(na->set_master(port, "brzv-a").ok());
    ASSERT_TRUE(nb->set_master("zv-ba", "brzv-b").ok());
    for (const char* l : {"brzv-a", "zv-ab", "zv-ap"}) ASSERT_TRUE(na->set_up(l).ok());
    for (const char* l : {"brzv-b", "zv-ba"}) ASSERT_TRUE(nb->set_up(l).ok());
    ASSERT_TRUE(nb->add_address("brzv-b", std::string(kHostBIp) + "/24").ok());
    ASSERT_TRUE(np->add_address("zv-pa", std::string(kPeerIp) + "/24").ok());
    ASSERT_TRUE(np->set_up("zv-pa").ok());

    auto t0 = MonoClock::now();
    auto host_a = LibvirtHost::start(host_options("a", ns_a->fd()));
    ASSERT_TRUE(host_a.ok()) << host_a.status().to_string();
    double bringup_ms = ms_since(t0, MonoClock::now());
    auto host_b = LibvirtHost::start(host_options("b", ns_b->fd()));
    ASSERT_TRUE(host_b.ok()) << host_b.status().to_string();
    LibvirtHost& a = **host_a;
    LibvirtHost& b = **host_b;
    EXPECT_TRUE(a.healthy());
    EXPECT_TRUE(b.healthy());
    EXPECT_EQ(join(leaked_mounts()), "");
    // Each daemon sees its own hostname: what lets libvirt migrate between them.
    char* hostname_a = virConnectGetHostname(a.connection());
    ASSERT_NE(hostname_a, nullptr);
    EXPECT_STREQ(hostname_a, "lmh-zv-a");
    ::free(hostname_a);

    // Boot on A.
    GuestDomainSpec on_a = guest_on(a, "brzv-a", *image, choice.accel);
    GuestDomainSpec on_b = guest_on(b, "brzv-b", *image, choice.accel);
    LibvirtDomain dom(virDomainDefineXML(a.connection(), guest_domain_xml(on_a).c_str()));
    ASSERT_TRUE(dom) << libvirt_error("define").to_string();
    auto t_boot = MonoClock::now();
    ASSERT_EQ(virDomainCreate(dom.get()), 0) << libvirt_error("start").to_string();
    Status ready = wait_for_file_text(on_a.serial_log, kGuestReadyMarker, 60s);
    ASSERT_TRUE(ready.ok()) << ready.to_string() << "\n" << read_text(on_a.serial_log);
    double boot_ms = ms_since(t_boot, MonoClock::now());
    EXPECT_EQ(*na->master_of("tapzv0"), "brzv-a");
    EXPECT_TRUE(reachable(ns_p->fd(), kGuestIp, 10s)) << "guest not reachable from P on A";
    EXPECT_FALSE(a.qemu_pids().empty());

    // Live-migrate to B: p2p, tunnelled, the destination XML names B's bridge.
    char* src_xml = virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_MIGRATABLE);
    ASSERT_NE(src_xml, nullptr);
    std::string dest_xml = destination_xml(src_xml, on_b);
    ::free(src_xml);
    virTypedParameterPtr params = nullptr;
    int nparams = 0, maxparams = 0;
    ASSERT_EQ(virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML, dest_xml.c_str()), 0);
    ASSERT_EQ(virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_PERSIST_XML, dest_xml.c_str()), 0);
    unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE |
                     VIR_MIGRATE_TUNNELLED;
    auto t_mig = MonoClock::now();
    int rc = virDomainMigrateToURI3(dom.get(), b.uri().c_str(), params, nparams, flags);
    double migrate_ms = ms_since(t_mig, MonoClock::now());
    virTypedParamsFree(params, nparams);
    ASSERT_EQ(rc, 0) << libvirt_error("migrate").to_string() << "\nA: " << read_text(a.log_path())
                     << "\nB: " << read_text(b.log_path());
    dom.reset();

    // Now on B only.
    LibvirtDomain on_dest(virDomainLookupByName(b.connection(), "zvguest"));
    ASSERT_TRUE(on_dest) << libvirt_error("lookup on B").to_string();
    EXPECT_EQ(virDomainIsActive(on_dest.get()), 1);
    EXPECT_EQ(virDomainIsPersistent(on_dest.get()), 1);
    LibvirtDomain on_source(virDomainLookupByName(a.connection(), "zvguest"));
    EXPECT_FALSE(on_source) << "the domain is still defined on A";
    EXPECT_TRUE(a.qemu_pids().empty());
    EXPECT_EQ(b.qemu_pids().size(), 1u);
    std::string tap = tap_of(on_dest.get());
    EXPECT_EQ(tap, "tapzv0");
    EXPECT_EQ(*nb->master_of(tap), "brzv-b");
    EXPECT_FALSE(na->exists(tap));
    // Read back independently of our connection.
    auto state = run_command({"virsh", "-c", b.uri(), "domstate", "zvguest"}, 10s);
    ASSERT_TRUE(state.ok());
    EXPECT_NE(state->out.find("running"), std::string::npos) << state->out << state->err;

    // QEMU's downtime: the source's job is gone with the undefined domain,
    // so the destination's completed (incoming) job reports it.
    int job_type = 0;
    virTypedParameterPtr stats = nullptr;
    int nstats = 0;
    ASSERT_EQ(virDomainGetJobStats(on_dest.get(), &job_type, &stats, &nstats, VIR_DOMAIN_JOB_STATS_COMPLETED), 0)
        << libvirt_error("job stats").to_string();
    unsigned long long downtime_ms = 0, job_ms = 0;
    EXPECT_EQ(virTypedParamsGetULLong(stats, nstats, VIR_DOMAIN_JOB_DOWNTIME, &downtime_ms), 1);
    (void)virTypedParamsGetULLong(stats, nstats, VIR_DOMAIN_JOB_TIME_ELAPSED, &job_ms);
    virTypedParamsFree(stats, nstats);
    EXPECT_GT(downtime_ms, 0u);

    // Reachable on B: from B itself, from P across A's bridge and the veth
    // (the fabric relearned the MAC from QEMU's announce), and the guest's
    // own traffic on command through its serial port on B.
    EXPECT_TRUE(reachable(ns_b->fd(), kGuestIp, 10s)) << "guest not reachable from B";
    EXPECT_TRUE(reachable(ns_p->fd(), kGuestIp, 10s)) << "guest not reachable from P";
    auto cmd_rc = guest_serial_command(on_b.serial_socket, on_b.serial_log, 7, std::string("ping ") + kPeerIp, 15s);
    ASSERT_TRUE(cmd_rc.ok()) << cmd_rc.status().to_string() << "\n" << read_text(on_b.serial_log);
    EXPECT_EQ(*cmd_rc, 0) << read_text(on_b.serial_log);

    std::printf("libvirtd bring-up %.0f ms, boot-to-ready %.0f ms, migration %.0f ms (job %llu ms), "
                "QEMU downtime %llu ms\n", bringup_ms, boot_ms, migrate_ms, job_ms, downtime_ms);
    ::testing::Test::RecordProperty("libvirtd_bringup_ms", static_cast<int>(bringup_ms));
    ::testing::Test::RecordProperty("boot_to_ready_ms", static_cast<int>(boot_ms));
    ::testing::Test::RecordProperty("migration_ms", static_cast<int>(migrate_ms));
    ::testing::Test::RecordProperty("downtime_ms", static_cast<int>(downtime_ms));

    // Teardown: hosts first (domains, daemons, QEMUs), then the lab.
    on_dest.reset();
    host_b->reset();
    host_a->reset();
    EXPECT_EQ(join(processes_of_run()), "");
    EXPECT_EQ(join(leaked_mounts()), "");
    EXPECT_FALSE(fs::exists(std::string(kRunDir) + "/a"));
    EXPECT_FALSE(fs::exists(std::string(kRunDir) + "/b"));
  }
  EXPECT_TRUE(list_named_netns("lmh-zv-").empty());
}

// A host whose libvirtd died (as after `kill -9`): its QEMU outlives it, and
// the host's teardown still finds and kills it; nothing stays mounted.
TEST(LibvirtHostTest, TeardownAfterDaemonCrashLeavesNoProcessOrMount) {
  LMH_REQUIRE_LIBVIRT();
  auto image = guest_image();
  ASSERT_TRUE(image.ok()) << image.status().to_string();
  AccelChoice choice = accel();
  RunDir run_dir;
  {
    auto ns = NamedNetns::create("lmh-zv-a");
    ASSERT_TRUE(ns.ok()) << ns.status().to_string();
    auto nl = std::move(Netlink::open(ns->fd())).value();
    ASSERT_TRUE(nl->create_bridge("brzv-a").ok());
    ASSERT_TRUE(nl->set_up("brzv-a").ok());
    auto host = LibvirtHost::start(host_options("a", ns->fd()));
    ASSERT_TRUE(host.ok()) << host.status().to_string();
    // A second host object cannot take over a live host's directory.
    EXPECT_EQ(LibvirtHost::start(host_options("a", ns->fd())).status().code(), StatusCode::kAlreadyExists);
    GuestDomainSpec g = guest_on(**host, "brzv-a", *image, choice.accel);
    LibvirtDomain dom(virDomainCreateXML((*host)->connection(), guest_domain_xml(g).c_str(), 0));
    ASSERT_TRUE(dom) << libvirt_error("create").to_string();
    dom.reset();
    auto qemus = (*host)->qemu_pids();
    ASSERT_EQ(qemus.size(), 1u);
    ASSERT_EQ(::kill((*host)->pid(), SIGKILL), 0);
    EXPECT_TRUE(wait_until([&] { return !(*host)->healthy(); }, 5s));
    EXPECT_EQ(::kill(qemus[0], 0), 0) << "QEMU should outlive its libvirtd";
    host->reset();
    EXPECT_EQ(join(processes_of_run()), "");
    EXPECT_EQ(join(leaked_mounts()), "");
    EXPECT_FALSE(fs::exists(std::string(kRunDir) + "/a"));
  }
  EXPECT_TRUE(list_named_netns("lmh-zv-").empty());
}

TEST(AccelProbe, ChoosesKvmOrTcgWithAReasonAndCachesIt) {
  LMH_REQUIRE_LIBVIRT();
  auto image = guest_image();
  ASSERT_TRUE(image.ok()) << image.status().to_string();
  AccelChoice first = probe_accel({*image});
  EXPECT_TRUE(first.accel == "kvm" || first.accel == "tcg") << first.accel;
  EXPECT_FALSE(first.reason.empty());
  std::printf("accel: %s (%s)%s\n", first.accel.c_str(), first.reason.c_str(), first.from_cache ? " [cached]" : "");
  AccelChoice again = probe_accel({*image});
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.accel, first.accel);
  EXPECT_EQ(again.reason, first.reason);
  // Without /dev/kvm the answer is TCG, and says why (nothing is booted).
  AccelProbeOptions no_kvm{*image};
  no_kvm.kvm_device = "/nonexistent/kvm";
  no_kvm.cache_path = "";
  AccelChoice tcg = probe_accel(no_kvm);
  EXPECT_EQ(tcg.accel, "tcg");
  EXPECT_NE(tcg.reason.find("/nonexistent/kvm"), std::string::npos) << tcg.reason;
}

}  // namespace
}  // namespace lmh::harness
