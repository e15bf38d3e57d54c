#include "harness/virt/libvirt_host.h"

#include <fcntl.h>
#include <grp.h>
#include <libvirt/virterror.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <pugixml.hpp>
#include <spdlog/spdlog.h>
#include <set>
#include <sstream>
#include <thread>

#include "harness/system/files.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"

namespace lmh::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// libvirt prints every error on stderr unless a handler is installed; ours
// drops it: callers turn the thread's last error into a Status.
void ignore_libvirt_error(void*, virErrorPtr) {}

// Once per process, before any libvirt call. libvirt's client writes to its
// sockets without MSG_NOSIGNAL, so a daemon that dies (or is killed by a
// fault plan) would take lmh down with SIGPIPE; libvirt asks applications to
// ignore it, and we do unless the program installed a handler of its own.
void init_libvirt_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
    virInitialize();
    virSetErrorFunc(nullptr, ignore_libvirt_error);
  });
}

// A zombie counts as gone: its parent (init, for a daemonised QEMU) reaps it.
bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

std::string comm_of(pid_t pid) {
  std::string c = read_text_file("/proc/" + std::to_string(pid) + "/comm");
  while (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

ino_t mount_ns_of(pid_t pid) {
  struct stat st;
  if (::stat(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), &st) != 0) return 0;
  return st.st_ino;
}

bool valid_hostname(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  return true;
}

// A host UUID that differs per host and is stable for a given host name and
// state directory (FNV-1a over both, shaped as a version-4 UUID; libvirt
// rejects UUIDs whose digits are all the same).
std::string host_uuid_for(const std::string& name, const std::string& state_dir) {
  auto fnv = [](const std::string& s, uint64_t h) {
    for (unsigned char c : s) { h ^= c; h *= 0x100000001b3ULL; }
    return h;
  };
  uint64_t hi = fnv(name + '\0' + state_dir, 0xcbf29ce484222325ULL);
  uint64_t lo = fnv(state_dir + '\0' + name, hi ^ 0x9e3779b97f4a7c15ULL);
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                               // version 4
  lo = (lo & ~0xc000000000000000ULL) | 0x8000000000000000ULL;       // variant 1
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

// libvirtd: only the local unix socket, no auth (root only by permissions),
// warnings and errors to stderr (our log file).
std::string libvirtd_conf(const std::string& host_uuid) {
  return "# written by lmh (harness/virt/libvirt_host.cpp)\n"
         "host_uuid = \"" + host_uuid + "\"\n"
         "listen_tls = 0\n"
         "listen_tcp = 0\n"
         "unix_sock_group = \"root\"\n"
         "unix_sock_ro_perms = \"0700\"\n"
         "unix_sock_rw_perms = \"0700\"\n"
         "unix_sock_admin_perms = \"0700\"\n"
         "auth_unix_ro = \"none\"\n"
         "auth_unix_rw = \"none\"\n"
         "log_outputs = \"3:stderr\"\n";
}

// QEMU runs as root with no relabelling, no per-domain /dev namespace (it
// would fight our mount namespace), no cgroups and no virtlogd: the guest's
// stdio goes to a file under /var/log/libvirt/qemu, i.e. the state dir.
std::string qemu_conf() {
  return "# written by lmh (harness/virt/libvirt_host.cpp)\n"
         "user = \"root\"\n"
         "group = \"root\"\n"
         "dynamic_ownership = 0\n"
         "remember_owner = 0\n"
         "namespaces = [ ]\n"
         "cgroup_controllers = [ ]\n"
         "security_driver = \"none\"\n"
         "stdio_handler = \"file\"\n";
}

// The driver looks up its compiled-in QEMU user and group (libvirt-qemu,
// libvirt-qemu) even when qemu.conf says root, and Debian's set-up adds the
// kvm group. They come with libvirt-daemon-system, which we do not install
// (it starts a system libvirtd); whichever are missing, the daemon sees
// copies of passwd/group that add them, bind-mounted in its own mount
// namespace only.
Status write_identity_overlay(const std::string& state_dir, bool* needed) {
  bool need_user = ::getpwnam("libvirt-qemu") == nullptr;
  std::vector<std::string> need_groups;
  for (const char* g : {"libvirt-qemu", "kvm"})
    if (::getgrnam(g) == nullptr) need_groups.push_back(g);
  *needed = need_user || !need_groups.empty();
  if (!*needed) return ok_status();
  auto used_ids = [](const std::string& text) {
    std::set<long> ids;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, ':');) f.push_back(x);
      if (f.size() > 2) ids.insert(std::atol(f[2].c_str()));
    }
    return ids;
  };
  std::string passwd_text = read_text_file("/etc/passwd");
  std::string group_text = read_text_file("/etc/group");
  if (!group_text.empty() && group_text.back() != '\n') group_text += '\n';
  if (!passwd_text.empty() && passwd_text.back() != '\n') passwd_text += '\n';
  // Free system ids, counting down from where Debian's usually are.
  auto gids = used_ids(group_text);
  auto uids = used_ids(passwd_text);
  long next_gid = 64055;
  for (const auto& g : need_groups) {
    while (gids.count(next_gid)) --next_gid;
    gids.insert(next_gid);
    group_text += g + ":x:" + std::to_string(next_gid) + ":\n";
  }
  if (need_user) {
    long uid = 64055;
    while (uids.count(uid)) --uid;
    // Primary group libvirt-qemu: the entry now exists in group_text.
    long gid = 0;
    if (const struct group* g = ::getgrnam("libvirt-qemu")) gid = g->gr_gid;
    else {
      std::istringstream in(group_text);
      for (std::string line; std::getline(in, line);)
        if (line.rfind("libvirt-qemu:", 0) == 0) gid = std::atol(line.substr(line.find(':', 13) + 1).c_str());
    }
    passwd_text += "libvirt-qemu:x:" + std::to_string(uid) + ":" + std::to_string(gid) +
                   ":Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n";
  }
  LMH_RETURN_IF_ERROR(write_text_file(state_dir + "/passwd", passwd_text));
  return write_text_file(state_dir + "/group", group_text);
}

}  // namespace

