#include "harness/ovs/ovs_host.h"

namespace lmh::harness {

StatusOr<std::unique_ptr<OvsHost>> OvsHost::start(const Options& o) {
  auto started = std::chrono::steady_clock::now();
  for (const auto& [physnet, bridge] : o.bridge_mappings) {
    if (bridge == o.integration_bridge)
      return invalid_argument("physical network " + physnet + " is mapped to the integration bridge " + bridge);
  }
  for (const auto& [bridge, nic] : o.nic_for_bridge) {
    bool mapped = false;
    for (const auto& [physnet, b] : o.bridge_mappings) mapped = mapped || b == bridge;
    if (!mapped) return invalid_argument("NIC " + nic + " is for " + bridge + ", which no physical network maps to");
  }
  std::unique_ptr<OvsHost> host(new OvsHost(o));
  OvsDaemons::Options daemons;
  daemons.state_dir = o.state_dir;
  daemons.netns_fd = o.netns_fd;
  daemons.userspace_only = o.datapath_type == "netdev";
  daemons.timeout = o.ovsdb_timeout;
  auto d = OvsDaemons::start(daemons);
  if (!d.ok()) return d.status();
  host->daemons_ = std::move(d).value();

  OvsdbIdlDatabase::Options idl;
  idl.db_socket = host->daemons_->db_socket();
  idl.run_dir = host->daemons_->run_dir();
  idl.integration_bridge = o.integration_bridge;
  for (const auto& [physnet, bridge] : o.bridge_mappings) idl.physnets[physnet] = neutron_physnet_bridge(bridge);
  idl.timeout = o.ovsdb_timeout;
  host->db_ = std::make_unique<OvsdbIdlDatabase>(idl);
  LMH_RETURN_IF_ERROR(host->build_bridges().with_context("OVS bridges in " + o.state_dir));
  host->bringup_time_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return host;
}

OvsHost::~OvsHost() = default;

// What the OVS agent does at start (setup_integration_br,
// setup_physical_bridges), with the NIC on the physical bridge as an
// operator puts it there.
Status OvsHost::build_bridges() {
  OvsdbIdlDatabase& db = *db_;
  const std::string& br_int = options_.integration_bridge;
  LMH_RETURN_IF_ERROR(db.ensure_bridge(br_int, options_.datapath_type));
  LMH_RETURN_IF_ERROR(db.configure_bridge(br_int, "secure"));
  for (const auto& [physnet, phys] : db.options().physnets) {
    LMH_RETURN_IF_ERROR(db.ensure_bridge(phys.bridge, options_.datapath_type));
    LMH_RETURN_IF_ERROR(db.configure_bridge(phys.bridge, "secure"));
    auto nic = options_.nic_for_bridge.find(phys.bridge);
    if (nic != options_.nic_for_bridge.end()) {
      // A trunk: no tag, every VLAN passes.
      LMH_RETURN_IF_ERROR(db.add_port(phys.bridge, nic->second, {}, std::nullopt).with_context("NIC " + nic->second));
    }
    LMH_RETURN_IF_ERROR(db.add_patch_pair(br_int, phys.int_patch_port, phys.bridge, phys.phys_patch_port));
  }
  return db.install_base_flows();
}

}  // namespace lmh::harness
