// Fakes of core's Open vSwitch side effects: an OVSDB of bridges and ports
// kept in maps, and veth/delete link operations over FakeHostNetwork's links.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/os_vif_ovs.h"
#include "core/ovs_database.h"
#include "fakes.h"

namespace lmh::core::testing {

class FakeOvsDatabase : public OvsDatabase {
 public:
  struct Bridge { std::string datapath_type; };
  struct Port {
    std::string bridge;
    std::map<std::string, std::string> external_ids;
    std::optional<int> tag;
  };
  struct Flows { std::string physnet; std::string network_type; int segmentation_id = 0; };

  std::map<std::string, Bridge> bridges;
  std::map<std::string, Port> ports;
  std::map<int, Flows> flows;      // local vlan -> what provision_local_vlan programmed
  std::vector<std::string> calls;  // "ensure_bridge br-int system", "set_tag qvo.. 1", ...
  // Method names ("provision_local_vlan", "set_tag", ...) that fail with kUnavailable.
  std::set<std::string> fail;

  int count(const std::string& call_prefix) const {
    int n = 0;
    for (const auto& c : calls) n += c.rfind(call_prefix, 0) == 0;
    return n;
  }

  Status ensure_bridge(const std::string& name, const std::string& datapath_type) override {
    calls.push_back("ensure_bridge " + name + " " + datapath_type);
    if (fail.count("ensure_bridge")) return unavailable("ensure_bridge " + name);
    bridges.emplace(name, Bridge{datapath_type});
    return ok_status();
  }
  bool bridge_exists(const std::string& name) override { return bridges.count(name) > 0; }
  Status add_port(const std::string& bridge, const std::string& port,
                  const std::map<std::string, std::string>& external_ids, std::optional<int> tag) override {
    calls.push_back("add_port " + bridge + " " + port);
    if (fail.count("add_port")) return unavailable("add_port " + port);
    if (!bridges.count(bridge)) return not_found("bridge " + bridge);
    auto it = ports.find(port);
    if (it != ports.end() && it->second.bridge != bridge) {
      return failed_precondition(port + " is on " + it->second.bridge);
    }
    Port& p = ports[port];
    p.bridge = bridge;
    p.external_ids = external_ids;
    if (tag) p.tag = tag;
    return ok_status();
  }
  Status delete_port(const std::string& port) override {
    calls.push_back("delete_port " + port);
    if (fail.count("delete_port")) return unavailable("delete_port " + port);
    ports.erase(port);
    return ok_status();
  }
  StatusOr<std::string> port_bridge(const std::string& port) override {
    auto it = ports.find(port);
    return it == ports.end() ? std::string() : it->second.bridge;
  }
  StatusOr<std::vector<OvsPort>> list_ports(const std::string& bridge) override {
    if (fail.count("list_ports")) return unavailable("list_ports " + bridge);
    if (!bridges.count(bridge)) return not_found("bridge " + bridge);
    std::vector<OvsPort> out;
    for (const auto& [name, p] : ports) {
      if (p.bridge == bridge) out.push_back({name, p.external_ids, p.tag});
    }
    return out;
  }
  Status set_tag(const std::string& port, int tag) override {
    calls.push_back("set_tag " + port + " " + std::to_string(tag));
    if (fail.count("set_tag")) return unavailable("set_tag " + port);
    auto it = ports.find(port);
    if (it == ports.end()) return not_found("port " + port);
    it->second.tag = tag;
    return ok_status();
  }
  Status provision_local_vlan(int local_vlan, const std::string& physnet, const std::string& network_type,
                              int segmentation_id) override {
    calls.push_back("provision_local_vlan " + std::to_string(local_vlan) + " " + physnet + " " + network_type +
                    " " + std::to_string(segmentation_id));
    if (fail.count("provision_local_vlan")) return unavailable("provision_local_vlan");
    flows[local_vlan] = {physnet, network_type, segmentation_id};
    return ok_status();
  }
  Status reclaim_local_vlan(int local_vlan, const std::string& physnet, const std::string& network_type,
                            int segmentation_id) override {
    calls.push_back("reclaim_local_vlan " + std::to_string(local_vlan));
    if (fail.count("reclaim_local_vlan")) return unavailable("reclaim_local_vlan");
    flows.erase(local_vlan);
    std::erase_if(unicast, [&](const auto& e) { return e.first.first == local_vlan; });
    std::erase_if(arp, [&](const auto& e) { return e.first.first == local_vlan; });
    flood.erase(local_vlan);
    return ok_status();
  }

