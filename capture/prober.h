// ICMP echo prober: sends echo requests from inside a network namespace at a
// fixed interval and records, per sequence number, when it was sent and when
// its reply arrived. Two threads: a sender paced on absolute deadlines
// (clock_nanosleep TIMER_ABSTIME, so a late wake-up does not shift the grid)
// and a receiver. Replies carry the kernel's arrival stamp, so a receiver
// scheduled late does not move them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace lmh::capture {

struct ProbeConfig {
  int netns_fd = -1;          // namespace to send from (-1: the caller's)
  std::string target_ip;      // the guest
  Micros interval{5000};      // 1 ms .. 1 s
  Millis reply_timeout{1000}; // a reply later than this counts as loss
  uint16_t icmp_id = 0;       // 0: derived from the pid
};

struct ProbeRecord {
  uint32_t seq = 0;  // monotonically increasing (wire seq is seq & 0xffff)
  MonoTime sent;
  std::optional<MonoTime> replied;
};

class Prober {
 public:
  // Opens a raw ICMP socket in 'config.netns_fd' and starts both threads.
  static StatusOr<std::unique_ptr<Prober>> start(const ProbeConfig& config);
  ~Prober();  // stops
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Stops sending, waits 'config.reply_timeout' for late replies, joins.
  void stop();
  // Snapshot of all records so far, in sequence order.
  std::vector<ProbeRecord> records() const;
  const ProbeConfig& config() const { return config_; }

 private:
  explicit Prober(ProbeConfig config);
  void send_loop();
  void receive_loop();

  ProbeConfig config_;
  int fd_ = -1;
  std::chrono::nanoseconds wall_offset_{0};  // CLOCK_REALTIME - MonoClock, for reply stamps
  std::atomic<bool> sending_{false};
  std::atomic<bool> receiving_{false};
  mutable std::mutex mu_;
  std::vector<ProbeRecord> records_;
  std::thread sender_;
  std::thread receiver_;
};

}  // namespace lmh::capture
