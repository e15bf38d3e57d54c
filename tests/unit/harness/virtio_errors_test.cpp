#include <gtest/gtest.h>

#include "harness/lab/libvirt_hypervisor.h"

namespace lmh::harness {
namespace {

// The destination's serial log of the real-tier guest that went silent
// under `lmh run --jobs 2` (abridged): its TX ring broke at the switchover.
TEST(VirtioKernelErrors, FindsTheBrokenRingAndNothingElse) {
  const std::string log =
      "[    0.000000] ACPI BIOS Error (bug): A valid RSDP was not found (20220331/tbxfroot-210)\r\n"
      "LMH-GUEST-READY ip=198.18.0.10/24 mac=fa:16:3e:3a:7b:01\r\n"
      "[    3.456161] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready\r\n"
      "[    6.532354] virtio_net virtio0: output.0:id 0 is not a head!\r\n"
      "[    6.600000] virtio_net virtio0 eth0: renamed\r\n";
  EXPECT_EQ(virtio_kernel_errors(log),
            std::vector<std::string>{"[    6.532354] virtio_net virtio0: output.0:id 0 is not a head!"});
  EXPECT_TRUE(virtio_kernel_errors("LMH-GUEST-READY\n[ 1.0] virtio_net virtio0 eth0: link up\n").empty());
}

}  // namespace
}  // namespace lmh::harness
