// Small file helpers shared by the harness: state files, pid files and
// /proc entries, where "absent" is an answer rather than an error.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace lmh::harness {

// The whole file at 'path', or "" when it cannot be read.
std::string read_text_file(const std::string& path);
// Replaces the file at 'path' with 'text'; the error names the file.
Status write_text_file(const std::string& path, const std::string& text);
// The pid written in the file at 'path', or 0 when there is none.
pid_t read_pid_file(const std::string& path);

}  // namespace lmh::harness
