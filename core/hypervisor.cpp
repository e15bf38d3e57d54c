#include "core/hypervisor.h"

namespace lmh::core {

using faults::ActionKind;
using faults::MigrationPhase;

const faults::FaultPointDescriptor kHypervisorMigrate = faults::define_fault_point({
    .name = "hypervisor.migrate",
    .description = "hypervisor live-migration job (memory copy to the destination)",
    .actions = {ActionKind::kDelay, ActionKind::kFail},
    .phase = MigrationPhase::kPerform,
    .fatal = {.live = {ActionKind::kFail}},
});

const faults::FaultPointDescriptor kHypervisorSwitchover = faults::define_fault_point({
    .name = "hypervisor.switchover",
    .description = "guest paused on the source and resumed on the destination",
    .actions = {ActionKind::kDelay, ActionKind::kFail},
    .phase = MigrationPhase::kPerform,
    .fatal = {.live = {ActionKind::kFail}},
    .tiers = faults::kEmulatedTier,
});

const faults::FaultPointDescriptor kGuestAnnounce = faults::define_fault_point({
    .name = "guest.announce",
    .description = "the guest's self-announce after resume (RARP x5)",
    .actions = {ActionKind::kDelay, ActionKind::kDrop, ActionKind::kDuplicate},
    .phase = MigrationPhase::kFinish,
    .tiers = faults::kEmulatedTier,
});

}  // namespace lmh::core