  // br-tun: tunnel ports by name, table 20/21/22 by local vlan.
  std::map<std::string, OvsTunnelPort> tunnel_ports;
  std::map<std::pair<int, std::string>, std::string> unicast;  // (lvid, mac) -> tunnel port
  std::map<std::pair<int, std::string>, std::string> arp;      // (lvid, ip) -> mac
  std::map<int, std::vector<std::string>> flood;               // lvid -> tunnel ports

  Status add_tunnel_port(const OvsTunnelPort& port) override {
    calls.push_back("add_tunnel_port " + port.name + " " + port.remote_ip + " " + std::to_string(port.dst_port));
    if (fail.count("add_tunnel_port")) return unavailable("add_tunnel_port " + port.name);
    tunnel_ports.emplace(port.name, port);
    return ok_status();
  }
  Status delete_tunnel_port(const std::string& name) override {
    calls.push_back("delete_tunnel_port " + name);
    tunnel_ports.erase(name);
    return ok_status();
  }
  Status set_flood_to_tunnels(int local_vlan, int vni, const std::vector<std::string>& ports) override {
    std::string c = "set_flood_to_tunnels " + std::to_string(local_vlan) + " " + std::to_string(vni);
    for (const auto& p : ports) c += " " + p;
    calls.push_back(c);
    if (ports.empty()) flood.erase(local_vlan);
    else flood[local_vlan] = ports;
    return ok_status();
  }
  Status install_unicast_to_tunnel(int local_vlan, int, const std::string& port, const std::string& mac) override {
    calls.push_back("install_unicast_to_tunnel " + std::to_string(local_vlan) + " " + mac + " " + port);
    if (fail.count("install_unicast_to_tunnel")) return unavailable("install_unicast_to_tunnel");
    unicast[{local_vlan, mac}] = port;
    return ok_status();
  }
  Status delete_unicast_to_tunnel(int local_vlan, const std::string& mac) override {
    calls.push_back("delete_unicast_to_tunnel " + std::to_string(local_vlan) + " " + mac);
    unicast.erase({local_vlan, mac});
    return ok_status();
  }
  Status install_arp_responder(int local_vlan, const std::string& ip, const std::string& mac) override {
    calls.push_back("install_arp_responder " + std::to_string(local_vlan) + " " + ip + " " + mac);
    arp[{local_vlan, ip}] = mac;
    return ok_status();
  }
  Status delete_arp_responder(int local_vlan, const std::string& ip) override {
    calls.push_back("delete_arp_responder " + std::to_string(local_vlan) + " " + ip);
    arp.erase({local_vlan, ip});
    return ok_status();
  }
};

// Veth pairs and link deletion over a FakeHostNetwork's links.
class FakeLinkOps : public LinkOps {
 public:
  explicit FakeLinkOps(FakeHostNetwork& net) : net_(net) {}
  std::map<std::string, std::string> peers;  // both directions
  std::vector<std::string> calls;

  Status create_veth_pair(const std::string& a, const std::string& b) override {
    calls.push_back("create_veth_pair " + a + " " + b);
    if (net_.links.count(a) || net_.links.count(b)) return {StatusCode::kAlreadyExists, a + " or " + b};
    net_.links[a] = {"veth", "", false};
    net_.links[b] = {"veth", "", false};
    peers[a] = b;
    peers[b] = a;
    return ok_status();
  }
  Status delete_link(const std::string& name) override {
    calls.push_back("delete_link " + name);
    auto it = net_.links.find(name);
    if (it == net_.links.end()) return ok_status();
    if (it->second.kind == "bridge") {
      for (auto& [n, l] : net_.links) if (l.master == name) l.master.clear();
    }
    net_.links.erase(it);
    auto peer = peers.find(name);
    if (peer != peers.end()) {
      net_.links.erase(peer->second);
      peers.erase(peer->second);
      peers.erase(peer);
    }
    return ok_status();
  }

 private:
  FakeHostNetwork& net_;
};

}  // namespace lmh::core::testing
