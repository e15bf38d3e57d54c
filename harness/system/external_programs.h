// The programs lmh and its tests run, each with the Debian package that
// provides it. A fresh machine has only what the project's set-up installs
// (the Makefile's DEBS), so every program started by name must be listed
// here; the process runner refuses one that is not, and a unit test checks
// that each listed program is installed from its package and that the
// package is in the Makefile's list (or is Essential).
#pragma once

#include <string_view>
#include <vector>
#include <string>

#include "common/status.h"

namespace lmh::harness {

struct ExternalProgram {
  std::string_view name;     // as looked up in PATH
  std::string_view package;  // the Debian package that ships it
  std::string_view used_by;  // who runs it, for people
};

// Every program lmh, its scripts and its tests run by name.
const std::vector<ExternalProgram>& external_programs();
// The entry for 'name', or null.
const ExternalProgram* external_program(std::string_view name);
// kFailedPrecondition naming the program when 'argv' would run one that is
// not listed (argv[0] as a bare name; a path is a program lmh resolved
// itself, or its own binary).
Status check_external_programs(const std::vector<std::string>& argv);

}  // namespace lmh::harness
