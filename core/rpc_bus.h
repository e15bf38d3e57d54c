// RPC between nova's services on the event loop, as oslo.messaging does it,
// to the compute service on a host. A cast is posted; a call runs the callee
// and hands its result to the caller on a later turn of the loop, as a
// blocked caller resumes when the reply arrives. Each message names its
// fault point (core/compute_rpcapi.h), consulted at the send:
//   rpc.cast.<method>  delay, drop, duplicate, fail (the send raises), crash
//   rpc.call.<method>  delay (late reply), drop (no reply: MessagingTimeout
//                      after rpc_response_timeout), fail (error reply),
//                      crash (the service on the host dies: this and every
//                      later message to it goes unanswered)
#pragma once

#include <functional>
#include <set>
#include <string>

#include "common/status.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/timeline.h"
#include "faults/fault_plan.h"

namespace lmh::core {

class RpcBus {
 public:
  // 'faults' may be null (no fault fires).
  RpcBus(EventLoop& loop, Timeline& timeline, faults::FaultPlan* faults)
      : loop_(loop), timeline_(timeline), faults_(faults) {}

  // An error only when the send itself fails (fault 'fail').
  Status cast(const faults::FaultPointDescriptor& point, const std::string& host, std::function<void()> deliver);
  void call(const faults::FaultPointDescriptor& point, const std::string& host, std::function<Status()> deliver,
            std::function<void(Status)> on_reply);

  // oslo.messaging's rpc_response_timeout (60 s by default).
  void set_response_timeout(MonoClock::duration t) { response_timeout_ = t; }
  // Is the compute service on 'host' answering? (false once crashed)
  bool service_up(const std::string& host) const { return !down_services_.count(host); }
  void crash_service(const std::string& host);
  // Called by a callee during a call: its reply leaves 'd' later (a slow
  // callee, fault delay at a compute point).
  void delay_reply(MonoClock::duration d) { reply_delay_ += d; }

 private:
  EventLoop& loop_;
  Timeline& timeline_;
  faults::FaultPlan* faults_;
  MonoClock::duration response_timeout_ = std::chrono::seconds(60);
  std::set<std::string> down_services_;
  MonoClock::duration reply_delay_{};
};

// The method an RPC point sends: "rpc.cast.live_migration" -> "live_migration".
std::string rpc_method(const faults::FaultPointDescriptor& point);

}  // namespace lmh::core
