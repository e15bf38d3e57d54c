// core::OvsDatabase over a host's real Open vSwitch: OVSDB reads and writes
// go through Open vSwitch's own IDL (harness/ovs/ovsdb_c.c, the vswitch IDL as
// ovs-vsctl uses it), flows through a persistent OpenFlow connection per
// bridge (harness/ovs/openflow.h, what ovs-ofctl add-flow and del-flows do,
// without a process per change). Every call is bounded by a timeout; writes
// wait, by default, until ovs-vswitchd applied them (as ovs-vsctl without
// --no-wait), so a port is in the datapath when add_port returns, and a
// flow is in the switch's tables when the call that adds it returns.
//
// Besides the core interface it has what building a lab host needs: bridge
// settings, internal and patch ports, Open_vSwitch other_config, and the
// OVS agent's base flows (br-int, physical bridges, br-tun).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/ovs_database.h"
#include "harness/ovs/openflow.h"

struct lmh_ovsdb;

namespace lmh::harness {

// How a physical network reaches br-int (neutron's bridge_mappings plus the
// patch ports the OVS agent creates between the two bridges).
struct PhysnetBridge {
  std::string bridge;           // physical bridge, e.g. "br-ex"
  std::string int_patch_port;   // on br-int, e.g. "int-br-ex"
  std::string phys_patch_port;  // on the physical bridge, e.g. "phy-br-ex"
};

// neutron's names for the patch ports of physical bridge 'bridge'.
PhysnetBridge neutron_physnet_bridge(const std::string& bridge);

// The tunnel bridge and its patch pair to br-int, with neutron's default
// names ([ovs] tunnel_bridge, int_peer_patch_port, tun_peer_patch_port).
struct TunnelBridge {
  std::string bridge = "br-tun";
  std::string int_patch_port = "patch-tun";  // on br-int, peer of tun_patch_port
  std::string tun_patch_port = "patch-int";  // on br-tun, peer of int_patch_port
};

// One Interface as list_interfaces reports it.
struct OvsInterface {
  std::string name;
  std::string type;  // "" (system), "internal", "patch", ...
  int ofport = -1;   // -1: not attached (or failed)
};

class OvsdbIdlDatabase final : public core::OvsDatabase {
 public:
  struct Options {
    std::string db_socket;  // ovsdb-server's unix socket
    std::string run_dir;    // ovs-vswitchd's OVS_RUNDIR: <bridge>.mgmt sockets
    std::string integration_bridge = "br-int";
    std::map<std::string, PhysnetBridge> physnets;  // physnet -> its bridge
    // The host's tunnel bridge; none: the tunnel calls (and vxlan
    // provisioning) fail with kFailedPrecondition.
    std::optional<TunnelBridge> tunnel{};
    std::chrono::milliseconds timeout = std::chrono::seconds(10);
    bool wait_for_vswitchd = true;  // false while ovs-vswitchd is not started
  };
  explicit OvsdbIdlDatabase(Options options);
  ~OvsdbIdlDatabase() override;
  OvsdbIdlDatabase(const OvsdbIdlDatabase&) = delete;
  OvsdbIdlDatabase& operator=(const OvsdbIdlDatabase&) = delete;

  // core::OvsDatabase (semantics in core/ovs_database.h; list_ports leaves
  // out the bridge's own internal port, as ovs-vsctl list-ports). Errors:
  // kUnavailable (ovsdb-server unreachable), kDeadlineExceeded (no reply, or
  // ovs-vswitchd did not apply the change, within the timeout). The tunnel
  // calls check their arguments before anything is sent (kInvalidArgument:
  // a local VLAN outside 1..4094, a VNI outside 1..2^24-1, a malformed MAC
  // or IPv4 address, an empty or over-long port name, vxlan with a
  // physnet), then need br-tun (kFailedPrecondition without it). Ports that
  // flows send to must be br-tun's (kNotFound otherwise); add_tunnel_port
  // refuses a name another bridge has, delete_tunnel_port anything but a
  // vxlan port of br-tun (kFailedPrecondition).
  Status ensure_bridge(const std::string& name, const std::string& datapath_type) override;
  bool bridge_exists(const std::string& name) override;
  Status add_port(const std::string& bridge, const std::string& port,
                  const std::map<std::string, std::string>& external_ids,
                  std::optional<int> tag) override;
  Status delete_port(const std::string& port) override;
  StatusOr<std::string> port_bridge(const std::string& port) override;
  StatusOr<std::vector<core::OvsPort>> list_ports(const std::string& bridge) override;
  Status set_tag(const std::string& port, int tag) override;
  Status provision_local_vlan(int local_vlan, const std::string& physnet,
                              const std::string& network_type, int segmentation_id) override;
  Status reclaim_local_vlan(int local_vlan, const std::string& physnet,
                            const std::string& network_type, int segmentation_id) override;
  Status add_tunnel_port(const core::OvsTunnelPort& port) override;
  Status delete_tunnel_port(const std::string& name) override;
  Status set_flood_to_tunnels(int local_vlan, int vni, const std::vector<std::string>& ports) override;
  Status install_unicast_to_tunnel(int local_vlan, int vni, const std::string& port,
                                   const std::string& mac) override;
  Status delete_unicast_to_tunnel(int local_vlan, const std::string& mac) override;
  Status install_arp_responder(int local_vlan, const std::string& ip, const std::string& mac) override;
  Status delete_arp_responder(int local_vlan, const std::string& ip) override;

