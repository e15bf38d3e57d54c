// Capture on links that do not exist yet: a capture point whose interface is
// created after CaptureSession::start() (a destination tap, a fabric port)
// must see the first frame that crosses it, however soon after creation and
// bring-up that frame comes, and again after the link is deleted and created
// anew (a migration back to the host).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "capture/link_monitor.h"
#include "capture/pcap_capture.h"
#include "common/netns.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/wait.h"
#include "integration_util.h"

namespace lmh::harness {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCaptured = "cm0";  // the capture point's interface
constexpr const char* kSender = "cm1";    // its veth peer, where frames are sent
constexpr uint32_t kMarkNet = 0xc6336400;  // 198.51.100.0/24: sender addresses of the test's ARPs

// An ARP request whose sender protocol address is 198.51.100.'n': the
// capture decodes it, so 'n' tells which frame of the test it saw.
std::array<uint8_t, 60> marked_arp(uint8_t n) {
  std::array<uint8_t, 60> f{};
  const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0xca, 0xfe};
  for (int i = 0; i < 6; ++i) f[i] = 0xff, f[6 + i] = src[i];
  f[12] = 0x08, f[13] = 0x06;                          // ARP
  f[14] = 0x00, f[15] = 0x01, f[16] = 0x08, f[17] = 0x00;  // Ethernet, IPv4
  f[18] = 6, f[19] = 4, f[20] = 0x00, f[21] = 0x01;    // request
  for (int i = 0; i < 6; ++i) f[22 + i] = src[i];
  uint32_t spa = htonl(kMarkNet | n);
  std::memcpy(&f[28], &spa, 4);
  uint32_t tpa = htonl(kMarkNet | 0xfe);
  std::memcpy(&f[38], &tpa, 4);
  return f;
}

// A namespace of the test's own run (owner.pid in /run/lmh/<run>, so a
// concurrent `lmh cleanup` keeps it), a capture on kCaptured started before
// that link exists, and a packet socket ready to send on kSender.
class CaptureLink : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    run_ = "capmon" + std::to_string(::getpid() % 1000);
    dir_ = "/run/lmh/" + run_;
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/owner.pid") << ::getpid() << "\n";
    auto ns = NamedNetns::create("lmh-" + run_ + "-ns");
    ASSERT_TRUE(ns.ok()) << ns.status().to_string();
    ns_ = std::move(ns).value();
    auto nl = Netlink::open(ns_.fd());
    ASSERT_TRUE(nl.ok()) << nl.status().to_string();
    nl_ = std::move(nl).value();
    {
      ScopedNetns in(ns_.fd());
      ASSERT_TRUE(in.ok());
      tx_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // sends only
    }
    ASSERT_GE(tx_, 0) << std::strerror(errno);
    pcap_path_ = ::testing::TempDir() + "capmon-" + std::to_string(::getpid()) + ".pcap";
    auto cap = capture::CaptureSession::start({{"point", ns_.fd(), kCaptured, pcap_path_}});
    ASSERT_TRUE(cap.ok()) << cap.status().to_string();
    cap_ = std::move(cap).value();
  }
  void TearDown() override {
    if (cap_) cap_->stop();
    cap_.reset();
    if (tx_ >= 0) ::close(tx_);
    nl_.reset();
    ns_.destroy();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    if (!pcap_path_.empty()) std::filesystem::remove(pcap_path_, ec);
  }

  // Creates the veth pair; with 'up', brings both ends up and at once sends
  // frames 'first'..'first'+'count'-1 from kSender as fast as it can.
  void create_and_send(uint8_t first, int count, bool up = true) {
    ASSERT_TRUE(nl_->create_veth(kCaptured, kSender).ok());
    if (up) bring_up_and_send(first, count);
  }
  void bring_up_and_send(uint8_t first, int count) {
    ASSERT_TRUE(nl_->set_up(kCaptured).ok());
    ASSERT_TRUE(nl_->set_up(kSender).ok());
    auto index = nl_->ifindex(kSender);
    ASSERT_TRUE(index.ok());
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = *index;
    to.sll_halen = 6;
    for (int i = 0; i < count; ++i) {
      auto f = marked_arp(static_cast<uint8_t>(first + i));
      ASSERT_EQ(::sendto(tx_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
                static_cast<ssize_t>(f.size()))
          << std::strerror(errno);
    }
  }

  // The marks (last octet of the sender address) of the test's ARPs the
  // capture saw, in capture order; waits until 'expected' were seen or 2 s.
  std::vector<int> marks_seen(size_t expected) {
    std::vector<int> marks;
    wait_until([&] {
      marks.clear();
      for (const auto& p : cap_->packets())
        if (p.frame.kind == capture::FrameKind::kArp && (p.frame.arp_spa & 0xffffff00) == kMarkNet)
          marks.push_back(static_cast<int>(p.frame.arp_spa & 0xff));
      return marks.size() >= expected;
    }, 2000ms);
    return marks;
  }

  // Frames in the point's pcap file (after stop()).
  int frames_in_file() {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(pcap_path_.c_str(), err);
    if (p == nullptr) return -1;
    int n = 0;
    pcap_pkthdr* h;
    const u_char* d;
    while (pcap_next_ex(p, &h, &d) == 1) ++n;
    pcap_close(p);
    return n;
  }

  std::string run_, dir_, pcap_path_;
  NamedNetns ns_;
  std::unique_ptr<Netlink> nl_;
  int tx_ = -1;
  std::unique_ptr<capture::CaptureSession> cap_;
};

