// The real-guest tier's image and accelerator. KVM is used only where it
// actually boots our guest: on some machines /dev/kvm opens but a standard
// kernel hangs early in boot under it (nested virtualisation without the
// CPU features the kernel expects), so the probe boots the guest image once
// under KVM and falls back to TCG unless the ready marker appears. The
// answer is cached per machine boot (keyed by /proc boot_id, the QEMU binary
// and the kernel image).
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"

namespace lmh::harness {

struct GuestImage {
  std::string kernel;  // vmlinuz
  std::string initrd;  // initramfs.cpio.gz
};

// Runs 'source_dir'/tools/build-guest-image.sh into 'out_dir' (cached by the
// script: a no-op when the image is up to date) and returns the image.
StatusOr<GuestImage> ensure_guest_image(const std::string& source_dir, const std::string& out_dir);

struct AccelChoice {
  std::string accel;        // "kvm" or "tcg"
  std::string reason;       // what the probe saw
  bool from_cache = false;  // answered from the cache file, nothing booted
};

struct AccelProbeOptions {
  GuestImage image;
  std::string cache_path = "/run/lmh-accel-probe";  // "" disables the cache
  std::chrono::milliseconds timeout = std::chrono::seconds(20);
  std::string kvm_device = "/dev/kvm";
};

// Decides between KVM and TCG for 'options.image' (see above). Never fails:
// anything that prevents using KVM is a reason for TCG.
AccelChoice probe_accel(const AccelProbeOptions& options);

}  // namespace lmh::harness
