// The L2 agent of one compute host, whatever its backend: what the cloud
// asks of it (lifecycle, the server's binding RPCs, polling) and how it
// judges a port wired on its host. Each backend (core/l2_backend.h)
// implements it; core::Cloud holds one per host and never asks which
// backend it is.
#pragma once

#include <optional>
#include <string>

#include "core/backend.h"
#include "core/clock.h"
#include "core/host_network.h"
#include "core/l2pop.h"
#include "core/neutron.h"

namespace lmh::core {

class L2Agent {
 public:
  virtual ~L2Agent() = default;

  virtual Backend backend() const = 0;
  // Starts polling: the first poll runs at once, like the agent's daemon
  // loop (the backend's own set-up, e.g. OVS's integration bridge, first).
  virtual void start() = 0;
  virtual void stop() = 0;
  // RPC from the server: the binding of 'port_id' became ACTIVE on 'host'.
  // Ignored for other hosts; the port is re-processed at the next poll.
  virtual void binding_activate(const std::string& port_id, const std::string& host) = 0;
  // RPC from the server: the binding of 'port_id' on 'host' was deactivated.
  virtual void binding_deactivate(const std::string& port_id, const std::string& host) = 0;
  // RPC from l2population: add or remove the forwarding entries of 'fdb'
  // (entries behind this host's own tunnel endpoint, and networks with no
  // port here, are ignored, as the agents do).
  virtual void fdb_update(FdbOperation op, const NetworkFdb& fdb) = 0;
  // Runs one polling iteration now (tests; the agent's timer calls it too).
  virtual void poll() = 0;

  virtual const std::string& host() const = 0;
  // When the last poll ran (nullopt before the first).
  virtual std::optional<MonoTime> last_poll() const = 0;
  virtual MonoClock::duration polling_interval() const = 0;

  // Why 'vif' (a port's binding on this host, as nova sees it) is not wired
  // on this host the way this backend wires it, or "" when it is. 'net' is
  // the host's network (where its taps and Linux bridges are).
  virtual std::string wiring_problem(const Vif& vif, HostNetwork& net) = 0;
};

}  // namespace lmh::core
