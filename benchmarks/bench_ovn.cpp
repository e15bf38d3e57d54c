// OVN's northbound through the IDL (root): one set_port_options round trip
// against a real OvnCentral (ovsdb-servers and ovn-northd in a namespace),
// i.e. one northbound transaction replacing a port's options, returned once
// the server acknowledged the commit. Alternates between two maps so every
// iteration really changes the row (as neutron's requested-chassis
// "src,dst" then "dst").
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/ovs/ovn_daemons.h"
#include "harness/ovs/ovn_northbound_idl.h"
#include "harness/system/namespaces.h"
#include "harness/system/process.h"

namespace {

using namespace lmh;
using namespace std::chrono_literals;

// Run id "zoo<pid>": namespace lmh-zoo<pid>-central and state dir
// /run/lmh/zoo<pid> (with owner.pid, so a concurrent `lmh cleanup` leaves
// them alone).
std::string run_id() { return "zoo" + std::to_string(::getpid() % 100000); }

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

void BM_OvnSetPortOptions(benchmark::State& state) {
  if (::geteuid() != 0) return state.SkipWithError("needs root");
  if (harness::find_program("ovn-northd").empty()) return state.SkipWithError("ovn-central is not installed");
  BenchRun run;
  auto ns = harness::NamedNetns::create("lmh-" + run_id() + "-central");
  if (!ns.ok()) return state.SkipWithError(ns.status().to_string().c_str());
  auto central = harness::OvnCentral::start({BenchRun::dir() + "/ovn-central", ns->fd()});
  if (!central.ok()) return state.SkipWithError(central.status().to_string().c_str());
  auto nb = harness::OvnNorthboundIdl::connect((*central)->nb_socket(), (*central)->sb_socket(), 10s);
  if (!nb.ok()) return state.SkipWithError(nb.status().to_string().c_str());
  Status s = (*nb)->ensure_logical_switch({"neutron-net1", "provnet-net1", "physnet1", 100});
  if (s.ok()) s = (*nb)->create_port({"p1", "neutron-net1", "fa:16:3e:00:00:01", "10.0.0.11", {}});
  if (!s.ok()) return state.SkipWithError(s.to_string().c_str());
  const std::map<std::string, std::string> maps[2] = {
      {{"requested-chassis", "h1,h2"}, {"activation-strategy", "rarp"}}, {{"requested-chassis", "h2"}}};
  size_t i = 0;
  for (auto _ : state) {
    s = (*nb)->set_port_options("p1", maps[i++ % 2]);
    if (!s.ok()) return state.SkipWithError(s.to_string().c_str());
  }
}
BENCHMARK(BM_OvnSetPortOptions)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