Status libvirt_error(const std::string& context, StatusCode code) {
  const char* msg = virGetLastErrorMessage();
  return Status(code, context + ": " + (msg ? msg : "unknown libvirt error"));
}

StatusOr<LibvirtConnection> open_libvirt(const std::string& uri) {
  init_libvirt_once();
  virConnectPtr c = virConnectOpen(uri.c_str());
  if (!c) return libvirt_error("connect " + uri, StatusCode::kUnavailable);
  return LibvirtConnection(c);
}

LibvirtHost::LibvirtHost(Options options) : options_(std::move(options)) {
  if (options_.cache_dir.empty()) options_.cache_dir = options_.state_dir + "/cache";
  uri_ = "qemu+unix:///system?socket=" + options_.state_dir + "/run/libvirt-sock";
}

StatusOr<std::unique_ptr<LibvirtHost>> LibvirtHost::start(const Options& options) {
  init_libvirt_once();
  if (!valid_hostname(options.name)) return invalid_argument("libvirt host name '" + options.name + "' is not a valid hostname");
  if (options.state_dir.empty() || options.state_dir[0] != '/')
    return invalid_argument("libvirt host " + options.name + ": state_dir must be an absolute path");
  if (find_program("libvirtd").empty()) return environment_error("libvirtd not found (Debian package libvirt-daemon)");
  if (find_program("qemu-system-x86_64").empty())
    return environment_error("qemu-system-x86_64 not found (Debian package qemu-system-x86)");
  // A live daemon of another host object owns the directory: leave it alone.
  pid_t owner = read_pid_file(options.state_dir + "/libvirtd.pid");
  if (process_alive(owner) &&
      read_text_file("/proc/" + std::to_string(owner) + "/cmdline").find(options.state_dir) != std::string::npos)
    return Status(StatusCode::kAlreadyExists,
                  "libvirt host " + options.name + ": libvirtd " + std::to_string(owner) + " already runs in " + options.state_dir);

  std::unique_ptr<LibvirtHost> host(new LibvirtHost(options));
  // From here on the destructor undoes whatever was done.
  if (options.netns_fd >= 0) {
    int fd = ::fcntl(options.netns_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return internal_error(std::string("dup netns fd: ") + std::strerror(errno));
    host->netns_ = NetnsFd(fd);
  } else {
    auto ns = NetnsFd::open_named(options.netns_name);
    if (!ns.ok()) return ns.status().with_context("libvirt host " + options.name);
    host->netns_ = std::move(ns).value();
  }
  LMH_RETURN_IF_ERROR(host->prepare_state_dir().with_context("libvirt host " + options.name));
  LMH_RETURN_IF_ERROR(host->spawn_daemon().with_context("libvirt host " + options.name));
  LMH_RETURN_IF_ERROR(host->wait_answering().with_context("libvirt host " + options.name));
  return host;
}

Status LibvirtHost::prepare_state_dir() {
  const std::string& dir = options_.state_dir;
  std::error_code ec;
  // A dead host's leftovers are wiped (start() checked that no daemon
  // lives); anything else that is already there is not ours to delete.
  if (!fs::is_empty(dir, ec) && !ec &&
      read_text_file(dir + "/etc/libvirtd.conf").find("written by lmh") == std::string::npos)
    return failed_precondition(dir + " exists and is not a libvirt host's state directory");
  fs::remove_all(dir, ec);
  owns_state_dir_ = true;  // from here on, stop() removes it
  for (const char* sub : {"run", "lib", "etc", "log"}) {
    fs::create_directories(dir + "/" + sub, ec);
    if (ec) return environment_error("create " + dir + "/" + sub + ": " + ec.message());
  }
  fs::create_directories(options_.cache_dir, ec);
  if (ec) return environment_error("create " + options_.cache_dir + ": " + ec.message());
  LMH_RETURN_IF_ERROR(write_text_file(dir + "/etc/libvirtd.conf", libvirtd_conf(host_uuid_for(options_.name, dir))));
  LMH_RETURN_IF_ERROR(write_text_file(dir + "/etc/qemu.conf", qemu_conf()));
  // Mount points must exist in the shared file system (they stay empty there).
  for (const char* mp : {"/run/libvirt", "/var/lib/libvirt", "/etc/libvirt", "/var/log/libvirt", "/var/cache/libvirt"}) {
    fs::create_directories(mp, ec);
    if (ec) return environment_error(std::string("create mount point ") + mp + ": " + ec.message());
  }
  return ok_status();
}

Status LibvirtHost::spawn_daemon() {
  const std::string& dir = options_.state_dir;
  bool identity_overlay = false;
  LMH_RETURN_IF_ERROR(write_identity_overlay(dir, &identity_overlay));
  std::vector<std::pair<std::string, std::string>> binds = {
      {dir + "/run", "/run/libvirt"},       {dir + "/lib", "/var/lib/libvirt"},
      {dir + "/etc", "/etc/libvirt"},       {dir + "/log", "/var/log/libvirt"},
      {options_.cache_dir, "/var/cache/libvirt"},
  };
  if (identity_overlay) {
    binds.push_back({dir + "/passwd", "/etc/passwd"});
    binds.push_back({dir + "/group", "/etc/group"});
  }
  // Everything the child side uses, built before the spawn (it must not
  // allocate).
  std::vector<const char*> bind_src, bind_dst;
  for (const auto& [src, dst] : binds) {
    bind_src.push_back(src.c_str());
    bind_dst.push_back(dst.c_str());
  }
  const std::string& hostname = options_.name;
  Daemon::Options o;
  // Absolute state-dir paths on the command line: `lmh cleanup` recognises
  // its daemons by their command line naming the run directory.
  o.argv = {"libvirtd", "-f", dir + "/etc/libvirtd.conf", "-p", dir + "/libvirtd.pid"};
  o.netns_fd = netns_.get();
  // Its environment: ours, with OVS_RUNDIR naming the host's own OVS.
  if (!options_.ovs_run_dir.empty()) o.env["OVS_RUNDIR"] = options_.ovs_run_dir;
  o.log_path = log_path();
  // libvirtd writes its own pid file (-p).
  o.die_with_parent = true;
  // Child side, in the host's network namespace already.
  o.child_setup = [&]() -> const char* {
    // Nothing of the parent beyond stdio leaks into libvirtd and its QEMUs.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    if (::unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0) return "unshare(mount, uts)";
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "make / rprivate";
    // As `ip netns exec` does: a sysfs of this network namespace, so
    // /sys/class/net shows the host's links, not the caller's.
    if (::umount2("/sys", MNT_DETACH) != 0 || ::mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0) {
      static const char kWarn[] = "lmh: warning: could not remount /sys for the network namespace\n";
      (void)!::write(2, kWarn, sizeof kWarn - 1);
    }
    for (size_t i = 0; i < bind_src.size(); ++i)
      if (::mount(bind_src[i], bind_dst[i], nullptr, MS_BIND, nullptr) != 0) return bind_dst[i];
    if (::sethostname(hostname.data(), hostname.size()) != 0) return "sethostname";
    return nullptr;
  };
  auto daemon = Daemon::start(o);
  if (!daemon.ok()) return Status(daemon.status().code(), daemon.status().message() + ":\n" + log_tail());
  daemon_ = std::move(daemon).value();
  spdlog::debug("libvirt host {}: libvirtd pid {} in {}", options_.name, daemon_.pid(), dir);
  return ok_status();
}

Status LibvirtHost::wait_answering() {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  Status last = unavailable("not tried");
  while (true) {
    if (!daemon_.running())
      return environment_error("libvirtd " + daemon_.how_it_ended() + "; log " + log_path() + ":\n" + log_tail());
    auto conn = open_libvirt(uri_);
    if (conn.ok()) {
      conn_ = std::move(conn).value();
      mount_ns_ino_ = mount_ns_of(daemon_.pid());
      return ok_status();
    }
    last = conn.status();
    if (std::chrono::steady_clock::now() >= deadline)
      return deadline_exceeded("libvirtd did not answer within " + std::to_string(options_.start_timeout.count()) +
                               " ms (" + last.message() + "); log " + log_path() + ":\n" + log_tail());
    std::this_thread::sleep_for(20ms);
  }
}

std::string LibvirtHost::log_tail() const {
  std::string log = read_text_file(log_path());
  if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
  return log;
}

bool LibvirtHost::healthy() {
  if (stopped_ || !daemon_.running()) return false;
  if (!conn_ || virConnectIsAlive(conn_.get()) != 1) {
    auto conn = open_libvirt(uri_);
    if (!conn.ok()) return false;
    conn_ = std::move(conn).value();
  }
  // A round trip the daemon itself must answer.
  unsigned long version = 0;
  return virConnectGetVersion(conn_.get(), &version) == 0;
}

std::vector<pid_t> LibvirtHost::qemu_pids() const {
  std::vector<pid_t> pids;
  std::error_code ec;
  std::string dir = options_.state_dir + "/run/qemu";
  if (!fs::exists(dir, ec)) return pids;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    // driver.pid is the QEMU driver's lock, holding libvirtd's own pid.
    if (f.path().extension() != ".pid" || f.path().filename() == "driver.pid") continue;
    pid_t pid = read_pid_file(f.path());
    if (process_alive(pid) && comm_of(pid).rfind("qemu-system", 0) == 0) pids.push_back(pid);
  }
  return pids;
}

