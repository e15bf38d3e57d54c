#include "capture/pcap_capture.h"

#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "common/netns.h"

namespace lmh::capture {
namespace {

using std::chrono::nanoseconds;

constexpr int kSnaplen = 256;            // headers of everything decoded, and then some
constexpr int kBufferBytes = 4 << 20;    // ring; absorbs a stalled thread at 1 ms probing
constexpr int kPollMs = 20;              // how quickly a point notices stop()
constexpr auto kAppearPoll = std::chrono::milliseconds(2);
constexpr auto kFlushEvery = std::chrono::seconds(1);
constexpr int kOffsetSamples = 5;

// Returns CLOCK_REALTIME minus CLOCK_MONOTONIC (steady_clock), from the
// sample whose two monotonic reads bracket the realtime read most tightly.
nanoseconds wall_minus_mono() {
  nanoseconds best_offset{0};
  nanoseconds best_width = nanoseconds::max();
  for (int i = 0; i < kOffsetSamples; ++i) {
    auto before = MonoClock::now().time_since_epoch();
    auto wall = std::chrono::system_clock::now().time_since_epoch();
    auto after = MonoClock::now().time_since_epoch();
    auto width = std::chrono::duration_cast<nanoseconds>(after - before);
    if (width < best_width) {
      best_width = width;
      best_offset = std::chrono::duration_cast<nanoseconds>(wall) -
                    std::chrono::duration_cast<nanoseconds>(before + (after - before) / 2);
    }
  }
  return best_offset;
}

enum class IfState { kAbsent, kDown, kUp };

// Returns whether 'name' exists in the namespace of 'ctl_fd' and is
// administratively up; a packet socket cannot be activated on a down one.
IfState interface_state(int ctl_fd, const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(ctl_fd, SIOCGIFFLAGS, &ifr) != 0) return IfState::kAbsent;
  return (ifr.ifr_flags & IFF_UP) != 0 ? IfState::kUp : IfState::kDown;
}

// Per-point state the pcap callback fills.
struct PointContext {
  const std::string* point = nullptr;
  pcap_dumper_t* dumper = nullptr;
  nanoseconds wall_offset{0};
  bool nano = true;  // stamps carry nanoseconds in tv_usec
  std::vector<Packet> batch;
};

// pcap_handler: writes the frame to the point's file and decodes it.
void on_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  auto* ctx = reinterpret_cast<PointContext*>(user);
  pcap_pkthdr h = *header;
  if (!ctx->nano) h.ts.tv_usec *= 1000;  // the dump file is nanosecond-stamped
  if (ctx->dumper != nullptr) pcap_dump(reinterpret_cast<u_char*>(ctx->dumper), &h, bytes);

  nanoseconds wall = std::chrono::seconds(h.ts.tv_sec) + nanoseconds(h.ts.tv_usec);
  Packet packet;
  packet.t = MonoTime(std::chrono::duration_cast<MonoClock::duration>(wall - ctx->wall_offset));
  packet.point = *ctx->point;
  packet.frame = decode_frame(std::span<const uint8_t>(bytes, h.caplen));
  ctx->batch.push_back(std::move(packet));
}

// Opens 'ifname' for capture in the current namespace. Returns nullptr and
// sets 'error' (a PCAP_ERROR_* code) on failure; 'nano' tells whether the
// stamps are in nanoseconds.
pcap_t* open_live(const std::string& ifname, int* error, bool* nano) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(ifname.c_str(), errbuf);
  if (p == nullptr) {
    *error = PCAP_ERROR;
    return nullptr;
  }
  pcap_set_immediate_mode(p, 1);
  pcap_set_snaplen(p, kSnaplen);
  pcap_set_buffer_size(p, kBufferBytes);
  (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // checked below
  int rc = pcap_activate(p);  // > 0 is a warning (e.g. promiscuous unsupported)
  if (rc < 0 || pcap_setnonblock(p, 1, errbuf) != 0 || pcap_get_selectable_fd(p) < 0) {
    *error = rc < 0 ? rc : PCAP_ERROR;
    pcap_close(p);
    return nullptr;
  }
  *nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  return p;
}

}  // namespace

