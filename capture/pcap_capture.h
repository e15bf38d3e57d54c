// libpcap capture at named points. Each point is an interface inside a
// network namespace; the interface may not exist yet (a destination tap or a
// VLAN uplink appears mid-scenario), so each point's thread waits for it,
// then captures in immediate mode with nanosecond stamps, writes a .pcap and
// keeps decoded frames. An interface that disappears ends its point quietly.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/packet.h"
#include "common/status.h"

namespace lmh::capture {

struct CapturePointSpec {
  std::string name;       // "peer", "src.tap", "dst.uplink", "dst.fabric_port" ...
  int netns_fd = -1;      // namespace the interface lives in (borrowed; must outlive stop())
  std::string ifname;
  std::string pcap_path;  // written when non-empty
};

class CaptureSession {
 public:
  // Starts one thread per point. Fails only for bad arguments; a point whose
  // interface never appears simply captures nothing.
  static StatusOr<std::unique_ptr<CaptureSession>> start(std::vector<CapturePointSpec> points);
  ~CaptureSession();  // stops
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;

  // Stops all points, flushes and closes the pcap files.
  void stop();
  // All packets seen so far, ordered by time.
  std::vector<Packet> packets() const;
  // Names of points whose interface was opened at least once.
  std::vector<std::string> opened_points() const;

 private:
  CaptureSession() = default;
  void run_point(const CapturePointSpec& spec);

  std::vector<CapturePointSpec> specs_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<Packet> packets_;
  std::vector<std::string> opened_;
  std::vector<std::thread> threads_;
};

}  // namespace lmh::capture