  // Sets Open_vSwitch other_config 'key' (e.g. "flow-limit") to 'value'.
  Status set_other_config(const std::string& key, const std::string& value);
  // Sets Open_vSwitch external_ids 'key' (what ovn-controller reads:
  // system-id, ovn-remote, ovn-encap-type, ovn-encap-ip, ...).
  Status set_external_id(const std::string& key, const std::string& value);
  // Increments next_cfg and waits until ovs-vswitchd applied it: proof that
  // ovs-vswitchd is alive and working (even with wait_for_vswitchd off).
  Status sync_vswitchd();
  // Sets 'bridge''s fail_mode ("secure" | "standalone"; "" clears, nullopt
  // leaves it) and the 'other_config' keys given. kNotFound without it.
  Status configure_bridge(const std::string& bridge, std::optional<std::string> fail_mode,
                          const std::map<std::string, std::string>& other_config = {});
  // Deletes 'bridge' with its ports (and closes its OpenFlow connection);
  // ok when it does not exist.
  Status delete_bridge(const std::string& bridge);
  // Bridge names in name order.
  StatusOr<std::vector<std::string>> list_bridges();
  // Adds port 'port' of type internal to 'bridge' (--may-exist).
  Status ensure_internal_port(const std::string& bridge, const std::string& port);
  // Adds patch port 'port_a' on 'bridge_a' and 'port_b' on 'bridge_b',
  // peers of each other, in one transaction (--may-exist).
  Status add_patch_pair(const std::string& bridge_a, const std::string& port_a,
                        const std::string& bridge_b, const std::string& port_b);
  // Every Interface with its type and OpenFlow port number.
  StatusOr<std::vector<OvsInterface>> list_interfaces();

  // The flows the OVS agent installs when it starts (setup_integration_br,
  // setup_physical_bridges): NORMAL as the default on br-int and on every
  // physical bridge, and on both ends of each patch pair a drop of what no
  // provision_local_vlan translated.
  Status install_base_flows();
  // br-tun's tables as the OVS agent's setup_tunnel_br leaves them
  // (br_tun.py setup_default_table, with arp_responder on): patch traffic
  // to tables 2 -> 20 (unicast), 21 (ARP broadcast), 22 (flood); tunnel
  // traffic (table 0 flows per port) to 4 -> 10 (learn into 20, out to
  // br-int); every table's default drops or falls through to flooding.
  // kFailedPrecondition without a tunnel bridge.
  Status install_tunnel_base_flows();
  // ovs-ofctl dump-flows of 'bridge' (without statistics), one flow a line.
  StatusOr<std::vector<std::string>> dump_flows(const std::string& bridge);

  // Per-call timeout and whether writes wait for ovs-vswitchd.
  void set_timeout(std::chrono::milliseconds timeout);
  void set_wait_for_vswitchd(bool wait);
  const Options& options() const { return options_; }

 private:
  // Flow changes on 'bridge' over its OpenFlow connection (made on first
  // use); errors name the bridge.
  Status add_flow(const std::string& bridge, const std::string& flow);
  Status delete_flows(const std::string& bridge, const std::string& match, bool strict = false);
  // 'bridge''s connection, made on first use; flows_mu_ held.
  OpenFlowConnection& openflow(const std::string& bridge);
  std::chrono::milliseconds timeout();
  StatusOr<const PhysnetBridge*> physnet_bridge(const std::string& physnet) const;
  StatusOr<const TunnelBridge*> tunnel_bridge() const;
  Status require_tunnel_ports(const std::vector<std::string>& ports);
  Status provision_tunnel(int local_vlan, const std::string& physnet, int vni);
  Status reclaim_tunnel(int local_vlan, const std::string& physnet, int vni);
  Status tun_add_flow(const std::string& flow);
  Status tun_delete_flows(const std::string& match, bool strict = false);
  std::string mgmt_target(const std::string& bridge) const;

  Options options_;
  // The IDL handle is single-threaded: one call at a time.
  std::mutex mu_;
  std::unique_ptr<lmh_ovsdb, void (*)(lmh_ovsdb*)> db_;
  // One OpenFlow connection per bridge, each used by one call at a time.
  std::mutex flows_mu_;
  std::map<std::string, std::unique_ptr<OpenFlowConnection>> openflow_;
};

}  // namespace lmh::harness
