#include "capture/pcap_capture.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <time.h>

#include "capture/link_monitor.h"
#include "common/netns.h"

namespace lmh::capture {
namespace {

using std::chrono::nanoseconds;

constexpr int kSnaplen = 256;            // headers of everything decoded, and then some
constexpr int kBufferBytes = 4 << 20;    // ring; absorbs a stalled thread at 1 ms probing
constexpr int kPollMs = 20;              // how quickly a thread notices stop()
constexpr auto kRetryOpen = std::chrono::milliseconds(20);  // after an open of an up link failed
constexpr auto kFlushEvery = std::chrono::seconds(1);
constexpr size_t kMaxEarlyFrames = 1 << 16;  // per point, while its pcap handle cannot open
constexpr int kVlanTagBytes = 4;

// Stamps below are wall-clock with nanoseconds in tv_usec (the dump files'
// precision); true when 'a' is earlier than 'b'.
bool stamp_before(const timeval& a, const timeval& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_usec < b.tv_usec;
}

// A frame the all-links socket saw on a point's link.
struct EarlyFrame {
  pcap_pkthdr header;  // nanosecond stamp
  std::vector<uint8_t> bytes;
};

// Per-point state the pcap callback fills.
struct PointContext {
  const std::string* point = nullptr;
  pcap_dumper_t* dumper = nullptr;
  nanoseconds wall_offset{0};
  bool nano = true;  // the open handle's stamps carry nanoseconds in tv_usec
  std::vector<Packet> batch;
  // Whether the open pcap handle has delivered a frame; until then the
  // point's frames come from the all-links socket into 'early'.
  bool live = false;
  std::vector<EarlyFrame> early;
  std::optional<timeval> last_stamp;  // of the last frame recorded
  std::function<void()> drain_early;  // reads the all-links socket into 'early'
};

// Writes the frame to the point's file and decodes it; 'h' is nanosecond-stamped.
void record(PointContext* ctx, const pcap_pkthdr& h, const u_char* bytes) {
  if (ctx->dumper != nullptr) pcap_dump(reinterpret_cast<u_char*>(ctx->dumper), &h, bytes);
  nanoseconds wall = std::chrono::seconds(h.ts.tv_sec) + nanoseconds(h.ts.tv_usec);
  Packet packet;
  packet.t = MonoTime(std::chrono::duration_cast<MonoClock::duration>(wall - ctx->wall_offset));
  packet.point = *ctx->point;
  packet.frame = decode_frame(std::span<const uint8_t>(bytes, h.caplen));
  ctx->batch.push_back(std::move(packet));
  ctx->last_stamp = h.ts;
}

// Records the early frames stamped before 'first' (all with nullptr): the
// kernel stamps a frame once for every capture socket, so the frames from
// 'first' on are the pcap handle's too.
void flush_early(PointContext* ctx, const timeval* first) {
  for (const EarlyFrame& f : ctx->early)
    if (first == nullptr || stamp_before(f.header.ts, *first)) record(ctx, f.header, f.bytes.data());
  ctx->early.clear();
}

// pcap_handler: records the frame, after the early frames that precede it
// when it is the handle's first.
void on_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  auto* ctx = reinterpret_cast<PointContext*>(user);
  pcap_pkthdr h = *header;
  if (!ctx->nano) h.ts.tv_usec *= 1000;  // the dump file is nanosecond-stamped
  if (!ctx->live) {
    // What crossed the link before this frame sits in the all-links socket
    // already (the same frame went to both sockets in one pass).
    ctx->drain_early();
    flush_early(ctx, &h.ts);
    ctx->live = true;
  }
  record(ctx, h, bytes);
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

// Opens a packet socket on every link of the current namespace, present and
// future, with each frame's VLAN tag and kernel stamp. Asking for stamps
// also makes the kernel stamp each frame once for every capture socket, so
// this socket's and a pcap handle's stamps of one frame are equal.
StatusOr<int> open_all_links_socket() {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    int e = errno;
    std::string msg = std::string("capture: packet socket: ") + std::strerror(e);
    return e == EPERM ? environment_error(msg) : internal_error(msg);
  }
  int one = 1;
  int buffer = kBufferBytes;
  if (::setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0 ||
      (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) != 0 &&
       ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer)) != 0)) {
    std::string msg = std::string("capture: packet socket options: ") + std::strerror(errno);
    ::close(fd);
    return internal_error(msg);
  }
  return fd;
}