void LibvirtHost::destroy_domains() {
  if (!conn_) return;
  virDomainPtr* domains = nullptr;
  int n = virConnectListAllDomains(conn_.get(), &domains, 0);
  for (int i = 0; i < n; ++i) {
    LibvirtDomain d(domains[i]);
    if (virDomainIsActive(d.get()) == 1) (void)virDomainDestroy(d.get());
    if (virDomainIsPersistent(d.get()) == 1) (void)virDomainUndefine(d.get());
  }
  ::free(domains);
}

// QEMUs that survive libvirtd (it was killed, or a destroy failed): by pid
// file first, then every process still in the daemon's mount namespace
// (only libvirtd's children can be there).
void LibvirtHost::kill_leftover_qemus() {
  std::vector<pid_t> victims = qemu_pids();
  // Never sweep our own mount namespace (that would be every process).
  if (mount_ns_ino_ != 0 && mount_ns_ino_ != mount_ns_of(::getpid())) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      pid_t p = std::atoi(name.c_str());
      if (p != ::getpid() && mount_ns_of(p) == mount_ns_ino_) victims.push_back(p);
    }
  }
  for (pid_t p : victims) ::kill(p, SIGKILL);
  wait_until([&] {
    for (pid_t p : victims)
      if (process_alive(p)) return false;
    return true;
  }, 5s);
}

