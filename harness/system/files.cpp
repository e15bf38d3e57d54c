#include "harness/system/files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lmh::harness {

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Status write_text_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  f.close();
  if (!f) return environment_error("write " + path + ": " + std::strerror(errno));
  return ok_status();
}

pid_t read_pid_file(const std::string& path) {
  std::ifstream f(path);
  long pid = 0;
  f >> pid;
  return static_cast<pid_t>(pid);
}

}  // namespace lmh::harness