// A frame read from the all-links socket.
struct LinkFrame {
  int ifindex = 0;
  EarlyFrame frame;
};

// Reads one frame from the all-links socket 'fd' into 'out' (its VLAN tag
// put back, as libpcap does); false when none is queued.
bool read_link_frame(int fd, LinkFrame* out) {
  uint8_t buf[kVlanTagBytes + kSnaplen];
  uint8_t* data = buf + kVlanTagBytes;  // room to put a tag back
  sockaddr_ll from{};
  iovec iov{data, kSnaplen};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata)) + CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(fd, &msg, MSG_TRUNC);  // n: the frame's full length
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  size_t caplen = std::min<size_t>(len, kSnaplen);
  std::optional<timespec> stamp;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      stamp = ts;
    } else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
      bool tagged = aux.tp_vlan_tci != 0 || (aux.tp_status & TP_STATUS_VLAN_VALID) != 0;
      if (tagged && caplen >= 2 * ETH_ALEN) {
        uint16_t tpid = htons((aux.tp_status & TP_STATUS_VLAN_TPID_VALID) != 0 ? aux.tp_vlan_tpid
                                                                               : ETH_P_8021Q);
        uint16_t tci = htons(aux.tp_vlan_tci);
        std::memmove(buf, data, 2 * ETH_ALEN);
        std::memcpy(buf + 2 * ETH_ALEN, &tpid, 2);
        std::memcpy(buf + 2 * ETH_ALEN + 2, &tci, 2);
        data = buf;
        len += kVlanTagBytes;
        caplen = std::min<size_t>(caplen + kVlanTagBytes, kSnaplen);
      }
    }
  }
  if (!stamp) {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    stamp = ts;
  }
  out->ifindex = from.sll_ifindex;
  out->frame.header.ts.tv_sec = stamp->tv_sec;
  out->frame.header.ts.tv_usec = stamp->tv_nsec;
  out->frame.header.caplen = static_cast<bpf_u_int32>(caplen);
  out->frame.header.len = static_cast<bpf_u_int32>(len);
  out->frame.bytes.assign(data, data + caplen);
  return true;
}

// The capture points of one network namespace, run by one thread inside it:
// a link monitor says when a point's link is up (open its pcap handle) or
// down or gone (close it); the all-links socket covers each point's link
// from its creation until its handle delivers.
class NamespaceCapture {
 public:
  using Publish = std::function<void(std::vector<Packet>*)>;
  using Opened = std::function<void(const std::string& point)>;

