#include "capture/prober.h"

#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "capture/packet.h"
#include "common/netns.h"

namespace lmh::capture {
namespace {

constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEchoRequest = 8;
constexpr size_t kIcmpHeader = 8;
constexpr size_t kPayload = 56;  // ping's default, so the frames look familiar
constexpr int kPollMs = 20;      // how quickly the receiver notices stop()
constexpr auto kSleepSlice = std::chrono::milliseconds(20);  // sender's stop latency
// Enough for ~1 s of replies at 1 ms even if the receiver stalls: each
// queued skb is charged its truesize (~1 KiB), not its 84 bytes.
constexpr int kReceiveBuffer = 2 << 20;

// Returns the one's-complement Internet checksum of 'len' bytes at 'data'.
uint16_t inet_checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t{data[i]} << 8 | data[i + 1];
  if (len % 2 != 0) sum += uint32_t{data[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Returns 't' as an absolute CLOCK_MONOTONIC timespec.
timespec to_timespec(MonoTime t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// Sleeps until 'deadline' on CLOCK_MONOTONIC (steady_clock's clock) in
// slices, returning early with false when 'running' turns false.
bool sleep_until(MonoTime deadline, const std::atomic<bool>& running) {
  while (running.load(std::memory_order_relaxed)) {
    MonoTime now = MonoClock::now();
    if (now >= deadline) return true;
    // Absolute wake-ups keep the grid: a late wake-up does not shift later slots.
    timespec ts = to_timespec(std::min(deadline, now + kSleepSlice));
    (void)::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);  // EINTR: loop
  }
  return false;
}

// Returns when the kernel received the datagram of 'msg' (its
// SCM_TIMESTAMPNS stamp moved onto MonoClock), or now when it has none.
MonoTime arrival_time(msghdr& msg, std::chrono::nanoseconds wall_offset) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts;
    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
    std::chrono::nanoseconds wall = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    return MonoTime(std::chrono::duration_cast<MonoClock::duration>(wall - wall_offset));
  }
  return MonoClock::now();
}

}  // namespace

Prober::Prober(ProbeConfig config) : config_(std::move(config)) {}

StatusOr<std::unique_ptr<Prober>> Prober::start(const ProbeConfig& config) {
  if (config.interval < Millis(1) || config.interval > Millis(1000)) {
    return invalid_argument("probe interval must be 1 ms .. 1 s, got " +
                            std::to_string(config.interval.count()) + " us");
  }
  if (config.reply_timeout <= Millis(0)) return invalid_argument("probe reply_timeout must be > 0");
  if (!parse_ipv4(config.target_ip)) {
    return invalid_argument("probe target is not an IPv4 address: '" + config.target_ip + "'");
  }

  std::unique_ptr<Prober> prober(new Prober(config));
  if (prober->config_.icmp_id == 0) {
    // Like ping: distinct per process; 0 is avoided because it means "derive".
    uint16_t id = static_cast<uint16_t>(::getpid() & 0xffff);
    prober->config_.icmp_id = id != 0 ? id : 1;
  }

  {
    // The socket stays in the namespace it was created in; the threads then
    // use it from wherever they run.
    std::optional<ScopedNetns> netns;
    if (config.netns_fd >= 0) {
      netns.emplace(config.netns_fd);
      if (!netns->ok()) return netns->status().with_context("prober");
    }
    prober->fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (prober->fd_ < 0) {
      int err = errno;
      std::string msg = std::string("prober: raw ICMP socket: ") + std::strerror(err);
      if (err == EPERM || err == EACCES) return environment_error(msg + " (needs CAP_NET_RAW)");
      return internal_error(msg);
    }
  }

  // Root may exceed net.core.rmem_max with the FORCE variant; others get
  // what rmem_max allows.
  int rcvbuf = kReceiveBuffer;
  if (::setsockopt(prober->fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    (void)::setsockopt(prober->fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  // Let the kernel drop every ICMP type but echo replies (destination
  // unreachable and other peers' traffic would only cost wake-ups).
  icmp_filter filter{};
  filter.data = ~(1u << ICMP_ECHOREPLY);
  (void)::setsockopt(prober->fd_, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
  // Replies are stamped by the kernel on arrival: a receiver thread that
  // is scheduled late must not stretch the measured gap.
  int one = 1;
  if (::setsockopt(prober->fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) {
    return internal_error(std::string("prober: SO_TIMESTAMPNS: ") + std::strerror(errno));
  }
  prober->wall_offset_ = wall_minus_mono();

  prober->sending_ = true;
  prober->receiving_ = true;
  prober->receiver_ = std::thread([p = prober.get()] { p->receive_loop(); });
  prober->sender_ = std::thread([p = prober.get()] { p->send_loop(); });
  return prober;
}

Prober::~Prober() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void Prober::stop() {
  sending_ = false;
  if (sender_.joinable()) sender_.join();

  if (receiving_) {
    // Late replies can only belong to probes sent less than reply_timeout
    // ago; stop waiting as soon as those are all answered.
    for (;;) {
      MonoTime now = MonoClock::now();
      bool outstanding = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
          if (now - it->sent > config_.reply_timeout) break;
          if (!it->replied) {
            outstanding = true;
            break;
          }
        }
      }
      if (!outstanding) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    receiving_ = false;
  }
  if (receiver_.joinable()) receiver_.join();
}

std::vector<ProbeRecord> Prober::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

// Sends one echo request per 'config_.interval' slot until sending_ drops,
// recording each before it goes out.
void Prober::send_loop() {
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = htonl(*parse_ipv4(config_.target_ip));

  std::array<uint8_t, kIcmpHeader + kPayload> packet{};
  // A fixed pattern after the sequence number, so captures are easy to spot.
  for (size_t i = kIcmpHeader + 4; i < packet.size(); ++i) packet[i] = static_cast<uint8_t>(i);
  packet[0] = kIcmpEchoRequest;
  packet[4] = static_cast<uint8_t>(config_.icmp_id >> 8);
  packet[5] = static_cast<uint8_t>(config_.icmp_id);

  const auto interval = config_.interval;
  const MonoTime start = MonoClock::now();
  int64_t slot = 0;
  uint32_t seq = 1;
  while (sleep_until(start + slot * interval, sending_)) {
    // More than one interval late (a stall): resume at the current slot
    // instead of sending the missed ones back to back.
    MonoTime now = MonoClock::now();
    if (now - (start + slot * interval) > interval) slot = (now - start) / interval;

    packet[2] = packet[3] = 0;
    packet[6] = static_cast<uint8_t>(seq >> 8);
    packet[7] = static_cast<uint8_t>(seq);
    packet[8] = static_cast<uint8_t>(seq >> 24);
    packet[9] = static_cast<uint8_t>(seq >> 16);
    packet[10] = static_cast<uint8_t>(seq >> 8);
    packet[11] = static_cast<uint8_t>(seq);
    uint16_t sum = inet_checksum(packet.data(), packet.size());
    packet[2] = static_cast<uint8_t>(sum >> 8);
    packet[3] = static_cast<uint8_t>(sum);

    // Recorded before sendto: on a veth the reply can be processed before
    // sendto even returns.
    {
      std::lock_guard<std::mutex> lock(mu_);
      records_.push_back(ProbeRecord{seq, MonoClock::now(), std::nullopt});
    }
    // Failures (EHOSTUNREACH after a failed neighbour, ENOBUFS ...) are
    // exactly what is being measured: the probe stays unanswered.
    (void)::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&dst),
                   sizeof dst);
    ++seq;
    ++slot;
  }
}

// Matches echo replies to records until receiving_ drops; a reply counts
// once, and only within 'config_.reply_timeout' of its request.
void Prober::receive_loop() {
  const uint32_t target = *parse_ipv4(config_.target_ip);
  std::array<uint8_t, 2048> buf;
  while (receiving_.load(std::memory_order_relaxed)) {
    pollfd pfd{fd_, POLLIN, 0};
    int rc = ::poll(&pfd, 1, kPollMs);
    if (rc <= 0) continue;
    // Drain everything queued; each datagram is one IPv4 packet.
    for (;;) {
      iovec iov{buf.data(), buf.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (n < 0) break;  // EAGAIN, or a pending socket error already consumed
      MonoTime now = arrival_time(msg, wall_offset_);
      size_t len = static_cast<size_t>(n);
      if (len < 20 || (buf[0] >> 4) != 4) continue;
      size_t ihl = size_t{buf[0] & 0x0fu} * 4;
      if (ihl < 20 || len < ihl + kIcmpHeader + 4) continue;
      uint32_t src = uint32_t{buf[12]} << 24 | uint32_t{buf[13]} << 16 | uint32_t{buf[14]} << 8 |
                     buf[15];
      const uint8_t* icmp = buf.data() + ihl;
      uint16_t id = static_cast<uint16_t>(icmp[4] << 8 | icmp[5]);
      uint16_t wire_seq = static_cast<uint16_t>(icmp[6] << 8 | icmp[7]);
      if (src != target || icmp[0] != kIcmpEchoReply || id != config_.icmp_id) continue;
      // The payload carries the full sequence; the wire one wraps at 65536.
      uint32_t seq = uint32_t{icmp[8]} << 24 | uint32_t{icmp[9]} << 16 |
                     uint32_t{icmp[10]} << 8 | icmp[11];
      if ((seq & 0xffff) != wire_seq) continue;

      std::lock_guard<std::mutex> lock(mu_);
      if (records_.empty() || seq < records_.front().seq) continue;
      size_t index = seq - records_.front().seq;
      if (index >= records_.size()) continue;
      ProbeRecord& record = records_[index];
      if (record.replied) continue;  // duplicate (e.g. flooded twice)
      if (now - record.sent > config_.reply_timeout) continue;
      record.replied = now;
    }
  }
}

}  // namespace lmh::capture
