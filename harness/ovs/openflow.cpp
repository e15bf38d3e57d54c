#include "harness/ovs/openflow.h"

#include "harness/ovs/openflow_c.h"

namespace lmh::harness {

namespace {

int timeout_ms(std::chrono::milliseconds t) { return static_cast<int>(t.count()); }

}  // namespace

OpenFlowConnection::OpenFlowConnection(std::string target, std::chrono::milliseconds timeout)
    : target_(std::move(target)), of_(lmh_openflow_open(target_.c_str(), timeout_ms(timeout)), &lmh_openflow_close) {}

OpenFlowConnection::~OpenFlowConnection() = default;

void OpenFlowConnection::set_timeout(std::chrono::milliseconds timeout) {
  lmh_openflow_set_timeout(of_.get(), timeout_ms(timeout));
}

Status OpenFlowConnection::add_flow(const std::string& flow) { return flow_mod(LMH_OPENFLOW_ADD, flow); }

Status OpenFlowConnection::delete_flows(const std::string& match, bool strict) {
  return flow_mod(strict ? LMH_OPENFLOW_DELETE_STRICT : LMH_OPENFLOW_DELETE, match);
}

Status OpenFlowConnection::flow_mod(int command, const std::string& flow) {
  int code = lmh_openflow_flow_mod(of_.get(), static_cast<lmh_openflow_command>(command), flow.c_str());
  std::string message = lmh_openflow_error(of_.get());
  switch (static_cast<lmh_openflow_code>(code)) {
    case LMH_OPENFLOW_OK: return ok_status();
    case LMH_OPENFLOW_INVALID_ARGUMENT: return invalid_argument(message);
    case LMH_OPENFLOW_FAILED_PRECONDITION: return failed_precondition(message);
    case LMH_OPENFLOW_UNAVAILABLE: return unavailable(message);
    case LMH_OPENFLOW_DEADLINE_EXCEEDED: return deadline_exceeded(message);
    case LMH_OPENFLOW_INTERNAL: return internal_error(message);
  }
  return internal_error("unknown OpenFlow result " + std::to_string(code) + ": " + message);
}

}  // namespace lmh::harness
