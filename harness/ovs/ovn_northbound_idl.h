// core::OvnNorthbound over the lab's OVN central databases, through Open
// vSwitch's own OVSDB IDL and the nbrec_/sbrec_ classes generated from the
// installed OVN schemas (harness/ovs/ovn_idl_c.c): what neutron's OVN
// mechanism driver writes (ovn_client, over ovsdbapp's IDL) and what its
// ovsdb monitors watch, without a process per change.
//
// Writes are one northbound transaction each, acknowledged by the server
// before they return, and bounded by the timeout. port_state_changes()
// runs both IDLs once without waiting and compares the replicas against
// the states it last reported.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/ovn_northbound.h"

struct lmh_ovn;

namespace lmh::harness {

class OvnNorthboundIdl final : public core::OvnNorthbound {
 public:
  // Connects to the northbound database at unix socket 'nb_socket' and the
  // southbound at 'sb_socket' (OvnCentral::nb_socket(), sb_socket()) and
  // returns once both replicas hold their database's contents; the states
  // of the ports then existing are the baseline port_state_changes()
  // reports changes against. kUnavailable when either database does not
  // answer within 'timeout', which also bounds every later call.
  static StatusOr<std::unique_ptr<OvnNorthboundIdl>> connect(const std::string& nb_socket,
                                                             const std::string& sb_socket,
                                                             std::chrono::milliseconds timeout);
  ~OvnNorthboundIdl() override;
  OvnNorthboundIdl(const OvnNorthboundIdl&) = delete;
  OvnNorthboundIdl& operator=(const OvnNorthboundIdl&) = delete;

  // core::OvnNorthbound (semantics in core/ovn_northbound.h). Errors besides
  // those: kInvalidArgument (an empty name, a switch or MAC or IP missing,
  // a tag outside 0..4095, a localnet port without a physnet),
  // kUnavailable (the northbound database unreachable), kDeadlineExceeded
  // (no reply to the commit in time), kInternal (the server refused it).
  Status ensure_logical_switch(const core::OvnLogicalSwitch& ls) override;
  Status create_port(const core::OvnLogicalSwitchPort& lsp) override;
  Status set_port_options(const std::string& name, const std::map<std::string, std::string>& options) override;
  Status delete_port(const std::string& name) override;
  // One entry per northbound port whose state changed: the northbound's
  // changes before the southbound's, each in port-name order (the replicas
  // say what changed, not in which order within one run). A deleted port
  // is reported once with its empty state.
  std::vector<core::OvnPortState> port_state_changes() override;

 private:
  explicit OvnNorthboundIdl(lmh_ovn* ovn);

  // The IDL handle is single-threaded: one call at a time.
  std::mutex mu_;
  std::unique_ptr<lmh_ovn, void (*)(lmh_ovn*)> ovn_;
};

}  // namespace lmh::harness