std::vector<int> range(int first, int count) {
  std::vector<int> v;
  for (int i = 0; i < count; ++i) v.push_back(first + i);
  return v;
}

TEST_F(CaptureLink, FirstFrameOnALinkCreatedAfterStartIsCaptured) {
  create_and_send(1, 10);
  auto marks = marks_seen(10);
  EXPECT_EQ(marks, range(1, 10)) << "the capture missed the first frames on a fresh link";
  cap_->stop();
  EXPECT_EQ(cap_->opened_points(), std::vector<std::string>{"point"});
  EXPECT_EQ(frames_in_file(), static_cast<int>(cap_->packets().size()));
}

// libpcap cannot activate on a link that is down; the capture must still
// have every frame from the moment the link goes up.
TEST_F(CaptureLink, LinkCreatedDownGetsFramesFromTheFirstOnceUp) {
  create_and_send(1, 0, /*up=*/false);
  std::this_thread::sleep_for(50ms);  // the capture has long seen the down link
  EXPECT_TRUE(cap_->opened_points().empty()) << "nothing to open on a down link";
  bring_up_and_send(1, 10);
  EXPECT_EQ(marks_seen(10), range(1, 10));
}

TEST_F(CaptureLink, RecreatedLinkIsCapturedAgainFromItsFirstFrame) {
  create_and_send(1, 5);
  ASSERT_EQ(marks_seen(5), range(1, 5));
  ASSERT_TRUE(nl_->delete_link(kCaptured).ok());  // takes kSender with it
  create_and_send(101, 5);
  auto want = range(1, 5);
  for (int m : range(101, 5)) want.push_back(m);
  EXPECT_EQ(marks_seen(10), want);
  cap_->stop();
  EXPECT_EQ(frames_in_file(), static_cast<int>(cap_->packets().size()));
}

// The monitor itself: the links that exist at open, then each appearance,
// bring-up and removal, once; a port leaving a bridge (RTM_DELLINK of
// family AF_BRIDGE) is not the link going away.
TEST_F(CaptureLink, MonitorReportsExistingLinksThenEachChangeOnce) {
  auto monitor = capture::LinkMonitor::open(ns_.fd());
  ASSERT_TRUE(monitor.ok()) << monitor.status().to_string();
  std::vector<std::string> seen;
  auto changes = [&] {
    seen.clear();
    EXPECT_TRUE((*monitor)->process([&](const capture::LinkState& l, bool present) {
      seen.push_back(l.name + (present ? (l.up ? " up" : " down") : " gone"));
    }).ok());
    return seen;
  };
  EXPECT_EQ(changes(), std::vector<std::string>{"lo up"});  // NamedNetns brings lo up
  EXPECT_EQ(changes(), std::vector<std::string>{});
  ASSERT_TRUE(nl_->create_veth(kCaptured, kSender).ok());
  auto created = changes();
  std::sort(created.begin(), created.end());  // the kernel announces either end first
  EXPECT_EQ(created, (std::vector<std::string>{"cm0 down", "cm1 down"}));
  ASSERT_TRUE(nl_->set_up(kCaptured).ok());
  EXPECT_EQ(changes(), std::vector<std::string>{"cm0 up"});
  EXPECT_NE((*monitor)->find(kCaptured).ifindex, 0);
  EXPECT_EQ((*monitor)->name_of((*monitor)->find(kCaptured).ifindex), kCaptured);
  ASSERT_TRUE(nl_->create_bridge("cmbr").ok());
  ASSERT_TRUE(nl_->set_master(kCaptured, "cmbr").ok());
  ASSERT_TRUE(nl_->release(kCaptured).ok());
  ASSERT_TRUE(nl_->delete_link("cmbr").ok());
  for (const auto& c : changes()) EXPECT_EQ(c.rfind("cm0 gone", 0), std::string::npos) << "leaving a bridge is not going away";
  EXPECT_TRUE((*monitor)->find(kCaptured).up);
  ASSERT_TRUE(nl_->delete_link(kCaptured).ok());
  // Unregistering closes the link first: "cm0 down" may come before "gone".
  std::vector<std::string> gone;
  for (const auto& c : changes())
    if (c.find(" gone") != std::string::npos) gone.push_back(c);
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(gone, (std::vector<std::string>{"cm0 gone", "cm1 gone"}));
  EXPECT_EQ((*monitor)->find(kCaptured).ifindex, 0);
}

}  // namespace
}  // namespace lmh::harness
