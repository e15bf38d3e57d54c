// What core may do to a host's network: the side-effect family used by os-vif
// style plugging and the L2 agents. The lab implements it over netlink inside
// the host's namespace; unit tests use a fake that keeps links in a map.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::core {

class HostNetwork {
 public:
  virtual ~HostNetwork() = default;

  // Names of the host's links that start with 'prefix' (e.g. "tap").
  virtual StatusOr<std::vector<std::string>> list_links(const std::string& prefix) = 0;
  virtual bool link_exists(const std::string& name) = 0;
  // Creates Linux bridge 'name' unless it exists, and sets it up.
  virtual Status ensure_bridge(const std::string& name) = 0;
  // Creates the VLAN subinterface "<'physical'>.<'vlan'>" unless it exists,
  // and sets it up. Where the kernel has no 8021q the lab substitutes a veth
  // of the same name to a fabric access port of that VLAN.
  virtual Status ensure_vlan_interface(const std::string& physical, int vlan) = 0;
  // Enslaves 'device' to bridge 'bridge' (idempotent).
  virtual Status set_master(const std::string& device, const std::string& bridge) = 0;
  // The bridge 'device' is enslaved to, or "" when none.
  virtual StatusOr<std::string> master_of(const std::string& device) = 0;
  virtual Status set_up(const std::string& device) = 0;
};

}  // namespace lmh::core
