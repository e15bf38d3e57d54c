// nova-compute on one host: the source and destination roles of live
// migration, cold migration and resize, and spawning. It reaches other
// hosts' compute services only through the RPC bus (NovaServices::rpc and
// ::hosts), as nova's ComputeAPI does.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "core/host_config.h"
#include "core/host_network.h"
#include "core/job_monitor.h"
#include "core/nova_services.h"

namespace lmh::core {

class ComputeManager {
 public:
  ComputeManager(NovaServices services, HostConfig config, HostNetwork& net);
  const std::string& host() const { return config_.name; }
  const HostConfig& config() const { return config_; }
  HostNetwork& network() { return net_; }

  // Source role.
  void live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  // Cold migration and resize, as nova's compute manager runs them.
  void prep_resize(const std::string& instance_uuid, int migration_id);          // destination
  void resize_instance(const std::string& instance_uuid, int migration_id);      // source
  void finish_resize(const std::string& instance_uuid, int migration_id);        // destination
  void confirm_resize(const std::string& instance_uuid, int migration_id);       // source
  void revert_resize(const std::string& instance_uuid, int migration_id);        // destination
  void finish_revert_resize(const std::string& instance_uuid, int migration_id); // source
  // Destination role.
  Status pre_live_migration(const std::string& instance_uuid, const std::string& source);
  Status post_live_migration_at_destination(const std::string& instance_uuid);
  void rollback_live_migration_at_destination(const std::string& instance_uuid);
  // Plugs and spawns a new instance here (boot).
  Status spawn(const std::string& instance_uuid);

 private:
  std::string source() const { return "compute." + config_.name; }
  Status plug_vifs(const Instance& instance, bool provide_vlan);
  // os-vif: linux_bridge for vif_type bridge, ovs (plain or hybrid) for ovs.
  Status plug_vif(const Vif& vif, const std::string& instance_uuid, bool provide_vlan);
  // The <interface> of 'vif' on this host as the libvirt driver writes it.
  GuestInterface guest_interface(const Vif& vif, DestXmlBridge mode) const;
  // The VIF the destination XML is computed from (nova's get_dest_vif).
  StatusOr<Vif> destination_vif(const std::string& port_id, const std::string& dest);
  // After the vif-plugged wait: 'running', then the driver.
  void start_live_migration_job(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void post_live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void finish_post_live_migration(const std::string& instance_uuid, const std::string& dest, int migration_id);
  void rollback_live_migration(const std::string& instance_uuid, const std::string& dest,
                               int migration_id, const Status& why);
  // Casts the method of RPC point 'cast' to 'host'; a failed send puts the
  // migration in 'error'.
  void cast_or_error(const faults::FaultPointDescriptor& cast, const std::string& host, std::function<void()> deliver,
                     const std::string& instance_uuid, int migration_id);

  NovaServices s_;
  HostConfig config_;
  HostNetwork& net_;
  // _live_migration_monitor of each live migration this host sources.
  std::map<int, std::unique_ptr<JobMonitor>> monitors_;
};

}  // namespace lmh::core
