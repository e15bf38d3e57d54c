// Writers for a RunReport: result.json (schema in README), JUnit XML (one
// testcase per scenario run; a failed verdict is a <failure>, an error an
// <error>), and the plain-text summary table printed at the end of a run.
#pragma once

#include <string>

#include "common/status.h"
#include "reports/result.h"

namespace lmh::reports {

std::string to_json_text(const RunReport& report);
// Parses what to_json_text wrote (for `lmh report` and tests).
StatusOr<RunReport> from_json_text(const std::string& text);
std::string to_junit_xml(const RunReport& report);
std::string summary_table(const RunReport& report);

// Writes result.json, report.html and junit.xml into 'dir' (which must exist).
Status write_run_files(const RunReport& report, const std::string& dir);

}  // namespace lmh::reports
