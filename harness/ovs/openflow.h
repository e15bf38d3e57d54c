// Flow changes on one Open vSwitch bridge over a persistent OpenFlow
// connection to its management socket (harness/ovs/openflow_c.c, Open
// vSwitch's own OpenFlow library), instead of an ovs-ofctl process per
// change: each call is what `ovs-ofctl add-flow` or `[--strict] del-flows`
// does (same parser, port names resolved by the switch, same version and
// flow format), and returns once the switch has applied the change. Every
// call is bounded by the timeout; a connection that failed (ovs-vswitchd
// restarted, the bridge re-created) is made again, once per call.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"

struct lmh_openflow;

namespace lmh::harness {

class OpenFlowConnection {
 public:
  // 'target': the switch, e.g. "unix:<run_dir>/br-int.mgmt". Connects on
  // first use.
  OpenFlowConnection(std::string target, std::chrono::milliseconds timeout);
  ~OpenFlowConnection();
  OpenFlowConnection(const OpenFlowConnection&) = delete;
  OpenFlowConnection& operator=(const OpenFlowConnection&) = delete;

  // Errors of both calls: kInvalidArgument (the flow does not parse; OVS's
  // message, e.g. a port the switch does not have), kUnavailable (no switch
  // at the target), kDeadlineExceeded (no answer within the timeout),
  // kFailedPrecondition (the switch takes no flow format the flow needs),
  // kInternal (the switch refused the change).
  //
  // ovs-ofctl add-flow 'flow' (match and actions): adds it, or replaces
  // the flow of the same match and priority.
  Status add_flow(const std::string& flow);
  // ovs-ofctl del-flows 'match' (with 'strict': --strict, only the flow of
  // exactly that match and priority). Deleting nothing is success.
  Status delete_flows(const std::string& match, bool strict = false);

  void set_timeout(std::chrono::milliseconds timeout);
  const std::string& target() const { return target_; }

 private:
  Status flow_mod(int command, const std::string& flow);

  std::string target_;
  std::unique_ptr<lmh_openflow, void (*)(lmh_openflow*)> of_;
};

}  // namespace lmh::harness
