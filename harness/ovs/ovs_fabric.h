// The physical switch of the lab: an Open vSwitch userspace bridge
// (datapath netdev) run by its own ovsdb-server and ovs-vswitchd inside the
// fabric namespace. It learns MACs per VLAN, separates VLANs (access ports
// tag, trunk ports carry 802.1Q), ages entries after 'mac_ageing_s', and its
// FDB is readable (fdb/show). The daemons are an OvsDaemons; bridge and
// ports are written through the OVSDB IDL (OvsdbIdlDatabase).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "harness/ovs/ovs_daemons.h"
#include "harness/ovs/ovsdb_idl.h"

namespace lmh::harness {

struct FdbEntry {
  std::string port;  // port name ("" if unknown)
  int vlan = 0;
  std::string mac;
  int age_s = 0;
};

class OvsFabric {
 public:
  struct Options {
    std::string state_dir;  // per-run directory for db, sockets, logs, pid files
    int netns_fd = -1;      // fabric namespace
    std::string bridge = "fabric";
    int mac_ageing_s = 300;
  };
  static StatusOr<std::unique_ptr<OvsFabric>> start(const Options& options);
  ~OvsFabric();  // stops ovs-vswitchd, then ovsdb-server

  // Adds existing fabric-namespace link 'port' as an access port of 'vlan'.
  Status add_access_port(const std::string& port, int vlan);
  // Adds 'port' as an 802.1Q trunk (all VLANs).
  Status add_trunk_port(const std::string& port);
  Status delete_port(const std::string& port);
  StatusOr<std::vector<FdbEntry>> fdb();
  // The port the fabric would forward 'mac' in 'vlan' to, "" when unknown.
  StatusOr<std::string> port_of(const std::string& mac, int vlan);
  const std::string& bridge() const { return options_.bridge; }
  // Are both daemons still alive?
  bool healthy();

 private:
  explicit OvsFabric(Options options) : options_(std::move(options)) {}

  Options options_;
  // Declaration order: the IDL connection closes before the daemons stop.
  std::unique_ptr<OvsDaemons> daemons_;
  std::unique_ptr<OvsdbIdlDatabase> db_;
};

}  // namespace lmh::harness
