// What this kernel and machine offer, probed for real in a scratch
// namespace (a module that is not loaded, or a feature compiled out, shows
// up only by trying), and the fallback lmh uses for each missing piece.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::harness {

struct Capability {
  std::string name;       // "8021q"
  bool available = false;
  std::string detail;     // what the probe saw
  std::string fallback;   // what lmh does without it ("" when available or not needed)
};

struct Capabilities {
  bool root = false;
  bool vlan_8021q = false;
  bool bridge_vlan_filtering = false;
  bool netem = false;
  bool vxlan = false;
  bool ovs_kernel = false;
  bool ovs_userspace = false;
  bool ovn = false;  // ovn-northd and ovn-controller installed
  // ovn-controller's version ("23.03.1"; "" when not installed or unknown).
  // Multi-chassis bindings and activation-strategy need 22.09 or later.
  std::string ovn_version;
  bool kvm_device = false;
  bool libpcap = false;
  std::vector<Capability> list;

  // Missing pieces the emulated tier cannot do without (empty when fine).
  std::vector<std::string> blocking_for_emulated_tier() const;
};

// Probes in a scratch namespace named 'scratch_ns' (deleted afterwards).
Capabilities probe_capabilities(const std::string& scratch_ns);

}  // namespace lmh::harness
