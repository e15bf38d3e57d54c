// Link, forwarding-database and neighbour operations over rtnetlink
// (libnl-route-3), one socket per network namespace. Deletes are idempotent
// ("already gone" is success), creates fail with kAlreadyExists when the name
// is taken. Errors carry the operation and the link name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

struct nl_sock;

namespace lmh::harness {

// A VXLAN device as `ip link add <name> type vxlan id <vni> [dev <underlay>]
// [local <local_ip>] [group <group>] dstport <dstport> [proxy]` creates it;
// everything else (learning on, ageing 300 s, ttl auto) is the kernel's
// default.
struct VxlanConfig {
  std::string name;
  uint32_t vni = 0;         // 0..16777215
  std::string local_ip{};   // "": none
  std::string group{};      // "": none (destinations come from the FDB only)
  std::string underlay{};   // "": none
  uint16_t dstport = 8472;  // host byte order (libnl converts)
  bool proxy = false;       // the kernel answers ARP from the neighbour table
  // The outer UDP checksum (`[no]udpcsum`); nullopt: the kernel's default
  // (on for IPv4).
  std::optional<bool> udp_csum{};
};

// A VXLAN device's own ("self") forwarding entry with a remote endpoint:
// frames to 'mac' go to 'dst_ip'. Several entries may share a mac (the
// all-zero flooding mac, one per remote).
struct VxlanFdbRecord {
  std::string mac;
  std::string dst_ip;
  bool permanent = false;  // added by a user; false: learned by the kernel
  bool operator==(const VxlanFdbRecord&) const = default;
};

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
  // The link's MAC address, "aa:bb:cc:dd:ee:ff".
  StatusOr<std::string> mac_of(const std::string& name);
  // Link names starting with 'prefix'.
  StatusOr<std::vector<std::string>> list(const std::string& prefix = "");
  // Moves 'name' into namespace 'netns_fd'.
  Status move_to_netns(const std::string& name, int netns_fd);

  // Creates VXLAN device 'config.name' (down).
  Status create_vxlan(const VxlanConfig& config);
  // `bridge fdb append <mac> dev <device> dst <dst_ip> self permanent`: adds
  // destination 'dst_ip' of 'mac', keeping the others. The kernel keeps
  // several destinations only for the all-zero and multicast macs; for a
  // unicast mac that has one already it changes nothing (and says ok).
  Status fdb_append(const std::string& device, const std::string& mac, const std::string& dst_ip);
  // Makes 'dst_ip' the only destination of 'mac' on 'device' (permanent),
  // and the mac is never without one meanwhile: a unicast mac's is replaced
  // (`bridge fdb replace`); the kernel replaces no all-zero or multicast
  // mac's, so 'dst_ip' is appended and the others deleted after.
  Status fdb_replace(const std::string& device, const std::string& mac, const std::string& dst_ip);
  // `bridge fdb del <mac> dev <device> dst <dst_ip> self`: deletes that
  // destination of 'mac' only; already gone (destination, mac or device) is
  // success.
  Status fdb_delete(const std::string& device, const std::string& mac, const std::string& dst_ip);
  // The forwarding entries of 'device' that have a destination, permanent and
  // learned, ordered by mac then destination (the device's own entries
  // without one, e.g. its MAC on a bridge, are left out).
  StatusOr<std::vector<VxlanFdbRecord>> fdb_entries(const std::string& device);
  // `ip neigh replace <ip> lladdr <mac> dev <device> nud permanent`.
  Status neigh_replace(const std::string& device, const std::string& ip, const std::string& mac);
  // `ip neigh del <ip> dev <device>`; already gone (entry or device) is
  // success.
  Status neigh_delete(const std::string& device, const std::string& ip);
  // The IPv4 neighbours of 'device' that have a MAC, ip -> mac.
  StatusOr<std::map<std::string, std::string>> neighbours(const std::string& device);

 private:
  explicit Netlink(nl_sock* sk) : sk_(sk) {}
  nl_sock* sk_;
};

// Validates a Linux interface name (1..15 chars, no '/', ':' or spaces).
bool is_valid_ifname(const std::string& name);

}  // namespace lmh::harness