void LibvirtHost::stop() {
  if (stopped_) return;
  stopped_ = true;
  destroy_domains();
  conn_.reset();
  daemon_.stop(5s);
  kill_leftover_qemus();
  std::error_code ec;
  if (owns_state_dir_) fs::remove_all(options_.state_dir, ec);
}

LibvirtHost::~LibvirtHost() { stop(); }

std::string guest_domain_xml(const GuestDomainSpec& s) {
  std::string cmdline = "console=ttyS0 quiet";
  if (!s.ip_cidr.empty()) cmdline += " lmh.ip=" + s.ip_cidr;
  if (!s.gateway.empty()) cmdline += " lmh.gw=" + s.gateway;
  // Appends <'name' 'attrs'...>'text'</'name'> to 'parent'.
  auto add = [](pugi::xml_node parent, const char* name,
                std::initializer_list<std::pair<const char*, std::string>> attrs = {},
                const std::string& text = "") {
    pugi::xml_node n = parent.append_child(name);
    for (const auto& [k, v] : attrs) n.append_attribute(k).set_value(v.c_str());
    if (!text.empty()) n.text().set(text.c_str());
    return n;
  };
  pugi::xml_document doc;
  pugi::xml_node domain = add(doc, "domain", {{"type", s.accel == "kvm" ? "kvm" : "qemu"}});
  add(domain, "name", {}, s.name);
  add(domain, "memory", {{"unit", "MiB"}}, std::to_string(s.memory_mib));
  add(domain, "vcpu", {}, "1");
  pugi::xml_node os = add(domain, "os");
  add(os, "type", {{"arch", "x86_64"}, {"machine", "pc"}}, "hvm");
  add(os, "kernel", {}, s.kernel);
  add(os, "initrd", {}, s.initrd);
  add(os, "cmdline", {}, cmdline);
  add(domain, "on_poweroff", {}, "destroy");
  add(domain, "on_reboot", {}, "destroy");
  add(domain, "on_crash", {}, "destroy");
  pugi::xml_node devices = add(domain, "devices");
  add(devices, "emulator", {}, find_program("qemu-system-x86_64"));
  add(devices, "controller", {{"type", "usb"}, {"model", "none"}});
  pugi::xml_node nic = add(devices, "interface", {{"type", "bridge"}});
  if (!s.mac.empty()) add(nic, "mac", {{"address", s.mac}});
  add(nic, "source", {{"bridge", s.bridge}});
  if (!s.tap.empty()) add(nic, "target", {{"dev", s.tap}});
  add(nic, "model", {{"type", "virtio"}});
  // No option ROM: iPXE is never used and costs boot time under TCG.
  add(nic, "rom", {{"enabled", "no"}});
  pugi::xml_node serial = add(devices, "serial", {{"type", "unix"}});
  add(serial, "source", {{"mode", "bind"}, {"path", s.serial_socket}});
  add(serial, "log", {{"file", s.serial_log}, {"append", "on"}});
  add(serial, "target", {{"port", "0"}});
  add(devices, "memballoon", {{"model", "none"}});
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_indent | pugi::format_attribute_single_quote);
  return out.str();
}

