#include "core/invariants.h"

#include <map>

#include "core/compute_manager.h"
#include "core/names.h"

namespace lmh::core {

std::vector<InvariantResult> InvariantChecker::report(const std::string& uuid, int migration_id,
                                                      const std::set<MigrationStatus>& expected) {
  std::vector<std::string> one_host, binding_host, leftover, terminal, waits, wired, tunnel;
  bool on_vxlan = false;
  const Instance* inst = s_.db.instance(uuid);
  if (!inst) {
    one_host.push_back("instance " + uuid + " is not in the database");
  } else {
    auto running = s_.hypervisor.hosts_running(uuid);
    if (running.size() != 1) {
      std::string hosts;
      for (const auto& h : running) hosts += (hosts.empty() ? "" : ",") + h;
      one_host.push_back("instance runs on " + std::to_string(running.size()) + " hosts (" + hosts + ")");
    } else if (running[0] != inst->host) {
      one_host.push_back("instance runs on " + running[0] + " but the database says " + inst->host);
    }
    for (const auto& port_id : inst->port_ids) {
      const Port* p = s_.neutron.port(port_id);
      const PortBinding* b = p ? p->active_binding() : nullptr;
      if (!b) binding_host.push_back("port " + port_id + " has no ACTIVE binding");
      else if (b->host != inst->host)
        binding_host.push_back("port " + port_id + " ACTIVE binding on " + b->host + ", instance on " + inst->host);
      if (std::string why = vif_wiring_problem(port_id, inst->host); !why.empty()) wired.push_back(why);
      const Network* net = p ? s_.neutron.network(p->network_id) : nullptr;
      if (net && net->network_type == "vxlan") {
        on_vxlan = true;
        if (std::string why = tunnel_port_problem(net->id, inst->host); !why.empty()) tunnel.push_back(why);
      }
      for (const auto& host : s_.hosts.host_names()) {
        if (host == inst->host) continue;
        if (s_.hosts.compute(host)->network().link_exists(tap_name(port_id)))
          leftover.push_back("tap " + tap_name(port_id) + " left on " + host);
      }
    }
  }
  if (Migration* m = s_.db.migration(migration_id); m && !is_terminal(m->status)) {
    terminal.push_back("migration " + std::to_string(m->id) + " ended in non-terminal status " +
                       migration_status_name(m->status));
  } else if (m && !expected.empty() && !expected.count(m->status)) {
    std::string want;
    for (MigrationStatus e : expected) want += (want.empty() ? "" : " or ") + std::string(migration_status_name(e));
    terminal.push_back("migration " + std::to_string(m->id) + " ended " + migration_status_name(m->status) +
                       "; the faults that fired imply " + want);
  }
  if (int n = s_.events.pending(); n > 0) waits.push_back(std::to_string(n) + " event wait(s) left pending");
  auto entry = [](std::string name, const std::vector<std::string>& problems) {
    std::string detail;
    for (const auto& p : problems) detail += (detail.empty() ? "" : "; ") + p;
    return InvariantResult{std::move(name), problems.empty(), detail};
  };
  std::vector<InvariantResult> out = {entry("one_host", one_host),        entry("binding_host", binding_host),
                                      entry("no_leftover_vif", leftover),  entry("migration_terminal", terminal),
                                      entry("no_pending_wait", waits),     entry("vif_wired", wired)};
  if (on_vxlan) out.push_back(entry("tunnel_udp_port", tunnel));
  return out;
}

std::string InvariantChecker::tunnel_port_problem(const std::string& network_id, const std::string& host) {
  std::map<int, std::vector<std::string>> hosts_by_port;
  for (const auto& h : s_.hosts.host_names()) {
    if (h != host && s_.neutron.active_port_count(network_id, h) == 0) continue;
    const AgentConfig* a = s_.neutron.agent(h);
    hosts_by_port[a ? a->vxlan_udp_port : 0].push_back(h);
  }
  if (hosts_by_port.size() < 2) return "";
  std::string out = "vxlan network " + network_id.substr(0, kDeviceIdLen) + ":";
  for (const auto& [port, hosts] : hosts_by_port) {
    std::string names;
    for (const auto& h : hosts) names += (names.empty() ? "" : ",") + h;
    out += " " + names + (port ? " on UDP " + std::to_string(port) : " without vxlan") + ";";
  }
  out.pop_back();
  return out + " (their endpoints drop each other's frames)";
}

std::string InvariantChecker::vif_wiring_problem(const std::string& port_id, const std::string& host) {
  ComputeManager* c = s_.hosts.compute(host);
  L2Agent* a = s_.hosts.agent(host);
  auto vif = s_.neutron.vif_for(port_id, host);
  if (!c || !a || !vif.ok()) return "port " + port_id + " has no binding on " + host;
  return a->wiring_problem(*vif, c->network());
}

}  // namespace lmh::core
