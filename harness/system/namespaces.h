// Named network namespaces, created the way `ip netns add` does (a bind
// mount of the namespace at /run/netns/<name>), so users can inspect a lab
// with `ip netns exec`. RAII: the namespace (and every link in it) goes when
// the object does; deleting one that is already gone is success.
#pragma once

#include <string>
#include <vector>

#include "common/netns.h"
#include "common/status.h"

namespace lmh::harness {

class NamedNetns {
 public:
  // Creates /run/netns/'name' with a fresh namespace whose loopback is up.
  static StatusOr<NamedNetns> create(const std::string& name);
  NamedNetns() = default;
  NamedNetns(NamedNetns&& o) noexcept;
  NamedNetns& operator=(NamedNetns&& o) noexcept;
  ~NamedNetns();

  const std::string& name() const { return name_; }
  int fd() const { return fd_.get(); }
  // Deletes the namespace now (idempotent).
  void destroy();

 private:
  std::string name_;
  NetnsFd fd_;
};

// Removes /run/netns/'name' (unmount + unlink); success when already gone.
Status delete_named_netns(const std::string& name);
// Names in /run/netns starting with 'prefix'.
std::vector<std::string> list_named_netns(const std::string& prefix);

}  // namespace lmh::harness
