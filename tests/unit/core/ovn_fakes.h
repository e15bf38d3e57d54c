// A fake of ML2/OVN's databases for core's unit tests: the northbound rows
// neutron writes, kept in maps, and the state changes a test queues for the
// monitors to read (what northd and the ovn-controllers would report).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ovn_northbound.h"

namespace lmh::core::testing {

class FakeOvnNorthbound : public OvnNorthbound {
 public:
  std::map<std::string, OvnLogicalSwitch> switches;
  std::map<std::string, OvnLogicalSwitchPort> ports;
  std::vector<std::string> calls;       // "set_port_options <port> k=v,...", ...
  std::vector<OvnPortState> pending;    // read by the next port_state_changes()
  std::set<std::string> fail;           // method names that fail with kUnavailable

  Status ensure_logical_switch(const OvnLogicalSwitch& ls) override {
    calls.push_back("ensure_logical_switch " + ls.name);
    if (fail.count("ensure_logical_switch")) return unavailable("fake NB down");
    switches.emplace(ls.name, ls);
    return ok_status();
  }
  Status create_port(const OvnLogicalSwitchPort& lsp) override {
    calls.push_back("create_port " + lsp.name + " " + text(lsp.options));
    if (fail.count("create_port")) return unavailable("fake NB down");
    if (!switches.count(lsp.logical_switch)) return not_found("logical switch " + lsp.logical_switch);
    if (ports.count(lsp.name)) return {StatusCode::kAlreadyExists, "logical switch port " + lsp.name};
    ports[lsp.name] = lsp;
    return ok_status();
  }
  Status set_port_options(const std::string& name, const std::map<std::string, std::string>& options) override {
    calls.push_back("set_port_options " + name + " " + text(options));
    if (fail.count("set_port_options")) return unavailable("fake NB down");
    auto it = ports.find(name);
    if (it == ports.end()) return not_found("logical switch port " + name);
    it->second.options = options;
    return ok_status();
  }
  Status delete_port(const std::string& name) override {
    calls.push_back("delete_port " + name);
    ports.erase(name);
    return ok_status();
  }
  std::vector<OvnPortState> port_state_changes() override {
    std::vector<OvnPortState> out;
    out.swap(pending);
    return out;
  }

  int count(const std::string& call_prefix) const {
    int n = 0;
    for (const auto& c : calls) n += c.rfind(call_prefix, 0) == 0;
    return n;
  }
  static std::string text(const std::map<std::string, std::string>& m) {
    std::string out;
    for (const auto& [k, v] : m) out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
  }
};

}  // namespace lmh::core::testing