  NamespaceCapture(const std::vector<const CapturePointSpec*>& specs, Publish publish, Opened opened)
      : publish_(std::move(publish)), opened_(std::move(opened)) {
    nanoseconds offset = wall_minus_mono();
    for (const CapturePointSpec* spec : specs) {
      auto pt = std::make_unique<Point>();
      pt->spec = spec;
      pt->ctx.point = &spec->name;
      pt->ctx.wall_offset = offset;
      pt->ctx.drain_early = [this] { drain_all_links(); };
      if (!spec->pcap_path.empty()) {
        // Written even if the interface never appears: an empty capture is a result.
        pt->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, kSnaplen,
                                                        PCAP_TSTAMP_PRECISION_NANO);
        if (pt->dead != nullptr) pt->ctx.dumper = pcap_dump_open(pt->dead, spec->pcap_path.c_str());
      }
      points_.push_back(std::move(pt));
    }
  }
  ~NamespaceCapture() { finish(); }
  NamespaceCapture(const NamespaceCapture&) = delete;
  NamespaceCapture& operator=(const NamespaceCapture&) = delete;

  // Starts watching the current namespace: the all-links socket first (so
  // it holds the frames of any link the monitor then reports), then the
  // link monitor, whose first report opens the points already up.
  Status watch() {
    auto fd = open_all_links_socket();
    if (!fd.ok()) return fd.status();
    all_links_fd_ = *fd;
    auto monitor = LinkMonitor::open(-1);
    if (!monitor.ok()) return monitor.status();
    monitor_ = std::move(monitor).value();
    return process_links();
  }

  // Waits up to kPollMs for a link event or frames and handles them.
  void step() {
    std::vector<pollfd> fds = {{monitor_->fd(), POLLIN, 0}, {all_links_fd_, POLLIN, 0}};
    for (const auto& pt : points_)
      if (pt->p != nullptr) fds.push_back({pcap_get_selectable_fd(pt->p), POLLIN, 0});
    (void)::poll(fds.data(), fds.size(), kPollMs);  // EINTR: just another round
    (void)process_links();  // a broken monitor: the points stay as they are
    drain_all_links();
    resolve_unknown_links();
    // POLLERR/POLLHUP too: pcap_dispatch then reports the interface as
    // gone (ENETDOWN, ENODEV, ENXIO) with a negative return.
    for (auto& pt : points_)
      if (pt->p != nullptr) dispatch(*pt);
    for (auto& pt : points_)
      if (pt->retry_at && MonoClock::now() >= *pt->retry_at) reconcile(*pt);
    for (auto& pt : points_) publish_(&pt->ctx.batch);
    if (MonoClock::now() - last_flush_ > kFlushEvery) {
      for (auto& pt : points_)
        if (pt->ctx.dumper != nullptr) pcap_dump_flush(pt->ctx.dumper);
      last_flush_ = MonoClock::now();
    }
  }

  // Takes what is still queued, closes every handle and file. Idempotent.
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (monitor_) (void)process_links();
    drain_all_links();
    resolve_unknown_links();
    for (auto& pt : points_) {
      if (pt->p != nullptr) close_point(*pt);
      flush_early(&pt->ctx, nullptr);
      publish_(&pt->ctx.batch);
      if (pt->ctx.dumper != nullptr) {
        pcap_dump_flush(pt->ctx.dumper);
        pcap_dump_close(pt->ctx.dumper);
        pt->ctx.dumper = nullptr;
      }
      if (pt->dead != nullptr) pcap_close(pt->dead);
      pt->dead = nullptr;
    }
    if (all_links_fd_ >= 0) ::close(all_links_fd_);
    all_links_fd_ = -1;
  }

 private:
  struct Point {
    const CapturePointSpec* spec = nullptr;
    PointContext ctx;
    pcap_t* dead = nullptr;  // for the dumper
    pcap_t* p = nullptr;     // open while the link is up
    int ifindex = 0;         // of the link 'p' captures
    bool failed = false;     // permission denied: will not improve
    std::optional<MonoTime> retry_at;
  };

  // Applies the monitor's news to every point whose link it concerns.
  Status process_links() {
    return monitor_->process([this](const LinkState& link, bool present) {
      for (auto& pt : points_) {
        if (pt->spec->ifname != link.name && pt->ifindex != link.ifindex) continue;
        pt->retry_at.reset();  // news of the link: try at once
        reconcile(*pt);
      }
    });
  }

  // Opens, closes or reopens the point's pcap handle so that it captures
  // the point's link exactly when that link is up.
  void reconcile(Point& pt) {
    pt.retry_at.reset();
    if (pt.failed) return;
    LinkState now = monitor_->find(pt.spec->ifname);
    bool want = now.ifindex != 0 && now.up;
    if (pt.p != nullptr && (!want || now.ifindex != pt.ifindex)) close_point(pt);
    if (pt.p != nullptr || !want) return;
    int error = 0;
    pt.p = open_live(pt.spec->ifname, &error, &pt.ctx.nano);
    if (pt.p == nullptr) {
      // Raced with a down or a removal (the monitor will say), or worse.
      if (error == PCAP_ERROR_PERM_DENIED) pt.failed = true;
      else pt.retry_at = MonoClock::now() + kRetryOpen;
      return;
    }
    pt.ifindex = now.ifindex;
    opened_(pt.spec->name);
  }

  // Takes what the point's handle holds, then closes it; the point's frames
  // come from the all-links socket again until the next handle delivers.
  void close_point(Point& pt) {
    drain_all_links();  // before the handle's last frames: see add_early()
    dispatch(pt, /*close_on_error=*/false);
    pcap_close(pt.p);
    pt.p = nullptr;
    pt.ifindex = 0;
    flush_early(&pt.ctx, nullptr);  // the handle never delivered: all are the link's
    pt.ctx.live = false;
    if (pt.ctx.dumper != nullptr) pcap_dump_flush(pt.ctx.dumper);
  }

  // Reads every frame the point's handle holds; closes it when the link is
  // gone or down (the monitor then says whether to reopen).
  void dispatch(Point& pt, bool close_on_error = true) {
    int n = 0;
    while ((n = pcap_dispatch(pt.p, -1, on_packet, reinterpret_cast<u_char*>(&pt.ctx))) > 0) {
    }
    if (n < 0 && close_on_error) {
      close_point(pt);
      pt.retry_at = MonoClock::now() + kRetryOpen;
    }
  }

  // Reads every queued frame of the all-links socket and keeps those of
  // points whose handle has not delivered yet.
  void drain_all_links() {
    LinkFrame f;
    while (all_links_fd_ >= 0 && read_link_frame(all_links_fd_, &f)) {
      if (!add_early(f)) unknown_.push_back(std::move(f));
    }
  }

  // Adds 'f' to the early frames of its link's points; false when the
  // monitor has not reported its link yet.
  bool add_early(const LinkFrame& f) {
    std::string name = monitor_ ? monitor_->name_of(f.ifindex) : std::string();
    if (name.empty()) return false;
    for (auto& pt : points_) {
      PointContext& ctx = pt->ctx;
      if (pt->spec->ifname != name || ctx.live) continue;
      // Stamped no later than the last recorded frame: the handle had it.
      if (ctx.last_stamp && !stamp_before(*ctx.last_stamp, f.frame.header.ts)) continue;
      if (ctx.early.size() < kMaxEarlyFrames) ctx.early.push_back(f.frame);
    }
    return true;
  }

  // Frames read before the monitor reported their link: the kernel queued
  // the link's announcement before any frame could cross it, so after one
  // more read of the monitor a frame still unknown is not of our links.
  void resolve_unknown_links() {
    if (unknown_.empty()) return;
    (void)process_links();
    std::vector<LinkFrame> frames;
    frames.swap(unknown_);
    for (const LinkFrame& f : frames) (void)add_early(f);
  }

  Publish publish_;
  Opened opened_;
  std::vector<std::unique_ptr<Point>> points_;  // stable: the handles point at their ctx
  std::unique_ptr<LinkMonitor> monitor_;
  int all_links_fd_ = -1;
  std::vector<LinkFrame> unknown_;
  MonoTime last_flush_ = MonoClock::now();
  bool finished_ = false;
};

