#include "harness/ovs/ovn_northbound_idl.h"

#include <cstdint>

#include "harness/ovs/ovn_idl_c.h"

namespace lmh::harness {

namespace {

// The Status for C API result 'code' on 'ovn'.
Status to_status(int code, const lmh_ovn* ovn) {
  std::string message = lmh_ovn_error(ovn);
  switch (static_cast<lmh_ovn_code>(code)) {
    case LMH_OVN_OK: return ok_status();
    case LMH_OVN_INVALID_ARGUMENT: return invalid_argument(message);
    case LMH_OVN_NOT_FOUND: return not_found(message);
    case LMH_OVN_ALREADY_EXISTS: return {StatusCode::kAlreadyExists, message};
    case LMH_OVN_UNAVAILABLE: return unavailable(message);
    case LMH_OVN_DEADLINE_EXCEEDED: return deadline_exceeded(message);
    case LMH_OVN_INTERNAL: return internal_error(message);
  }
  return internal_error("unknown OVN IDL result " + std::to_string(code) + ": " + message);
}

// 'map' as the C API's key/value array (pointing into 'map').
std::vector<lmh_ovn_kv> to_kvs(const std::map<std::string, std::string>& map) {
  std::vector<lmh_ovn_kv> kvs;
  for (const auto& [k, v] : map) kvs.push_back({k.c_str(), v.c_str()});
  return kvs;
}

void collect_state(void* aux, const lmh_ovn_port_state* s) {
  core::OvnPortState state;
  state.name = s->name;
  state.up = s->up;
  state.chassis = s->chassis;
  state.additional_chassis.assign(s->additional_chassis, s->additional_chassis + s->n_additional_chassis);
  state.activated = s->activated;
  static_cast<std::vector<core::OvnPortState>*>(aux)->push_back(std::move(state));
}

}  // namespace

StatusOr<std::unique_ptr<OvnNorthboundIdl>> OvnNorthboundIdl::connect(const std::string& nb_socket,
                                                                       const std::string& sb_socket,
                                                                       std::chrono::milliseconds timeout) {
  if (nb_socket.empty() || sb_socket.empty()) return invalid_argument("OVN northbound: both database sockets needed");
  if (timeout.count() <= 0 || timeout.count() > INT32_MAX)
    return invalid_argument("OVN northbound: timeout " + std::to_string(timeout.count()) + " ms");
  std::unique_ptr<OvnNorthboundIdl> nb(new OvnNorthboundIdl(lmh_ovn_open(
      ("unix:" + nb_socket).c_str(), ("unix:" + sb_socket).c_str(), static_cast<int>(timeout.count()))));
  int code = lmh_ovn_wait_connected(nb->ovn_.get());
  if (code != LMH_OVN_OK) return to_status(code, nb->ovn_.get());
  return nb;
}

OvnNorthboundIdl::OvnNorthboundIdl(lmh_ovn* ovn) : ovn_(ovn, &lmh_ovn_close) {}

OvnNorthboundIdl::~OvnNorthboundIdl() = default;

Status OvnNorthboundIdl::ensure_logical_switch(const core::OvnLogicalSwitch& ls) {
  lmh_ovn_switch_spec spec{ls.name.c_str(), ls.localnet_port.c_str(), ls.physnet.c_str(), ls.tag};
  std::lock_guard lock(mu_);
  return to_status(lmh_ovn_ensure_logical_switch(ovn_.get(), &spec), ovn_.get());
}

Status OvnNorthboundIdl::create_port(const core::OvnLogicalSwitchPort& lsp) {
  std::vector<lmh_ovn_kv> options = to_kvs(lsp.options);
  lmh_ovn_port_spec spec{lsp.name.c_str(), lsp.logical_switch.c_str(), lsp.mac.c_str(), lsp.ip.c_str(),
                         options.data(), options.size()};
  std::lock_guard lock(mu_);
  return to_status(lmh_ovn_create_port(ovn_.get(), &spec), ovn_.get());
}

Status OvnNorthboundIdl::set_port_options(const std::string& name, const std::map<std::string, std::string>& options) {
  std::vector<lmh_ovn_kv> kvs = to_kvs(options);
  std::lock_guard lock(mu_);
  return to_status(lmh_ovn_set_port_options(ovn_.get(), name.c_str(), kvs.data(), kvs.size()), ovn_.get());
}

Status OvnNorthboundIdl::delete_port(const std::string& name) {
  std::lock_guard lock(mu_);
  return to_status(lmh_ovn_delete_port(ovn_.get(), name.c_str()), ovn_.get());
}

std::vector<core::OvnPortState> OvnNorthboundIdl::port_state_changes() {
  std::vector<core::OvnPortState> states;
  std::lock_guard lock(mu_);
  lmh_ovn_run(ovn_.get(), collect_state, &states);
  return states;
}

}  // namespace lmh::harness
