// The capture's frame decoder: decode_frame on any bytes (it must read
// nothing past them), and the frame it reports is consistent with its kind.
#include <cstddef>
#include <cstdint>
#include <span>

#include "capture/packet.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lmh;
  // libFuzzer passes a heap copy of exactly 'size' bytes: ASan sees any
  // read past the frame.
  const capture::Frame f = capture::decode_frame(std::span<const uint8_t>(data, size));
  // Every header a frame reports was in the bytes: an Ethernet header
  // unless truncated, and for a tunnelled frame the outer Ethernet, IPv4,
  // UDP and VXLAN or Geneve headers (50 bytes at least), then the inner
  // Ethernet header unless that was cut short.
  constexpr size_t kEthernet = 14, kOuter = 14 + 20 + 8 + 8;
  const bool truncated = f.kind == capture::FrameKind::kTruncated;
  fuzz::check(truncated || size >= kEthernet, "decoded a frame shorter than an Ethernet header");
  if (f.tunnel) {
    fuzz::check(size >= kOuter, "decoded a tunnelled frame shorter than its outer headers");
    fuzz::check(truncated || size >= kOuter + kEthernet, "decoded an inner frame shorter than its Ethernet header");
  }
  return 0;
}
