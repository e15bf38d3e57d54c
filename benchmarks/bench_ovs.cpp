// A lab host's Open vSwitch (root): bring-up of an OvsHost (daemons ready,
// br-int and br-ex with NIC, patch ports and base flows applied by
// ovs-vswitchd) and its teardown; OVSDB transaction latency through the IDL
// (add_port + delete_port, set_tag), each waiting for ovs-vswitchd to apply
// it (wait:1, as ovs-vsctl) or only for the commit (wait:0, --no-wait);
// one flow added and deleted again, over the persistent OpenFlow
// connection or with an ovs-ofctl process per change as before.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/time.h"
#include "harness/ovs/openflow.h"
#include "harness/ovs/ovs_host.h"
#include "harness/system/namespaces.h"
#include "harness/system/netlink.h"
#include "harness/system/process.h"

namespace {

using namespace lmh;
using namespace std::chrono_literals;

// Run id "zob<pid>": namespaces lmh-zob<pid>-… and state dir /run/lmh/zob<pid>
// (with owner.pid, so a concurrent `lmh cleanup` leaves them alone).
std::string run_id() { return "zob" + std::to_string(::getpid() % 100000); }

struct BenchRun {
  BenchRun() {
    std::filesystem::create_directories(dir());
    std::ofstream(dir() + "/owner.pid") << ::getpid() << "\n";
  }
  ~BenchRun() {
    std::error_code ec;
    std::filesystem::remove_all(dir(), ec);
  }
  static std::string dir() { return "/run/lmh/" + run_id(); }
};

bool skip_unless_able(benchmark::State& state) {
  if (::geteuid() != 0) {
    state.SkipWithError("needs root");
    return true;
  }
  if (harness::find_program("ovs-vswitchd").empty()) {
    state.SkipWithError("openvswitch-switch is not installed");
    return true;
  }
  return false;
}

// A host namespace whose eth1 is a veth to a scratch "wire" namespace.
struct HostNamespaces {
  harness::NamedNetns host;
  harness::NamedNetns wire;
  static StatusOr<HostNamespaces> create(const std::string& tag) {
    HostNamespaces n;
    auto host = harness::NamedNetns::create("lmh-" + run_id() + "-h" + tag);
    if (!host.ok()) return host.status();
    n.host = std::move(host).value();
    auto wire = harness::NamedNetns::create("lmh-" + run_id() + "-w" + tag);
    if (!wire.ok()) return wire.status();
    n.wire = std::move(wire).value();
    auto nl = harness::Netlink::open(n.host.fd());
    if (!nl.ok()) return nl.status();
    LMH_RETURN_IF_ERROR((*nl)->create_veth("eth1", "nic", n.wire.fd()));
    LMH_RETURN_IF_ERROR((*nl)->set_up("eth1"));
    return n;
  }
};

harness::OvsHost::Options host_options(const HostNamespaces& ns, const std::string& name) {
  harness::OvsHost::Options o;
  o.state_dir = BenchRun::dir() + "/ovs-" + name;
  o.netns_fd = ns.host.fd();
  o.bridge_mappings = {{"provider", "br-ex"}};
  o.nic_for_bridge = {{"br-ex", "eth1"}};
  return o;
}

// OvsHost::start to ready (its own bringup_time), then teardown.
void BM_OvsHostBringUp(benchmark::State& state) {
  if (skip_unless_able(state)) return;
  BenchRun run;
  double teardown_ms = 0;
  for (auto _ : state) {
    auto ns = HostNamespaces::create(std::to_string(state.iterations()));
    if (!ns.ok()) { state.SkipWithError(ns.status().to_string().c_str()); return; }
    auto host = harness::OvsHost::start(host_options(*ns, "h"));
    if (!host.ok()) { state.SkipWithError(host.status().to_string().c_str()); return; }
    state.SetIterationTime(std::chrono::duration<double>((*host)->bringup_time()).count());
    auto t0 = MonoClock::now();
    host->reset();
    teardown_ms += ms_since(t0, MonoClock::now());
  }
  state.counters["teardown_ms"] = teardown_ms / static_cast<double>(state.iterations());
}
BENCHMARK(BM_OvsHostBringUp)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);

