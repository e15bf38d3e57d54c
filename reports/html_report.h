// report.html: a run for people. One self-contained page (inline CSS, SVG
// and a little JS; nothing fetched): a summary table linking each
// scenario; per scenario a swimlane timeline of the migration (conductor,
// each compute, neutron, each agent, libvirt, the guest, the fabric) with
// the phases, the switchover, every announce and where it was seen and
// stopped, the probe replies as a strip with the gaps marked, fault
// injections; the invariants and the verdict with their reasons; links to
// the pcaps and serial logs.
#pragma once

#include <string>

#include "reports/result.h"

namespace lmh::reports {

std::string to_html(const RunReport& report);

}  // namespace lmh::reports
