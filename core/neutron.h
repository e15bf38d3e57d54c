// Neutron's server side as the migration needs it: networks with segments,
// ports with one binding per host (Rocky's multiple port bindings, one
// ACTIVE), the linuxbridge mechanism driver deciding vif_type/vif_details,
// the ML2 RPC the agents call, and the nova notifier.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/agent_config.h"
#include "core/event_loop.h"
#include "core/l2pop.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

struct Network {
  std::string id;
  std::string network_type;  // "vlan" | "flat" | "vxlan" | "geneve"
  std::string physnet;
  int segmentation_id = 0;   // 0 for flat
};

enum class BindingStatus { kActive, kInactive };

struct PortBinding {
  std::string host;
  std::string vif_type;                            // "bridge"
  std::map<std::string, std::string> vif_details;  // bridge_name, physical_network ...
  BindingStatus status = BindingStatus::kInactive;
};

struct Port {
  std::string id;
  std::string network_id;
  std::string mac;
  std::string ip;
  std::string device_id;       // instance uuid
  std::string status = "DOWN"; // DOWN | ACTIVE
  std::map<std::string, std::string> profile{};  // binding:profile (migrating_to)
  std::vector<PortBinding> bindings{};

  const PortBinding* active_binding() const;
  const PortBinding* binding_for(const std::string& host) const;
};

// What get_device_details answers an agent.
struct DeviceDetails {
  enum class Kind { kDetails, kNoActiveBinding, kUnknown } kind = Kind::kUnknown;
  std::string port_id;
  std::string network_id;
  std::string network_type;
  std::string physnet;
  int segmentation_id = 0;
  std::string bridge_name;
};

// Nova's view of a port: one entry of the instance's network model (what
// `nova.network.model.VIF` holds), from which the libvirt driver builds the
// guest interface config.
struct Vif {
  std::string port_id;                          // "id"
  std::string mac;                              // "address"
  std::string vif_type;                         // "type": bridge | ovs | ...
  std::map<std::string, std::string> details;   // "details" (values as text: "true", "br-int")
  std::string devname;                          // "devname": tap + port_id[:11]
  std::string vnic_type = "normal";             // "vnic_type"
  std::string ovs_interfaceid;                  // "ovs_interfaceid" (ovs types)
  Network network;                              // "network" id and segment
  // "network"."bridge": filled from the binding the model was built from.
  // During a live migration nova's model still comes from the SOURCE
  // binding; only type and details are swapped for the destination's
  // (get_dest_vif), which is how seed 000's brq bridge reached an OVS host.
  std::string network_bridge;
  std::optional<int> mtu;                       // "network"."meta"."mtu"
};

// The nova notifier's network-vif-plugged: consulted where it is sent
// (Cloud's notifier) and, for fire-early, at the migrating_to update.
extern const faults::FaultPointDescriptor kNeutronNotifyVifPlugged;

// A mechanism driver that keeps a backend's own database in step with the
// server's (ML2's *_postcommit hooks; ML2/OVN's northbound writes). Called
// after each change is committed, on the loop.
class Ml2PostCommit {
 public:
  virtual ~Ml2PostCommit() = default;
  virtual void network_created(const Network& net) = 0;
  virtual void port_created(const Port& port) = 0;
  // Any change of the port's bindings (created, activated, deleted) or of
  // its binding:profile.
  virtual void port_updated(const Port& port) = 0;
};

// Neutron's behaviour switches.
struct NeutronBehaviour {
  // false (as shipped, launchpad bug 1880389): the port update that sets
  // binding:profile.migrating_to makes the nova notifier send
  // network-vif-plugged at once, before anything is plugged on the
  // destination. true (the fix, bug 1901707): while a port migrates, the
  // event comes only from the destination L2 agent reporting the device up.
  bool vif_plugged_from_agent_only = false;
  // An L3 service plugin is loaded (service_plugins = router, as in most
  // clouds): l2pop's update_port_down then also removes a port reported
  // down by a host it is no longer bound to (a live migration's source).
  bool l3_plugin = true;
  // core::Behaviour::l2pop_on_binding_activate.
  bool l2pop_on_binding_activate = false;
};

class NeutronServer {
 public:
  using VifEventSink = std::function<void(const std::string& event, const std::string& port_id)>;
  using AgentNotifier = std::function<void(const std::string& port_id, const std::string& host)>;
  // l2population's casts: to the agent on 'host', or to every agent when
  // 'host' is empty (fanout).
  using FdbSink = std::function<void(FdbOperation op, const NetworkFdb& fdb, const std::string& host)>;