// One host for the transaction benchmarks, started outside their loops.
struct TxnHost {
  HostNamespaces ns;
  std::unique_ptr<harness::OvsHost> host;
  static StatusOr<TxnHost> start() {
    TxnHost t;
    auto ns = HostNamespaces::create("t");
    if (!ns.ok()) return ns.status();
    t.ns = std::move(ns).value();
    auto nl = harness::Netlink::open(t.ns.host.fd());
    if (!nl.ok()) return nl.status();
    LMH_RETURN_IF_ERROR((*nl)->create_veth("tapbench", "tapbenchp", -1));
    LMH_RETURN_IF_ERROR((*nl)->set_up("tapbench"));
    auto host = harness::OvsHost::start(host_options(t.ns, "t"));
    if (!host.ok()) return host.status();
    t.host = std::move(host).value();
    return t;
  }
};

// add_port (with os-vif's external_ids and a tag) + delete_port of a real
// veth: two transactions. Arg: wait for ovs-vswitchd (1) or not (0).
void BM_OvsdbAddDeletePort(benchmark::State& state) {
  if (skip_unless_able(state)) return;
  BenchRun run;
  auto t = TxnHost::start();
  if (!t.ok()) { state.SkipWithError(t.status().to_string().c_str()); return; }
  auto& db = t->host->database();
  db.set_wait_for_vswitchd(state.range(0) != 0);
  const std::map<std::string, std::string> ids = {{"iface-id", "b0000000-0000-4000-8000-000000000001"},
                                                  {"iface-status", "active"},
                                                  {"attached-mac", "fa:16:3e:00:00:01"},
                                                  {"vm-uuid", "11111111-2222-3333-4444-555555555555"}};
  for (auto _ : state) {
    Status s = db.add_port("br-int", "tapbench", ids, 5);
    if (s.ok()) s = db.delete_port("tapbench");
    if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
  }
}
BENCHMARK(BM_OvsdbAddDeletePort)->ArgName("wait")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);

// set_tag, alternating between two VLANs so every call changes something.
void BM_OvsdbSetTag(benchmark::State& state) {
  if (skip_unless_able(state)) return;
  BenchRun run;
  auto t = TxnHost::start();
  if (!t.ok()) { state.SkipWithError(t.status().to_string().c_str()); return; }
  auto& db = t->host->database();
  db.set_wait_for_vswitchd(state.range(0) != 0);
  Status s = db.add_port("br-int", "tapbench", {{"iface-id", "bench"}}, 5);
  if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
  int tag = 5;
  for (auto _ : state) {
    tag = tag == 5 ? 6 : 5;
    s = db.set_tag("tapbench", tag);
    if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
  }
}
BENCHMARK(BM_OvsdbSetTag)->ArgName("wait")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);

// One flow change and its undoing, each returning once the switch applied
// it: add-flow of a physical bridge's VLAN translation (a port name to
// resolve, as the agent's flows have) and its --strict del-flows. Arg:
// over the persistent OpenFlow connection (0) or an ovs-ofctl process per
// change (1, as OvsdbIdlDatabase did before).
void BM_FlowAddDelete(benchmark::State& state) {
  if (skip_unless_able(state)) return;
  BenchRun run;
  auto t = TxnHost::start();
  if (!t.ok()) { state.SkipWithError(t.status().to_string().c_str()); return; }
  const std::string target = "unix:" + t->host->daemons().run_dir() + "/br-ex.mgmt";
  const std::string match = "table=0,priority=4,in_port=phy-br-ex,dl_vlan=7";
  const std::string flow = match + ",actions=mod_vlan_vid:100,NORMAL";
  harness::OpenFlowConnection of(target, 10s);
  auto change = [&](bool add) -> Status {
    if (state.range(0) == 0) return add ? of.add_flow(flow) : of.delete_flows(match, true);
    std::vector<std::string> argv = {"ovs-ofctl", "--timeout=10"};
    if (add) argv.insert(argv.end(), {"add-flow", target, flow});
    else argv.insert(argv.end(), {"--strict", "del-flows", target, match});
    return harness::run_checked(argv, 10s).status();
  };
  for (auto _ : state) {
    Status s = change(true);
    if (s.ok()) s = change(false);
    if (!s.ok()) { state.SkipWithError(s.to_string().c_str()); return; }
  }
}
BENCHMARK(BM_FlowAddDelete)->ArgName("ofctl")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
