// Named places where a fault can be injected. Each point is defined once, at
// file scope, in the module that consults it (as Open vSwitch defines a
// coverage counter with COVERAGE_DEFINE):
//
//   const faults::FaultPointDescriptor kAgentLbScan = faults::define_fault_point({
//       .name = "agent.lb.scan", .description = "...", .actions = {...}, ...});
//   ...  consult_fault(plan, timeline, kAgentLbScan)
//
// Defining a point registers it. Everything else is derived from the
// descriptors: `lmh faults`, parse_fault_spec's checks (unknown points with
// the closest name, actions a point does not implement), the final status a
// fired fault implies (core/implied_status.h) and where a point applies
// (harness' fault_not_applicable). fault_plan.h binds actions to points.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lmh::faults {

enum class ActionKind { kNone, kDelay, kDrop, kDuplicate, kFireEarly, kFail, kCrash };

const char* action_name(ActionKind kind);  // "delay", "drop", ...

// Where in a move a point acts: the five phases of libvirt's migration
// protocol, onto which nova's conductor/source/destination split maps for
// live and cold moves alike, then the undoing of a move, then the L2
// agents' loop, which runs beside every phase (it wires whatever port
// appears). The registry lists points in this order.
enum class MigrationPhase {
  kBegin,     // source: the move starts (conductor -> source)
  kPrepare,   // destination: claim, plug VIFs, bind ports
  kPerform,   // source: memory copy (live) or disk move (cold), switchover
  kFinish,    // destination: the guest runs there, its bindings activate
  kConfirm,   // source: clean up what the guest left
  kRollback,  // undo a failed live migration or a resize
  kAgent,     // an L2 agent's own loop, asynchronous to the move
};

// The tiers a point acts on (bit set).
enum Tiers : unsigned {
  kEmulatedTier = 1u << 0,
  kLibvirtTier = 1u << 1,
  kAllTiers = kEmulatedTier | kLibvirtTier,
};

// Fields a definition leaves out keep their defaults (hence the `{}`s:
// designated initialisers may skip them without a warning).
struct FaultPointDescriptor {
  std::string name;         // "agent.lb.enslave_uplink"
  std::string description;  // one line, for `lmh faults`
  // The actions this point implements, in the order `lmh faults` lists them.
  // A plan naming any other action here is refused when it is parsed, so a
  // fault never silently means nothing.
  std::vector<ActionKind> actions;
  MigrationPhase phase = MigrationPhase::kPrepare;
  // Actions that end the move in 'error' when they fire here: in a live
  // migration (rolled back before the switchover, stuck after it), and in a
  // cold migration or resize.
  struct {
    std::vector<ActionKind> live{};
    std::vector<ActionKind> cold{};
  } fatal{};
  // Actions after which nova never hears network-vif-plugged for the port:
  // a live migration then completes unless nova waits for the event and a
  // timeout of that wait is fatal (core/implied_status.h).
  std::vector<ActionKind> loses_vif_plugged{};
  Tiers tiers = kAllTiers;
  // A backend that at least one host of the lab must have ("openvswitch"),
  // or "" when any lab has what the point acts on.
  std::string needs_backend{};
  // A network type the scenario's network must have ("vxlan" for
  // l2population's casts), or "" for any.
  std::string needs_network_type{};

  bool implements(ActionKind kind) const;
  // The actions' names joined by 'separator' ("delay,drop,fail").
  std::string action_list(const std::string& separator) const;
};

// Registers 'point' and returns it, to initialise the file-scope object
// that the consulting code uses. Called during static initialisation only
// (the registry is read after it); a second point with the same name, or
// one without a description or actions, is a bug and aborts.
FaultPointDescriptor define_fault_point(FaultPointDescriptor point);

// Every point linked into this program, ordered by phase then name.
// Libraries whose modules define points are linked whole (CMakeLists.txt),
// so a point is never dropped for being in an unreferenced object file.
const std::vector<FaultPointDescriptor>& known_fault_points();
bool is_known_fault_point(const std::string& name);
// The registry entry of 'name', or null.
const FaultPointDescriptor* find_fault_point(const std::string& name);

// The known point closest to 'name' by edit distance (insert, delete,
// substitute, swap two neighbours; ties go to the earlier point in
// known_fault_points()), when it is close enough to be a likely typo:
// distance <= max(2, size of 'name' / 3). nullopt when none is that close.
std::optional<std::string> closest_fault_point(const std::string& name);

}  // namespace lmh::faults