Status wait_for_file_text(const std::string& path, const std::string& text, std::chrono::milliseconds timeout,
                          size_t from) {
  bool found = wait_until([&] {
    std::string content = read_text_file(path);
    return content.size() > from && content.find(text, from) != std::string::npos;
  }, timeout, 20ms);
  if (found) return ok_status();
  return deadline_exceeded("'" + text + "' did not appear in " + path + " within " + std::to_string(timeout.count()) + " ms");
}

StatusOr<int> guest_serial_command(const std::string& serial_socket, const std::string& serial_log, int seq,
                                   const std::string& command, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (serial_socket.size() >= sizeof addr.sun_path) return invalid_argument("socket path too long: " + serial_socket);
  std::memcpy(addr.sun_path, serial_socket.c_str(), serial_socket.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return internal_error(std::string("socket: ") + std::strerror(errno));
  struct CloseFd { int fd; ~CloseFd() { ::close(fd); } } close_fd{fd};
  // QEMU serves one client at a time; another one may just be leaving.
  bool connected = wait_until([&] {
    return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }, 2s, 20ms);
  if (!connected) return unavailable("connect " + serial_socket + ": " + std::strerror(errno));
  std::string done = "LMH-DONE " + std::to_string(seq) + " rc=";
  size_t from = read_text_file(serial_log).size();
  std::string line = std::to_string(seq) + " " + command + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    return unavailable("write " + serial_socket + ": " + std::strerror(errno));
  // The guest's output comes back on this socket too; nobody reads it there,
  // and a full socket buffer would stall the guest's serial port.
  std::thread drain([fd] {
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {}
  });
  Status s = wait_for_file_text(serial_log, done, timeout, from);
  ::shutdown(fd, SHUT_RDWR);
  drain.join();
  if (!s.ok()) return s.with_context("guest command '" + command + "'");
  std::string log = read_text_file(serial_log);
  auto at = log.find(done, from);
  return std::atoi(log.c_str() + at + done.size());
}

}  // namespace lmh::harness
