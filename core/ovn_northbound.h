// What neutron's OVN mechanism driver reads and writes in OVN's databases:
// the side-effect family of the ML2/OVN backend. One object per cloud. It
// writes the northbound database (logical switches and their ports, as
// neutron's ovn_client does) and reports what neutron's ovsdb monitors
// watch: the northbound Logical_Switch_Port 'up' column and the southbound
// Port_Binding's chassis and additional_chassis. The lab implements it over
// the OVSDB IDL on the lab's OVN central databases
// (harness/ovs/ovn_northbound_idl.h); unit tests use a fake that keeps the
// rows in maps (tests/unit/core/ovn_fakes.h).
//
// Chassis are named by neutron host names: the lab sets each chassis'
// system-id and hostname to its host's name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace lmh::core {

// A neutron network as a logical switch, "neutron-<network id>". A flat or
// VLAN network also has its localnet port "provnet-<network id>"
// (type=localnet, addresses=unknown, options:network_name=<physnet>,
// tag_request/tag <vlan>), through which ovn-controller reaches the
// physical bridge that ovn-bridge-mappings names for the physnet. A tunnel
// (geneve) network has none.
struct OvnLogicalSwitch {
  std::string name;            // "neutron-<network id>"
  std::string localnet_port;   // "provnet-<network id>", or "" (geneve)
  std::string physnet;         // the localnet port's options:network_name
  int tag = 0;                 // its VLAN (0: untagged, a flat network)
};

// A neutron port as a logical switch port named by the port's id.
struct OvnLogicalSwitchPort {
  std::string name;            // the neutron port id (OVS iface-id)
  std::string logical_switch;  // "neutron-<network id>"
  std::string mac;             // addresses and port_security "<mac> <ip>"
  std::string ip;
  // requested-chassis ("host" or, during a live migration with
  // multi-chassis bindings, "src,dst") and activation-strategy ("rarp").
  std::map<std::string, std::string> options;
};

// What neutron's OVN monitors see of one port.
struct OvnPortState {
  std::string name;                             // the logical switch port
  bool up = false;                              // NB Logical_Switch_Port.up
  std::string chassis;                          // SB Port_Binding.chassis (its name), "" for none
  std::vector<std::string> additional_chassis;  // SB Port_Binding.additional_chassis, by name
  // SB Port_Binding options:additional-chassis-activated (the chassis whose
  // RARP lifted activation-strategy=rarp's blocks), "" for none.
  std::string activated;
  bool operator==(const OvnPortState&) const = default;
};

class OvnNorthbound {
 public:
  virtual ~OvnNorthbound() = default;

  // Creates 'ls' (and its localnet port) unless a switch of that name
  // exists; ok then.
  virtual Status ensure_logical_switch(const OvnLogicalSwitch& ls) = 0;
  // Creates 'lsp' on its switch. kNotFound when the switch does not exist,
  // kAlreadyExists when a port of that name does.
  virtual Status create_port(const OvnLogicalSwitchPort& lsp) = 0;
  // Replaces the whole options map of port 'name' (as neutron's
  // set_lswitch_port does: a key left out is removed). kNotFound when no
  // such port.
  virtual Status set_port_options(const std::string& name, const std::map<std::string, std::string>& options) = 0;
  // Deletes port 'name'; ok when it is gone.
  virtual Status delete_port(const std::string& name) = 0;
  // The current state of every port whose state changed since the last
  // call, in the order the changes arrived (one entry per port and call,
  // its latest state). Never blocks: it processes what the databases have
  // sent so far.
  virtual std::vector<OvnPortState> port_state_changes() = 0;
};

// "neutron-<network id>" and "provnet-<network id>", as neutron names them
// (neutron's localnet port carries the segment's id; lab networks have
// one segment, named by the network).
inline std::string ovn_logical_switch_name(const std::string& network_id) { return "neutron-" + network_id; }
inline std::string ovn_localnet_port_name(const std::string& network_id) { return "provnet-" + network_id; }

}  // namespace lmh::core