  explicit NeutronServer(Timeline& timeline, NeutronBehaviour behaviour = {})
      : timeline_(timeline), behaviour_(behaviour) {}

  Status create_network(Network network);
  Status create_port(Port port);
  const Network* network(const std::string& id) const;
  const Port* port(const std::string& id) const;
  std::vector<const Port*> ports_of_device(const std::string& device_id) const;

  // Registers the L2 agent of a host (what its agent reports to the server).
  void register_agent(AgentConfig agent);
  const AgentConfig* agent(const std::string& host) const;
  // Creates an INACTIVE binding of 'port_id' on 'host' (ACTIVE when it is the
  // port's first binding), decided by the mechanism driver of the host's
  // agent; fails with "binding_failed: ..." (neutron's PortBindingError) when
  // no driver can bind it there.
  Status create_binding(const std::string& port_id, const std::string& host);
  // Makes the binding on 'host' the ACTIVE one (others INACTIVE) and tells
  // the agents (binding_activate / binding_deactivate).
  Status activate_binding(const std::string& port_id, const std::string& host);
  Status delete_binding(const std::string& port_id, const std::string& host);
  Status update_profile(const std::string& port_id, const std::string& key,
                        const std::optional<std::string>& value);

  // ML2 RPC get_device_details: 'device' is a tap name; answers only when the
  // port's ACTIVE binding is on 'host' (NO_ACTIVE_BINDING otherwise), or,
  // with 'honour_migrating_to' (a downstream agent fix), when the port is
  // migrating to 'host' (details from that host's inactive binding).
  DeviceDetails get_device_details(const std::string& device, const std::string& host,
                                   bool honour_migrating_to = false) const;
  // ML2 RPC update_device_up/down: port status, then the nova notifier. A
  // device reported up by the host a port is migrating to produces
  // network-vif-plugged without changing the status.
  void update_device_up(const std::string& device, const std::string& host);
  void update_device_down(const std::string& device, const std::string& host);

  // The VIF nova sees for 'port_id' on 'host' (from that host's binding).
  StatusOr<Vif> vif_for(const std::string& port_id, const std::string& host) const;

  void set_vif_event_sink(VifEventSink sink) { vif_sink_ = std::move(sink); }
  void set_binding_activate_notifier(AgentNotifier n) { on_activate_ = std::move(n); }
  void set_binding_deactivate_notifier(AgentNotifier n) { on_deactivate_ = std::move(n); }
  void set_l2pop_sink(FdbSink sink) { l2pop_sink_ = std::move(sink); }
  // Adds a driver's postcommit hooks (not owned; called in the order added).
  void add_postcommit(Ml2PostCommit* driver) { postcommit_.push_back(driver); }

  // l2population's view (core/l2pop.h): the ACTIVE ports of 'network_id'
  // with a binding (of any status) on 'host'.
  int active_port_count(const std::string& network_id, const std::string& host) const;
  // Fault points neutron.port_update.profile and neutron.binding.activate;
  // 'loop' schedules what a delay fault defers.
  void set_fault_plan(faults::FaultPlan* plan, EventLoop* loop) {
    faults_ = plan;
    loop_ = loop;
  }

 private:
  Port* find_port_by_device(const std::string& device);
  const Port* find_port_by_device(const std::string& device) const;
  void set_status(Port& port, const std::string& status);

  void notify(const std::string& event, const Port& port, const std::string& why);
  // The agent on 'host' when l2population acts for 'net' there (a vxlan
  // network, an l2pop agent with a tunnel endpoint), else null.
  const AgentConfig* l2pop_agent(const Network& net, const std::string& host) const;
  // l2population's update_port_up / removal of 'port' on 'host' (l2pop.h).
  void l2pop_port_up(const Port& port, const std::string& host);
  void l2pop_port_removed(const Port& port, const std::string& host);
  void send_fdb(FdbOperation op, const NetworkFdb& fdb, const std::string& host);
  void apply_profile(const std::string& port_id, const std::string& key, const std::optional<std::string>& value);
  void port_updated(const Port& port);

  Timeline& timeline_;
  NeutronBehaviour behaviour_;
  std::map<std::string, Network> networks_;
  std::map<std::string, AgentConfig> agents_;
  std::map<std::string, Port> ports_;
  faults::FaultPlan* faults_ = nullptr;
  EventLoop* loop_ = nullptr;
  VifEventSink vif_sink_;
  AgentNotifier on_activate_;
  AgentNotifier on_deactivate_;
  FdbSink l2pop_sink_;
  std::vector<Ml2PostCommit*> postcommit_;
};

}  // namespace lmh::core
