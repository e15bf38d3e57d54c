// What one L2 backend needs from the lab on a host, as core's L2 backends
// (core/l2_backend.h) run its agent: build what the agent drives, name the
// uplink and the fabric port a network's frames cross, and hand core what
// the agent needs (mappings, OVSDB, link operations). A new backend is a
// class in lab_backend.cpp and its row in lab_backend(); the lab and the
// runner never ask which backend a host runs.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "core/backend.h"
#include "core/host_config.h"
#include "harness/lab/topology.h"
#include "harness/system/capabilities.h"

namespace lmh::harness {

class Lab;
struct LabHost;

class LabBackend {
 public:
  virtual ~LabBackend() = default;
  // Builds the backend's part of 'host' once its namespace exists and its
  // NIC is a fabric trunk (Open vSwitch: the host's own daemons, br-int,
  // br-ex on the NIC).
  virtual Status build(Lab& lab, LabHost& host) const = 0;
  // The host's uplink for 'net': where its frames leave the host (capture
  // listens there).
  virtual std::string uplink_name(const TopologyHost& host, const TopologyNetwork& net) const = 0;
  // The fabric port 'net''s frames from 'host' cross.
  virtual std::string fabric_port(const Capabilities& caps, const TopologyHost& host,
                                  const TopologyNetwork& net) const = 0;
  // Plugs the host side 'tap' of 'peer', a port on 'host', where this
  // backend's agent looks for it (as os-vif would a VM's tap).
  virtual Status plug_peer(LabHost& host, const TopologyPeer& peer, const std::string& tap) const = 0;
  // Tells 'host''s datapath where the tunnel endpoints of 'endpoints'
  // (local_ip -> MAC, its own included) are, where it cannot wait for ARP.
  virtual Status learn_tunnel_neighbours(LabHost& host, const std::map<std::string, std::string>& endpoints) const = 0;
  // Fills what core's compute and agent on 'host' need from this backend.
  virtual void configure(core::HostConfig& config, LabHost& host, const Topology& topology) const = 0;
};

// The lab side of 'backend'.
const LabBackend& lab_backend(core::Backend backend);

}  // namespace lmh::harness