// Identity of the namespace of 'fd' (-1: the caller's), to group points.
StatusOr<std::pair<dev_t, ino_t>> netns_id(int fd) {
  struct stat st{};
  int rc = fd >= 0 ? ::fstat(fd, &st) : ::stat("/proc/thread-self/ns/net", &st);
  if (rc != 0) return invalid_argument(std::string("network namespace: ") + std::strerror(errno));
  return std::make_pair(st.st_dev, st.st_ino);
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
  std::map<std::pair<dev_t, ino_t>, std::vector<const CapturePointSpec*>> by_netns;
  for (const CapturePointSpec& spec : session->specs_) {
    auto id = netns_id(spec.netns_fd);
    if (!id.ok()) return id.status().with_context("capture point '" + spec.name + "'");
    by_netns[*id].push_back(&spec);
  }
  std::vector<std::future<Status>> ready;
  for (auto& [id, specs] : by_netns) {
    std::promise<Status> promise;
    ready.push_back(promise.get_future());
    session->threads_.emplace_back(
        [s = session.get(), specs = specs, p = std::move(promise)]() mutable {
          s->run_namespace(std::move(specs), std::move(p));
        });
  }
  for (auto& r : ready) {
    Status s = r.get();
    if (!s.ok()) return s;  // the session's destructor stops the others
  }
  return session;
}

CaptureSession::~CaptureSession() { stop(); }

void CaptureSession::stop() {
  stopping_ = true;
  // Each namespace's thread flushes and closes its files before it ends.
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

void CaptureSession::run_namespace(std::vector<const CapturePointSpec*> points,
                                   std::promise<Status> ready) {
  // The whole thread lives in the points' namespace: the monitor, the
  // all-links socket and every pcap handle are opened there.
  std::optional<ScopedNetns> netns;
  if (points.front()->netns_fd >= 0) netns.emplace(points.front()->netns_fd);
  NamespaceCapture capture(
      points,
      [this](std::vector<Packet>* batch) {
        if (batch->empty()) return;
        std::lock_guard<std::mutex> lock(mu_);
        packets_.insert(packets_.end(), std::make_move_iterator(batch->begin()),
                        std::make_move_iterator(batch->end()));
        batch->clear();
      },
      [this](const std::string& point) {
        std::lock_guard<std::mutex> lock(mu_);
        if (std::find(opened_.begin(), opened_.end(), point) == opened_.end()) {
          opened_.push_back(point);
        }
      });
  Status s = netns && !netns->ok() ? netns->status() : capture.watch();
  bool watching = s.ok();
  ready.set_value(std::move(s));
  if (!watching) return;
  while (!stopping_) capture.step();
  capture.finish();
}

}  // namespace lmh::capture