StatusOr<std::unique_ptr<CaptureSession>> CaptureSession::start(
    std::vector<CapturePointSpec> points) {
  std::set<std::string> names;
  std::set<std::string> paths;
  for (const CapturePointSpec& spec : points) {
    if (spec.name.empty()) return invalid_argument("capture point without a name");
    if (!names.insert(spec.name).second) {
      return invalid_argument("capture point '" + spec.name + "' given twice");
    }
    if (spec.ifname.empty() || spec.ifname.size() >= IFNAMSIZ) {
      return invalid_argument("capture point '" + spec.name + "': bad interface name '" +
                              spec.ifname + "'");
    }
    if (spec.pcap_path.empty()) continue;
    if (!paths.insert(spec.pcap_path).second) {
      return invalid_argument("capture point '" + spec.name + "': pcap file '" + spec.pcap_path +
                              "' used by another point");
    }
    // Checked here so a bad path is an error of start(), not a silently
    // missing file; the point's thread rewrites it with the pcap header.
    std::FILE* f = std::fopen(spec.pcap_path.c_str(), "wb");
    if (f == nullptr) {
      return invalid_argument("capture point '" + spec.name + "': cannot write '" +
                              spec.pcap_path + "': " + std::strerror(errno));
    }
    std::fclose(f);
  }

  std::unique_ptr<CaptureSession> session(new CaptureSession());
  session->specs_ = std::move(points);
  session->threads_.reserve(session->specs_.size());
  for (const CapturePointSpec& spec : session->specs_) {
    session->threads_.emplace_back([s = session.get(), &spec] { s->run_point(spec); });
  }
  return session;
}

CaptureSession::~CaptureSession() { stop(); }

void CaptureSession::stop() {
  stopping_ = true;
  // Each point flushes and closes its own file before its thread ends.
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<Packet> CaptureSession::packets() const {
  std::vector<Packet> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = packets_;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Packet& a, const Packet& b) { return a.t < b.t; });
  return out;
}

std::vector<std::string> CaptureSession::opened_points() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

// Captures 'spec' for the thread's life: waits for the interface, captures,
// and on loss of the interface waits again, until stopping_.
void CaptureSession::run_point(const CapturePointSpec& spec) {
  PointContext ctx;
  ctx.point = &spec.name;
  ctx.wall_offset = wall_minus_mono();
  pcap_t* dead = nullptr;
  if (!spec.pcap_path.empty()) {
    // Written even if the interface never appears: an empty capture is a result.
    dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, kSnaplen,
                                                PCAP_TSTAMP_PRECISION_NANO);
    if (dead != nullptr) ctx.dumper = pcap_dump_open(dead, spec.pcap_path.c_str());
  }

  // The whole thread lives in the point's namespace: the ioctl socket, the
  // packet socket and every re-open after the interface comes back.
  std::optional<ScopedNetns> netns;
  if (spec.netns_fd >= 0) netns.emplace(spec.netns_fd);
  int ctl_fd = -1;
  if (!netns || netns->ok()) ctl_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  auto publish = [&] {
    if (ctx.batch.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    packets_.insert(packets_.end(), std::make_move_iterator(ctx.batch.begin()),
                    std::make_move_iterator(ctx.batch.end()));
    ctx.batch.clear();
  };

  // The interface may appear late (a destination tap), go down or vanish and
  // come back (migration back to this host): wait for it, capture until it
  // fails, and wait again.
  while (ctl_fd >= 0 && !stopping_) {
    if (interface_state(ctl_fd, spec.ifname) != IfState::kUp) {
      std::this_thread::sleep_for(kAppearPoll);
      continue;
    }
    int error = 0;
    pcap_t* p = open_live(spec.ifname, &error, &ctx.nano);
    if (p == nullptr) {
      if (error == PCAP_ERROR_PERM_DENIED) break;  // will not improve by waiting
      std::this_thread::sleep_for(kAppearPoll);    // raced with a down or a removal
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (std::find(opened_.begin(), opened_.end(), spec.name) == opened_.end()) {
        opened_.push_back(spec.name);
      }
    }

    int fd = pcap_get_selectable_fd(p);
    auto last_flush = MonoClock::now();
    while (!stopping_) {
      pollfd pfd{fd, POLLIN, 0};
      int rc = ::poll(&pfd, 1, kPollMs);
      if (rc < 0 && errno != EINTR) break;
      // POLLERR/POLLHUP too: pcap_dispatch then reports the interface as
      // gone (ENETDOWN, ENODEV, ENXIO) with a negative return.
      int n = rc > 0 ? pcap_dispatch(p, -1, on_packet, reinterpret_cast<u_char*>(&ctx)) : 0;
      publish();
      if (ctx.dumper != nullptr && MonoClock::now() - last_flush > kFlushEvery) {
        pcap_dump_flush(ctx.dumper);
        last_flush = MonoClock::now();
      }
      if (n < 0) break;
    }
    pcap_close(p);
    if (ctx.dumper != nullptr) pcap_dump_flush(ctx.dumper);
    // Not straight back: an error that is not the interface going away
    // would otherwise reopen in a tight loop.
    if (!stopping_) std::this_thread::sleep_for(kAppearPoll);
  }

  publish();
  if (ctx.dumper != nullptr) {
    pcap_dump_flush(ctx.dumper);
    pcap_dump_close(ctx.dumper);
  }
  if (dead != nullptr) pcap_close(dead);
  if (ctl_fd >= 0) ::close(ctl_fd);
}

}  // namespace lmh::capture
