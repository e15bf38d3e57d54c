// Fakes of core's side-effect interfaces: links kept in a map, a hypervisor
// whose phases run on the event loop under a SimulatedClock.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/event_loop.h"
#include "core/host_network.h"
#include "core/hypervisor.h"
#include "core/cloud.h"
#include "core/names.h"
#include "core/ovs_database.h"

namespace lmh::core::testing {

class FakeHostNetwork : public HostNetwork {
 public:
  struct Link { std::string kind; std::string master; bool up = false; };
  std::map<std::string, Link> links;
  std::vector<std::string> calls;  // "ensure_bridge brq..", "set_master a b"

  StatusOr<std::vector<std::string>> list_links(const std::string& prefix) override {
    std::vector<std::string> out;
    for (const auto& [n, l] : links) if (n.rfind(prefix, 0) == 0) out.push_back(n);
    return out;
  }
  bool link_exists(const std::string& name) override { return links.count(name) > 0; }
  Status ensure_bridge(const std::string& name) override {
    calls.push_back("ensure_bridge " + name);
    auto& l = links[name];
    l.kind = "bridge";
    l.up = true;
    return ok_status();
  }
  Status ensure_vlan_interface(const std::string& phys, int vlan) override {
    std::string n = vlan_interface_name(phys, vlan);
    calls.push_back("ensure_vlan " + n);
    if (!links.count(phys)) return not_found(phys);
    auto& l = links[n];
    l.kind = "vlan";
    l.up = true;
    return ok_status();
  }
  Status set_master(const std::string& dev, const std::string& br) override {
    calls.push_back("set_master " + dev + " " + br);
    if (!links.count(dev)) return not_found(dev);
    if (!links.count(br) || links[br].kind != "bridge") return not_found(br);
    links[dev].master = br;
    return ok_status();
  }
  StatusOr<std::string> master_of(const std::string& dev) override {
    if (!links.count(dev)) return not_found(dev);
    return links[dev].master;
  }
  Status set_up(const std::string& dev) override {
    if (!links.count(dev)) return not_found(dev);
    links[dev].up = true;
    return ok_status();
  }
  // VXLAN: devices by name, their forwarding entries and neighbour entries.
  std::map<std::string, VxlanDevice> vxlans;
  std::map<std::string, std::vector<VxlanFdbEntry>> fdb;
  std::map<std::string, std::map<std::string, std::string>> neigh;  // device -> ip -> mac
  Status ensure_vxlan_interface(const VxlanDevice& d) override {
    calls.push_back("ensure_vxlan " + d.name);
    if (links.count(d.name)) return ok_status();
    links[d.name] = {"vxlan", "", true};
    vxlans[d.name] = d;
    return ok_status();
  }
  Status fdb_add(const std::string& dev, const VxlanFdbEntry& e, bool append) override {
    if (!vxlans.count(dev)) return not_found(dev);
    auto& v = fdb[dev];
    if (!append) std::erase_if(v, [&](const VxlanFdbEntry& x) { return x.mac == e.mac; });
    if (std::find(v.begin(), v.end(), e) == v.end()) v.push_back(e);
    return ok_status();
  }
  Status fdb_delete(const std::string& dev, const VxlanFdbEntry& e) override {
    std::erase(fdb[dev], e);
    return ok_status();
  }
  StatusOr<std::vector<VxlanFdbEntry>> fdb_entries(const std::string& dev) override {
    if (!vxlans.count(dev)) return not_found(dev);
    return fdb[dev];
  }
  Status neigh_replace(const std::string& dev, const std::string& ip, const std::string& mac) override {
    if (!links.count(dev)) return not_found(dev);
    neigh[dev][ip] = mac;
    return ok_status();
  }
  Status neigh_delete(const std::string& dev, const std::string& ip) override {
    neigh[dev].erase(ip);
    return ok_status();
  }
};

// Does what libvirt does for <interface type='bridge'>: creates the tap and
// attaches it to the named bridge, failing when the bridge is missing.
class FakeHypervisor : public Hypervisor {
 public:
  FakeHypervisor(EventLoop& loop, std::map<std::string, FakeHostNetwork*> hosts)
      : loop_(loop), hosts_(std::move(hosts)) {}

  MonoClock::duration precopy = std::chrono::milliseconds(500);
  MonoClock::duration pause = std::chrono::milliseconds(30);
  bool fail_migration = false;
  std::map<std::string, std::string> running;  // uuid -> host
  std::vector<GuestInterface> last_dest_interfaces;

  // Open vSwitch of hosts that have one (libvirt's <virtualport> target).
  std::map<std::string, OvsDatabase*> ovs_hosts;
  std::string attaching_uuid;

