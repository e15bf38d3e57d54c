#include "core/compute_rpcapi.h"

#include <vector>

namespace lmh::core::compute_rpcapi {

namespace {

using faults::ActionKind;
using faults::MigrationPhase;

// A call can be late, lost (the caller's MessagingTimeout after
// rpc_response_timeout), refused, or reach a compute that dies (crash: the
// service stops answering anything). A cast can also
// be doubled, except the ones that start a move (a second copy would start
// a second move).
const std::vector<ActionKind> kCallActions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail,
                                              ActionKind::kCrash};
const std::vector<ActionKind> kCastActions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kFail,
                                              ActionKind::kCrash, ActionKind::kDuplicate};
// A lost or refused call, or a dead callee, fails a live migration; a cold
// move fails when a cast cannot be sent or its callee dies (a lost cast is a
// hang, which the migration_terminal invariant reports on its own).
const std::vector<ActionKind> kCallLost = {ActionKind::kFail, ActionKind::kDrop, ActionKind::kCrash};
const std::vector<ActionKind> kColdCastLost = {ActionKind::kFail, ActionKind::kCrash};

}  // namespace

const faults::FaultPointDescriptor kPreLiveMigration = faults::define_fault_point({
    .name = "rpc.call.pre_live_migration",
    .description = "rpc call (waits for the reply) pre_live_migration: source -> destination compute: prepare "
                   "(plug VIFs, migrating_to)",
    .actions = kCallActions,
    .phase = MigrationPhase::kPrepare,
    .fatal = {.live = kCallLost},
});
const faults::FaultPointDescriptor kPostLiveMigrationAtDestination = faults::define_fault_point({
    .name = "rpc.call.post_live_migration_at_destination",
    .description = "rpc call (waits for the reply) post_live_migration_at_destination: source -> destination "
                   "compute: activate binding, update port host, finish",
    .actions = kCallActions,
    .phase = MigrationPhase::kFinish,
    .fatal = {.live = kCallLost},
});
const faults::FaultPointDescriptor kRollbackLiveMigrationAtDestination = faults::define_fault_point({
    .name = "rpc.call.rollback_live_migration_at_destination",
    .description = "rpc call (waits for the reply) rollback_live_migration_at_destination: source -> "
                   "destination compute: undo what pre_live_migration made",
    .actions = kCallActions,
    .phase = MigrationPhase::kRollback,
});
const faults::FaultPointDescriptor kLiveMigration = faults::define_fault_point({
    .name = "rpc.cast.live_migration",
    .description = "rpc cast (no reply) live_migration: conductor -> source compute: start the live migration",
    .actions = kCallActions,  // never doubled: it starts the move
    .phase = MigrationPhase::kBegin,
    .fatal = {.live = {ActionKind::kFail}},
});
const faults::FaultPointDescriptor kPrepResize = faults::define_fault_point({
    .name = "rpc.cast.prep_resize",
    .description = "rpc cast (no reply) prep_resize: conductor -> destination compute: claim resources for cold "
                   "migrate/resize",
    .actions = kCallActions,  // never doubled: it starts the move
    .phase = MigrationPhase::kPrepare,
    .fatal = {.cold = kColdCastLost},
});
const faults::FaultPointDescriptor kResizeInstance = faults::define_fault_point({
    .name = "rpc.cast.resize_instance",
    .description = "rpc cast (no reply) resize_instance: destination -> source compute: power off, move the disk",
    .actions = kCastActions,
    .phase = MigrationPhase::kPerform,
    .fatal = {.cold = kColdCastLost},
});
const faults::FaultPointDescriptor kFinishResize = faults::define_fault_point({
    .name = "rpc.cast.finish_resize",
    .description = "rpc cast (no reply) finish_resize: source -> destination compute: bind ports, plug, spawn, "
                   "power on",
    .actions = kCastActions,
    .phase = MigrationPhase::kFinish,
    .fatal = {.cold = kColdCastLost},
});
const faults::FaultPointDescriptor kConfirmResize = faults::define_fault_point({
    .name = "rpc.cast.confirm_resize",
    .description = "rpc cast (no reply) confirm_resize: api -> source compute: clean up the source after a resize",
    .actions = kCastActions,
    .phase = MigrationPhase::kConfirm,
    .fatal = {.cold = kColdCastLost},
});
const faults::FaultPointDescriptor kRevertResize = faults::define_fault_point({
    .name = "rpc.cast.revert_resize",
    .description = "rpc cast (no reply) revert_resize: api -> destination compute: tear down the destination copy",
    .actions = kCastActions,
    .phase = MigrationPhase::kRollback,
    .fatal = {.cold = kColdCastLost},
});
const faults::FaultPointDescriptor kFinishRevertResize = faults::define_fault_point({
    .name = "rpc.cast.finish_revert_resize",
    .description = "rpc cast (no reply) finish_revert_resize: destination -> source compute: rebind, replug, power "
                   "on at source",
    .actions = kCastActions,
    .phase = MigrationPhase::kRollback,
    .fatal = {.cold = kColdCastLost},
});

}  // namespace lmh::core::compute_rpcapi
