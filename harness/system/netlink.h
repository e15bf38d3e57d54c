// Link operations over rtnetlink (libnl-route-3), one socket per network
// namespace. Deletes are idempotent ("already gone" is success), creates fail
// with kAlreadyExists when the name is taken. Errors carry the operation and
// the link name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct nl_sock;

namespace lmh::harness {

class Netlink {
 public:
  // Opens a NETLINK_ROUTE socket inside namespace 'netns_fd' (-1: current).
  static StatusOr<std::unique_ptr<Netlink>> open(int netns_fd);
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // Creates veth 'name' here and its peer 'peer_name' in namespace 'peer_netns_fd'
  // (-1: here too).
  Status create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd = -1);
  // Creates Linux bridge 'name' (STP off, so ports forward at once).
  Status create_bridge(const std::string& name);
  // Creates 802.1Q device 'name' on 'parent' with VLAN id 'vid'.
  Status create_vlan(const std::string& name, const std::string& parent, int vid);
  // Creates a bridge with VLAN filtering on (used by the capability probe).
  Status create_vlan_filtering_bridge(const std::string& name);
  Status delete_link(const std::string& name);
  Status set_up(const std::string& name, bool up = true);
  Status set_mac(const std::string& name, const std::string& mac);
  // Adds 'cidr' (e.g. "198.18.0.10/24") to 'name'.
  Status add_address(const std::string& name, const std::string& cidr);
  Status set_master(const std::string& name, const std::string& master);
  Status release(const std::string& name);
  // The master's name, "" when none.
  StatusOr<std::string> master_of(const std::string& name);
  bool exists(const std::string& name);
  StatusOr<int> ifindex(const std::string& name);
  // Link names starting with 'prefix'.
  StatusOr<std::vector<std::string>> list(const std::string& prefix = "");
  // Moves 'name' into namespace 'netns_fd'.
  Status move_to_netns(const std::string& name, int netns_fd);

 private:
  explicit Netlink(nl_sock* sk) : sk_(sk) {}
  nl_sock* sk_;
};

// Validates a Linux interface name (1..15 chars, no '/', ':' or spaces).
bool is_valid_ifname(const std::string& name);

}  // namespace lmh::harness
