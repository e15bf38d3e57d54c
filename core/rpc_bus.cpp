#include "core/rpc_bus.h"

#include "core/fault_hooks.h"

namespace lmh::core {

std::string rpc_method(const faults::FaultPointDescriptor& point) {
  return point.name.substr(point.name.find('.', std::string("rpc.").size()) + 1);
}

void RpcBus::crash_service(const std::string& host) {
  if (down_services_.insert(host).second) timeline_.record("compute." + host, "nova-compute crashed (stops answering)");
}

Status RpcBus::cast(const faults::FaultPointDescriptor& point, const std::string& host,
                    std::function<void()> deliver) {
  const std::string method = rpc_method(point);
  faults::Decision d = consult_fault(faults_, timeline_, point);
  if (d.kind == faults::ActionKind::kCrash) crash_service(host);
  // A cast to a dead service sits in its queue: nothing happens.
  if (!service_up(host)) {
    timeline_.record("rpc", "cast " + method + " to " + host + ": service down, not consumed");
    return ok_status();
  }
  switch (d.kind) {
    case faults::ActionKind::kFail:
      // The send itself raised (e.g. the broker refused it).
      timeline_.record("rpc", "cast " + method + " failed to send: " + d.message);
      return unavailable("cast " + method + " failed: " + d.message);
    case faults::ActionKind::kDrop:
      timeline_.record("rpc", "cast " + method + " not delivered");
      return ok_status();
    case faults::ActionKind::kDelay:
      loop_.post_after(d.delay, std::move(deliver));
      return ok_status();
    case faults::ActionKind::kDuplicate:
      loop_.post(deliver);
      loop_.post(std::move(deliver));
      return ok_status();
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, point, d);
  }
  loop_.post(std::move(deliver));
  return ok_status();
}

void RpcBus::call(const faults::FaultPointDescriptor& point, const std::string& host,
                  std::function<Status()> deliver, std::function<void(Status)> on_reply) {
  const std::string method = rpc_method(point);
  faults::Decision d = consult_fault(faults_, timeline_, point);
  if (d.kind == faults::ActionKind::kCrash) crash_service(host);
  auto time_out = [this, method, on_reply] {
    loop_.post_after(response_timeout_, [this, method, on_reply] {
      timeline_.record("rpc", "call " + method + ": MessagingTimeout");
      on_reply(deadline_exceeded(
          "MessagingTimeout: no reply to " + method + " within " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(response_timeout_).count()) + " s"));
    });
  };
  if (!service_up(host)) return time_out();
  switch (d.kind) {
    case faults::ActionKind::kFail:
      // The callee raised: the caller gets the remote error at once.
      loop_.post([method, on_reply, message = d.message] { on_reply(unavailable(method + ": " + message)); });
      return;
    case faults::ActionKind::kDrop:
      return time_out();  // the request (or its reply) is lost
    case faults::ActionKind::kDelay:
      // The callee works when the request arrives; the caller waits.
      loop_.post_after(d.delay, [this, host, deliver = std::move(deliver), on_reply, time_out] {
        Status result = deliver();
        if (!service_up(host)) return time_out();
        on_reply(result);
      });
      return;
    case faults::ActionKind::kNone:
      break;
    default:
      fault_not_supported(timeline_, point, d);
  }
  // The callee runs now; the caller resumes with its reply on the next turn
  // of the loop, as a blocked caller would after the reply arrives.
  reply_delay_ = MonoClock::duration::zero();
  Status result = deliver();
  if (!service_up(host)) return time_out();  // the callee died mid-call
  loop_.post_after(reply_delay_, [on_reply, result] { on_reply(result); });
}

}  // namespace lmh::core