  Status attach(const std::string& host, const GuestInterface& gi) {
    auto& net = *hosts_.at(host);
    if (gi.type == "openvswitch") {
      // libvirt: ovs-vsctl add-port <bridge> <tap> with the port's external_ids.
      auto it = ovs_hosts.find(host);
      if (it == ovs_hosts.end() || !it->second->bridge_exists(gi.bridge))
        return not_found("OVS bridge " + gi.bridge + " on " + host);
      net.links[gi.target_dev] = {"tap", "", true};
      return it->second->add_port(gi.bridge, gi.target_dev,
                                  {{"iface-id", gi.interface_id}, {"iface-status", "active"},
                                   {"attached-mac", gi.mac}, {"vm-uuid", attaching_uuid}},
                                  std::nullopt);
    }
    if (!net.links.count(gi.bridge)) return not_found("bridge " + gi.bridge + " on " + host);
    net.links[gi.target_dev] = {"tap", gi.bridge, true};
    return ok_status();
  }
  Status spawn(const std::string& host, const GuestSpec& spec) override {
    for (const auto& gi : spec.interfaces) LMH_RETURN_IF_ERROR(attach(host, gi));
    running[spec.instance_uuid] = host;
    return ok_status();
  }
  void live_migrate(const std::string& uuid, const std::string& src, const std::string& dst,
                    const std::vector<GuestInterface>& ifaces, LiveMigrationCallbacks cb) override {
    last_dest_interfaces = ifaces;
    attaching_uuid = uuid;
    loop_.post([=, this] {
      for (const auto& gi : ifaces) {
        Status s = attach(dst, gi);  // Prepare: QEMU -incoming creates the tap
        if (!s.ok()) { cb.on_done(s); return; }
      }
      if (fail_migration) {
        for (const auto& gi : ifaces) hosts_.at(dst)->links.erase(gi.target_dev);
        loop_.post_after(precopy, [cb] { cb.on_done(internal_error("job failed")); });
        return;
      }
      loop_.post_after(precopy, [=, this] {
        cb.on_paused();
        loop_.post_after(pause, [=, this] {
          running[uuid] = dst;
          cb.on_resumed();
          for (const auto& gi : ifaces) hosts_.at(src)->links.erase(gi.target_dev);
          cb.on_done(ok_status());
        });
      });
    });
  }
  Status power_off(const std::string& host, const std::string& uuid) override {
    auto it = running.find(uuid);
    if (it == running.end() || it->second != host) return failed_precondition("not running on " + host);
    for (auto l = hosts_.at(host)->links.begin(); l != hosts_.at(host)->links.end();) {
      if (l->second.kind == "tap") l = hosts_.at(host)->links.erase(l);
      else ++l;
    }
    running.erase(it);
    return ok_status();
  }
  int announce_self_calls = 0;
  Status announce_self(const std::string& uuid) override {
    ++announce_self_calls;
    return running.count(uuid) ? ok_status() : failed_precondition("not running");
  }
  std::vector<std::string> hosts_running(const std::string& uuid) override {
    auto it = running.find(uuid);
    if (it == running.end()) return {};
    return {it->second};
  }

 private:
  EventLoop& loop_;
  std::map<std::string, FakeHostNetwork*> hosts_;
};

// The ids of seed 000: network, port (tap tapcfcfd97b-b5) and instance.
inline const std::string kNet = "0fe9c836-5866-4a7e-b5a1-3f1c0a2d4e11";
inline const std::string kPort = "cfcfd97b-b5c2-4e0b-9f4a-6d2e8c1a7b30";
inline const std::string kVm = "7c1e2a5b-3d4f-4a6b-8c9d-0e1f2a3b4c5d";

// Two linuxbridge hosts "src" and "dst" (eth1 on physnet1, agents polling
// every 2 s), a VLAN 100 network, port kPort, instance kVm booted on src and
// plugged by the source agent: the starting point of most flow tests.
struct TwoHostCloud {
  SimulatedClock clock;
  EventLoop loop{clock};
  Timeline timeline{clock};
  FakeHostNetwork src, dst;
  std::unique_ptr<FakeHypervisor> hv;
  std::unique_ptr<Cloud> cloud;

  // 'tweak' adjusts each host's config (nova.conf options) before it is added.
  Status build_cloud(Behaviour behaviour = {}, faults::FaultPlan* plan = nullptr,
                     const std::function<void(HostConfig&)>& tweak = {}) {
    src.links["eth1"] = {"nic", "", true};
    dst.links["eth1"] = {"nic", "", true};
    hv = std::make_unique<FakeHypervisor>(loop, std::map<std::string, FakeHostNetwork*>{{"src", &src}, {"dst", &dst}});
    cloud = std::make_unique<Cloud>(loop, timeline, *hv, behaviour, plan);
    LMH_RETURN_IF_ERROR(cloud->neutron().create_network({kNet, "vlan", "physnet1", 100}));
    Port p;
    p.id = kPort;
    p.network_id = kNet;
    p.mac = "fa:16:3e:3a:7b:01";
    p.device_id = kVm;
    LMH_RETURN_IF_ERROR(cloud->neutron().create_port(p));
    for (const char* h : {"src", "dst"}) {
      HostConfig hc;
      hc.name = h;
      hc.physical_interface_mappings = {{"physnet1", "eth1"}};
      hc.polling_interval = std::chrono::seconds(2);
      if (tweak) tweak(hc);
      LMH_RETURN_IF_ERROR(cloud->add_host(hc, std::string(h) == "src" ? static_cast<HostNetwork&>(src) : dst));
    }
    LMH_RETURN_IF_ERROR(cloud->boot({kVm, "vm1", "", "active", "", {kPort}}, "src"));
    // Let the source agent plug the port (its first poll is immediate).
    return loop.run_for(std::chrono::milliseconds(100));
  }
};

}  // namespace lmh::core::testing
