// The ML2/OVN backend: no neutron L2 agent runs on its hosts. ovn-controller
// (a real daemon in the lab) claims a VIF on br-int by its iface-id and
// installs its flows; neutron's OVN mechanism driver, in the server, writes
// the northbound database and learns what happened from OVN's databases.
//
//  - OvnMechanismDriver: neutron's ovn_client and its ovsdb monitors. It
//    turns each network into a logical switch (with a localnet port for a
//    flat or VLAN network) and each port into a logical switch port whose
//    options say where it may be bound: requested-chassis is the ACTIVE
//    binding's host, or during a live migration with multi-chassis bindings
//    (neutron 35fade3b5f, Zed) "SRC,DST" with activation-strategy (rarp by
//    default) while binding:profile.migrating_to names the destination.
//    Before that change the port stays requested on the source until the
//    destination binding is activated, so the destination cannot claim it.
//    The monitors: a port up on its ACTIVE binding's chassis is the
//    server's update_device_up there (status ACTIVE, network-vif-plugged);
//    with vif_plugged_from_agent_only (neutron 28.0.0, ee20f78e72) the
//    destination named in additional_chassis while the port is up sends
//    network-vif-plugged for the migration. Without it the event went out
//    on the migrating_to update (the "fake" event, LP#2069718), as for the
//    other backends (bug 1880389).
//  - OvnControllerAgent: what neutron lists as the host's "OVN Controller
//    agent". It reports the chassis (bridge mappings, Geneve endpoint) and
//    judges a port wired when its tap is on br-int with the port's iface-id
//    and ovn-controller has marked the interface ovn-installed.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/event_loop.h"
#include "core/host_config.h"
#include "core/l2_agent.h"
#include "core/neutron.h"
#include "core/ovn_northbound.h"
#include "core/ovs_database.h"
#include "core/timeline.h"

namespace lmh::core {

struct OvnDriverConfig {
  // neutron 35fade3b5f (Zed, backported to Yoga 20.3.0): requested-chassis
  // "SRC,DST" while the port migrates; false: the source alone.
  bool multichassis_binding = true;
  // [ovn] live_migration_activation_strategy: "rarp" (default) or "" (the
  // destination forwards as soon as it has claimed the port).
  std::string activation_strategy = "rarp";
  // neutron 28.0.0 (ee20f78e72, LP#2069718): network-vif-plugged for a
  // migration once the destination is in additional_chassis (Behaviour::
  // vif_plugged_from_agent_only); before, only the migrating_to update's.
  bool vif_plugged_on_additional_chassis = false;
  // How often the monitors read what the databases sent (neutron's ovsdb
  // monitor threads wake on each update; the loop has no file watches).
  MonoClock::duration monitor_interval = std::chrono::milliseconds(2);
};

class OvnMechanismDriver final : public Ml2PostCommit {
 public:
  OvnMechanismDriver(OvnDriverConfig config, OvnNorthbound& nb, NeutronServer& neutron, EventLoop& loop,
                     Timeline& timeline);
  ~OvnMechanismDriver() override;
  OvnMechanismDriver(const OvnMechanismDriver&) = delete;
  OvnMechanismDriver& operator=(const OvnMechanismDriver&) = delete;

  // Starts the monitors (they read the databases every monitor_interval).
  void start();
  void stop();
  // Reads what the databases sent since the last read (the timer calls it).
  void run_monitors();

  // Ml2PostCommit: the northbound writes of ovn_client.
  void network_created(const Network& net) override;
  void port_created(const Port& port) override;
  void port_updated(const Port& port) override;

  // The options neutron writes for 'port' now (requested-chassis,
  // activation-strategy).
  std::map<std::string, std::string> port_options(const Port& port) const;
  // The last state the monitors saw of 'port_id'.
  std::optional<OvnPortState> port_state(const std::string& port_id) const;

 private:
  void write_options(const Port& port);
  void handle(const OvnPortState& state);

  OvnDriverConfig config_;
  OvnNorthbound& nb_;
  NeutronServer& neutron_;
  EventLoop& loop_;
  Timeline& timeline_;
  bool running_ = false;
  EventLoop::TimerId timer_ = 0;
  std::map<std::string, std::map<std::string, std::string>> written_;  // port -> options in the NB
  std::map<std::string, OvnPortState> states_;
  std::map<std::string, std::string> additional_notified_;  // port -> chassis sent network-vif-plugged for
};

class OvnControllerAgent final : public L2Agent {
 public:
  // How often the chassis' interfaces are read for the timeline.
  static constexpr MonoClock::duration kWatchInterval = std::chrono::milliseconds(5);

  OvnControllerAgent(std::string host, std::string integration_bridge, OvsDatabase& ovs, EventLoop& loop,
                     Timeline& timeline)
      : host_(std::move(host)), integration_bridge_(std::move(integration_bridge)), ovs_(ovs), loop_(loop),
        timeline_(timeline) {}
  ~OvnControllerAgent() override { stop(); }

  Backend backend() const override { return Backend::kOvn; }
  // ovn-controller runs on its own: nothing to poll or tell. start() only
  // watches br-int's VIFs, so the timeline shows when each appeared and
  // when ovn-controller marked it ovn-installed (its flows are in).
  void start() override;
  void stop() override;
  void binding_activate(const std::string&, const std::string&) override {}
  void binding_deactivate(const std::string&, const std::string&) override {}
  void fdb_update(FdbOperation, const NetworkFdb&) override {}
  void poll() override {}
  const std::string& host() const override { return host_; }
  std::optional<MonoTime> last_poll() const override { return std::nullopt; }
  MonoClock::duration polling_interval() const override { return {}; }
  // An "ovs" vif whose tap is on br-int with external_ids iface-id = the
  // port and ovn-installed = "true" (ovn-controller's flows are in).
  std::string wiring_problem(const Vif& vif, HostNetwork& net) override;
  // From the tap's appearance on br-int to ovn-installed, the last time it
  // happened for 'port_id' on this chassis (as watched, within a watch
  // interval).
  std::optional<MonoClock::duration> flows_installed_after(const std::string& port_id) const;

 private:
  struct Watched {
    MonoTime appeared;
    bool installed = false;
  };
  void watch();

  std::string host_;
  std::string integration_bridge_;
  OvsDatabase& ovs_;
  EventLoop& loop_;
  Timeline& timeline_;
  EventLoop::TimerId timer_ = 0;
  bool running_ = false;
  std::map<std::string, Watched> watched_;  // by iface-id
  std::map<std::string, MonoClock::duration> installed_after_;
};

struct L2BackendClass;
// The ovn backend: the chassis' agent entry, what it reports, and the OVN
// mechanism driver's port binding (registered by core/l2_backend.cpp).
const L2BackendClass& ovn_backend();

}  // namespace lmh::core
