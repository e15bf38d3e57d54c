// A lab host's Open vSwitch, as a compute node running neutron's OVS agent
// has it: its own ovsdb-server and ovs-vswitchd in the host's namespace,
// the integration bridge br-int, one physical bridge per bridge mapping
// (br-ex) holding the host's NIC (a trunk to the fabric), the patch pair
// int-br-ex / phy-br-ex between them, and the agent's base flows (NORMAL,
// drop of untranslated traffic on the patch ports). With a tunnel endpoint
// also the tunnel bridge br-tun, its patch pair patch-tun / patch-int and
// neutron's br-tun tables, and the underlay: the endpoint's address on the
// internal port of the physical bridge, in the underlay's VLAN of the
// fabric. Every bridge is in fail_mode secure, as the agent sets them: what
// they forward is what the flows say. The OVS agent and os-vif drive it
// through database().
//
// For ML2/OVN (Options::controller kOvn) it is what a compute has before
// ovn-controller starts: br-ex on the NIC, a plain learning switch (no
// patch ports, no flows of ours), the tunnel endpoint on br-ex's internal
// port as above, and an empty br-int. ovn-controller owns br-int from then
// on: its flows, its patch ports to the bridges of ovn-bridge-mappings and
// its Geneve ports; there is no br-tun.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "harness/ovs/ovs_daemons.h"
#include "harness/ovs/ovsdb_idl.h"

namespace lmh::harness {

class OvsHost {
 public:
  // Who programs br-int: neutron's OVS agent (the base flows and patch
  // ports are built here for it), or ovn-controller (nothing is).
  enum class Controller { kOvsAgent, kOvn };
  struct Options {
    Controller controller = Controller::kOvsAgent;
    std::string state_dir;  // e.g. /run/lmh/<run>/ovs-<host>; created if missing
    int netns_fd = -1;      // the host's namespace
    // "netdev" (userspace) works everywhere; "system" needs the openvswitch
    // kernel module.
    std::string datapath_type = "netdev";
    std::string integration_bridge = "br-int";
    std::map<std::string, std::string> bridge_mappings;  // physnet -> bridge ("provider" -> "br-ex")
    std::map<std::string, std::string> nic_for_bridge;   // bridge -> NIC in the namespace ("br-ex" -> "eth1")
    // Where VXLAN leaves and enters this host (the agent's [ovs] local_ip
    // with tunnel_types = vxlan; OVN's ovn-encap-ip, for Geneve). The userspace datapath tunnels natively:
    // ovs-vswitchd routes the outer packet itself (its routes come from the
    // namespace's kernel table) out of the bridge whose internal port holds
    // local_ip, and resolves the next hop by ARP itself (tnl/neigh): the
    // first packet to an endpoint whose MAC it has not learned is dropped
    // while it asks, unlike the kernel, which queues it.
    struct TunnelEndpoint {
      std::string local_ip;               // "198.19.0.11"
      std::string prefix_length = "/24";  // of the underlay subnet
      int vlan = 4000;                    // the underlay's fabric VLAN, 1..4094 (0: untagged)
      std::string bridge = "br-ex";       // a physical bridge (its NIC reaches the fabric)
    };
    std::optional<TunnelEndpoint> tunnel{};
    std::chrono::milliseconds ovsdb_timeout = std::chrono::seconds(10);  // per OVSDB call
  };
  // Starts the daemons and builds the bridges, ports and base flows; returns
  // when ovs-vswitchd applied all of it. On failure nothing is left running.
  static StatusOr<std::unique_ptr<OvsHost>> start(const Options& options);
  ~OvsHost();  // stops ovs-vswitchd, then ovsdb-server
  OvsHost(const OvsHost&) = delete;
  OvsHost& operator=(const OvsHost&) = delete;

  OvsdbIdlDatabase& database() { return *db_; }
  // Are ovsdb-server and ovs-vswitchd alive?
  bool healthy() { return daemons_->healthy(); }
  pid_t vswitchd_pid() const { return daemons_->vswitchd_pid(); }
  // SIGKILL to ovs-vswitchd (a crash fault). Database writes that wait for
  // ovs-vswitchd then fail with kDeadlineExceeded after the timeout.
  void kill_vswitchd() { daemons_->kill_vswitchd(); }
  const OvsDaemons& daemons() const { return *daemons_; }
  const Options& options() const { return options_; }
  // Puts 'ip' -> 'mac' in ovs-vswitchd's tunnel neighbour cache on the
  // tunnel endpoint's bridge (`ovs-appctl tnl/neigh/set`), as a running
  // cloud's underlay has it: the userspace datapath drops a packet to an
  // endpoint it has not resolved yet, where the kernel would queue it.
  Status set_tunnel_neighbour(const std::string& ip, const std::string& mac);
  // From start() to bridges ready: daemons up, bridges, ports and flows applied.
  std::chrono::milliseconds bringup_time() const { return bringup_time_; }

 private:
  explicit OvsHost(Options options) : options_(std::move(options)) {}
  static Status validate(const Options& options);
  Status build_bridges();
  Status build_ovn_bridges();
  Status build_tunnel_bridge();
  Status build_underlay();
  Status wait_for_underlay_route();

  Options options_;
  // Declaration order: the IDL connection closes before the daemons stop.
  std::unique_ptr<OvsDaemons> daemons_;
  std::unique_ptr<OvsdbIdlDatabase> db_;
  std::chrono::milliseconds bringup_time_{0};
};

}  // namespace lmh::harness
