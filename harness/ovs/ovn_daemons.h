// OVN's daemons, each inside a lab namespace with its files under one state
// directory, started, health-checked and stopped like the OVS daemons:
//
//  - OvnCentral: the northbound and southbound databases (an ovsdb-server
//    each, on ovn-common's schemas) and ovn-northd between them, reached
//    over unix sockets (the lab has no management network).
//  - OvnController: one chassis, ovn-controller over its host's own Open
//    vSwitch. What it reads comes from the Open_vSwitch row's external_ids
//    (system-id, hostname, ovn-remote, ovn-encap-type/-ip,
//    ovn-bridge-mappings, ovn-bridge-datapath-type), written here through
//    the IDL before it starts.
//
// RAII: the destructors stop what started (ovn-northd before the databases).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "harness/ovs/ovsdb_idl.h"
#include "harness/system/process.h"

namespace lmh::harness {

class OvnCentral {
 public:
  struct Options {
    std::string state_dir;  // created if missing
    int netns_fd = -1;
    std::chrono::milliseconds timeout = std::chrono::seconds(10);  // each start step
  };
  // Creates both databases (ovsdb-tool), starts their servers, then
  // ovn-northd, and returns once northd holds the southbound database's
  // lock (it is the active northd). kEnvironment when OVN is not installed
  // or a daemon does not come up (the message names its log).
  static StatusOr<std::unique_ptr<OvnCentral>> start(const Options& options);
  ~OvnCentral();
  OvnCentral(const OvnCentral&) = delete;
  OvnCentral& operator=(const OvnCentral&) = delete;

  bool healthy();
  void stop();  // northd, then the databases; idempotent
  pid_t northd_pid() const { return northd_.pid(); }
  std::string nb_socket() const { return options_.state_dir + "/ovnnb_db.sock"; }
  std::string sb_socket() const { return options_.state_dir + "/ovnsb_db.sock"; }
  // ovn-sbctl / ovn-nbctl run against these databases, with the timeout.
  StatusOr<std::string> sbctl(std::vector<std::string> args);
  StatusOr<std::string> nbctl(std::vector<std::string> args);

 private:
  explicit OvnCentral(Options options) : options_(std::move(options)) {}
  Status start_database(const std::string& name, const std::string& schema, Daemon& daemon);

  Options options_;
  Daemon nb_, sb_, northd_;
};

class OvnController {
 public:
  struct Options {
    std::string state_dir;     // its OVN_RUNDIR and logs; created if missing
    int netns_fd = -1;         // the host's namespace
    OvsdbIdlDatabase* ovs = nullptr;  // the host's Open vSwitch (written before the start)
    std::string ovs_db_socket;  // that ovsdb-server's socket
    std::string ovs_run_dir;    // that ovs-vswitchd's OVS_RUNDIR (br-int.mgmt)
    std::string sb_remote;      // "unix:<central>/ovnsb_db.sock"
    std::string chassis;        // system-id and hostname: neutron's host name
    std::string encap_ip;       // the tunnel endpoint (Geneve)
    std::string bridge_mappings;  // "physnet1:br-ex" ("" for none)
    std::string datapath_type = "netdev";
    std::chrono::milliseconds timeout = std::chrono::seconds(10);
  };
  // Writes the chassis settings, starts ovn-controller and returns once it
  // runs (registration in the southbound database is the caller's check:
  // OvnCentral::sbctl).
  static StatusOr<std::unique_ptr<OvnController>> start(const Options& options);
  ~OvnController();
  OvnController(const OvnController&) = delete;
  OvnController& operator=(const OvnController&) = delete;

  bool healthy() { return controller_.running(); }
  void stop() { controller_.stop(); }
  pid_t pid() const { return controller_.pid(); }

 private:
  explicit OvnController(Options options) : options_(std::move(options)) {}

  Options options_;
  Daemon controller_;
};

}  // namespace lmh::harness
