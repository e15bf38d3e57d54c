// libpcap capture at named points. Each point is an interface inside a
// network namespace; the interface may not exist yet (a destination tap or a
// VLAN uplink appears mid-scenario). One thread per namespace watches its
// links (capture/link_monitor.h) and opens libpcap (immediate mode,
// nanosecond stamps) on a point's interface when the kernel announces it up;
// it writes a .pcap per point and keeps decoded frames. libpcap cannot open
// a link that is down, and opening takes a moment after the link comes up,
// so a packet socket on all of the namespace's links, open from start(),
// supplies a point's frames from the moment its link exists until its pcap
// handle delivers. An interface that disappears ends its capture quietly
// until it comes back.
#pragma once

#include <atomic>
#include <future>
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
  // Starts one thread per namespace and returns once each watches its links:
  // every frame on a point's interface from then on is captured, however
  // soon after the interface's creation it passes. Fails for bad arguments
  // and when a namespace cannot be watched; a point whose interface never
  // appears simply captures nothing.
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
  // Captures 'points' (all in one namespace) until stopping_; sets 'ready'
  // once their links are watched, or to why they cannot be.
  void run_namespace(std::vector<const CapturePointSpec*> points, std::promise<Status> ready);

  std::vector<CapturePointSpec> specs_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<Packet> packets_;
  std::vector<std::string> opened_;
  std::vector<std::thread> threads_;
};

}  // namespace lmh::capture
