// Entering a network namespace on the calling thread. Sockets (netlink,
// packet, ICMP) keep the namespace they were created in, so a thread enters,
// opens its socket and leaves; /proc/sys/net is read in the entered namespace.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "common/status.h"

namespace lmh {

// Directory where named namespaces live (compatible with `ip netns`).
inline constexpr const char* kNetnsDir = "/run/netns";

// An open file descriptor of a named namespace; closes on destruction.
class NetnsFd {
 public:
  NetnsFd() = default;
  explicit NetnsFd(int fd) : fd_(fd) {}
  NetnsFd(NetnsFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  NetnsFd& operator=(NetnsFd&& o) noexcept {
    if (this != &o) { reset(); fd_ = std::exchange(o.fd_, -1); }
    return *this;
  }
  ~NetnsFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() { if (fd_ >= 0) ::close(fd_); fd_ = -1; }

  // Opens /run/netns/'name'.
  static StatusOr<NetnsFd> open_named(const std::string& name) {
    std::string path = std::string(kNetnsDir) + "/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return not_found("network namespace " + name + ": " + std::strerror(errno));
    return NetnsFd(fd);
  }
  // Opens the calling thread's current network namespace.
  static StatusOr<NetnsFd> open_current() {
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return internal_error(std::string("open own netns: ") + std::strerror(errno));
    return NetnsFd(fd);
  }

 private:
  int fd_ = -1;
};

// Enters 'target' on this thread for the lifetime of the object, then
// returns to the namespace the thread was in. ok() tells whether it entered.
class ScopedNetns {
 public:
  explicit ScopedNetns(int target_fd) {
    auto home = NetnsFd::open_current();
    if (!home.ok()) { status_ = home.status(); return; }
    home_ = std::move(home).value();
    if (::setns(target_fd, CLONE_NEWNET) != 0) {
      status_ = internal_error(std::string("setns: ") + std::strerror(errno));
      home_.reset();
    }
  }
  ~ScopedNetns() {
    if (home_.valid()) (void)::setns(home_.get(), CLONE_NEWNET);
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  NetnsFd home_;
  Status status_;
};

}  // namespace lmh
