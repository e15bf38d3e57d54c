#include "harness/virt/accel_probe.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time.h"
#include "harness/system/files.h"
#include "harness/system/process.h"
#include "harness/system/wait.h"
#include "harness/virt/libvirt_host.h"

namespace lmh::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string file_identity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return path + ":missing";
  return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec);
}

// The kernel by content (FNV-1a), so that build trees holding the same
// image share one probe.
std::string content_identity(const std::string& path) {
  std::string data = read_text_file(path);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) { h ^= c; h *= 0x100000001b3ULL; }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%zu:%016llx", data.size(), static_cast<unsigned long long>(h));
  return buf;
}

// What the cached answer depends on: this boot of the machine, the QEMU
// binary and the guest kernel.
std::string cache_key(const AccelProbeOptions& o, const std::string& qemu) {
  return "boot_id=" + trim(read_text_file("/proc/sys/kernel/random/boot_id")) + " qemu=" + file_identity(qemu) +
         " kernel=" + content_identity(o.image.kernel);
}

// Cache file: "key\naccel\nreason\n".
bool read_cache(const std::string& path, const std::string& key, AccelChoice* out) {
  std::ifstream f(path);
  std::string k, accel, reason;
  if (!std::getline(f, k) || !std::getline(f, accel) || !std::getline(f, reason)) return false;
  if (k != key || (accel != "kvm" && accel != "tcg")) return false;
  *out = {accel, reason, true};
  return true;
}

void write_cache(const std::string& path, const std::string& key, const AccelChoice& c) {
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << key << "\n" << c.accel << "\n" << c.reason << "\n";
    if (!f) return;  // an uncached answer is still an answer
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

std::string last_line(const std::string& text) {
  std::string t = trim(text);
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Boots the image once under KVM; kvm when the ready marker appears.
AccelChoice boot_under_kvm(const AccelProbeOptions& o, const std::string& qemu) {
  char tmpl[] = "/tmp/lmh-accel-probe.XXXXXX";
  if (!::mkdtemp(tmpl)) return {"tcg", std::string("cannot create a scratch dir: ") + std::strerror(errno)};
  std::string dir = tmpl;
  std::string serial = dir + "/serial.log";
  std::string log = dir + "/qemu.log";
  // No NIC: the guest then waits ~2 s for eth0 before its marker, which is
  // small against the timeout and needs no network set-up.
  auto qemu_proc = Daemon::start({{qemu, "-accel", "kvm", "-m", "128", "-nodefaults", "-no-user-config", "-display",
                                   "none", "-kernel", o.image.kernel, "-initrd", o.image.initrd, "-append",
                                   "console=ttyS0 quiet lmh.garp=0", "-serial", "file:" + serial},
                                  -1, {}, log, ""});
  AccelChoice choice;
  if (!qemu_proc.ok()) {
    choice = {"tcg", "cannot start QEMU for the KVM probe: " + qemu_proc.status().message()};
  } else {
    auto t0 = MonoClock::now();
    bool exited = false;
    bool ready = wait_until([&] {
      if (read_text_file(serial).find(kGuestReadyMarker) != std::string::npos) return true;
      exited = !qemu_proc->running();
      return exited;
    }, o.timeout, 20ms) && !exited;
    double ms = ms_since(t0, MonoClock::now());
    qemu_proc->stop(500ms);
    char took[32];
    std::snprintf(took, sizeof took, "%.0f ms", ms);
    if (ready)
      choice = {"kvm", std::string("guest booted to ") + kGuestReadyMarker + " under KVM in " + took};
    else if (exited)
      choice = {"tcg", "QEMU with -accel kvm failed after " + std::string(took) + ": " + last_line(read_text_file(log))};
    else
      choice = {"tcg", std::string("/dev/kvm opens, but the guest did not reach ") + kGuestReadyMarker + " under KVM within " +
                           std::to_string(o.timeout.count() / 1000) + " s (the kernel hangs in early boot)"};
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return choice;
}

}  // namespace

StatusOr<GuestImage> ensure_guest_image(const std::string& source_dir, const std::string& out_dir) {
  std::string script = source_dir + "/tools/build-guest-image.sh";
  auto r = run_command({"sh", script, out_dir}, std::chrono::minutes(10));
  if (!r.ok()) return r.status().with_context("build guest image");
  if (r->exit_code != 0)
    return environment_error("build guest image: " + script + " exited " + std::to_string(r->exit_code) + ": " + trim(r->err));
  GuestImage image{out_dir + "/vmlinuz", out_dir + "/initramfs.cpio.gz"};
  if (::access(image.kernel.c_str(), R_OK) != 0 || ::access(image.initrd.c_str(), R_OK) != 0)
    return environment_error("build guest image: " + out_dir + " lacks vmlinuz or initramfs.cpio.gz");
  return image;
}

AccelChoice probe_accel(const AccelProbeOptions& o) {
  std::string qemu = find_program("qemu-system-x86_64");
  if (qemu.empty()) return {"tcg", "qemu-system-x86_64 not found (package qemu-system-x86)"};
  std::string key = cache_key(o, qemu);
  AccelChoice cached;
  if (!o.cache_path.empty() && read_cache(o.cache_path, key, &cached)) return cached;

  AccelChoice choice;
  int fd = ::open(o.kvm_device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    choice = {"tcg", "cannot open " + o.kvm_device + ": " + std::strerror(errno)};
  } else {
    int api = ::ioctl(fd, KVM_GET_API_VERSION, 0);
    ::close(fd);
    if (api != KVM_API_VERSION) {
      choice = {"tcg", o.kvm_device + " answers KVM API version " + std::to_string(api) + ", not " +
                           std::to_string(KVM_API_VERSION)};
    } else if (::access(o.image.kernel.c_str(), R_OK) != 0 || ::access(o.image.initrd.c_str(), R_OK) != 0) {
      // Not cached: the answer may change once the image exists.
      return {"tcg", "no guest image to probe KVM with (" + o.image.kernel + ")"};
    } else {
      choice = boot_under_kvm(o, qemu);
    }
  }
  if (!o.cache_path.empty()) write_cache(o.cache_path, key, choice);
  return choice;
}

}  // namespace lmh::harness
