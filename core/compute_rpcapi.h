// The compute service's RPC methods and how nova sends each (cast or call,
// as nova's compute/rpcapi.py does, except
// rollback_live_migration_at_destination, which nova casts and lmh calls so
// the rollback is done when the status is set). Each is a fault point,
// consulted by RpcBus at the send.
#pragma once

#include "faults/fault_points.h"

namespace lmh::core::compute_rpcapi {

extern const faults::FaultPointDescriptor kPreLiveMigration;                   // call
extern const faults::FaultPointDescriptor kPostLiveMigrationAtDestination;     // call
extern const faults::FaultPointDescriptor kRollbackLiveMigrationAtDestination; // call
extern const faults::FaultPointDescriptor kLiveMigration;                      // cast
extern const faults::FaultPointDescriptor kPrepResize;                         // cast
extern const faults::FaultPointDescriptor kResizeInstance;                     // cast
extern const faults::FaultPointDescriptor kFinishResize;                       // cast
extern const faults::FaultPointDescriptor kConfirmResize;                      // cast
extern const faults::FaultPointDescriptor kRevertResize;                       // cast
extern const faults::FaultPointDescriptor kFinishRevertResize;                 // cast

}  // namespace lmh::core::compute_rpcapi
