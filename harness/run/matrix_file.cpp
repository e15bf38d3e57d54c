#include "harness/run/matrix_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace lmh::harness {

ScenarioArg parse_scenario_arg(const std::string& arg) {
  ScenarioArg out{arg, {}};
  auto open = arg.find('[');
  if (open == std::string::npos || arg.back() != ']') return out;
  out.file = arg.substr(0, open);
  std::stringstream inner(arg.substr(open + 1, arg.size() - open - 2));
  for (std::string kv; std::getline(inner, kv, ',');) {
    // Short names like the report prints them are behaviour switches.
    if (kv.find('.') == std::string::npos || kv.find('.') > kv.find('=')) kv = "behaviour." + kv;
    out.overrides.push_back(kv);
  }
  return out;
}

bool is_matrix_file(const std::string& path) {
  constexpr std::string_view kSuffix = ".matrix";
  return path.size() > kSuffix.size() && path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

StatusOr<std::vector<MatrixEntry>> parse_matrix_text(const std::string& text, const std::string& source_name,
                                                     const std::string& base_dir) {
  std::vector<MatrixEntry> out;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const std::string where = source_name + ":" + std::to_string(line_no);
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string verdict_word, scenario, extra;
    if (!(words >> verdict_word)) continue;  // blank or comment
    auto expected = reports::parse_verdict(verdict_word);
    if (!expected || *expected == reports::Verdict::kError)
      return invalid_argument(where + ": expected verdict '" + verdict_word + "': use pass or fail");
    if (!(words >> scenario))
      return invalid_argument(where + ": '" + verdict_word + "' names no scenario file");
    if (words >> extra)
      return invalid_argument(where + ": '" + extra +
                                      "' after the scenario: one scenario per line, overrides in [k=v,...] without spaces");
    if (scenario.find('[') != std::string::npos && scenario.back() != ']')
      return invalid_argument(where + ": '" + scenario + "': overrides must end with ']'");
    MatrixEntry e{parse_scenario_arg(scenario), *expected, where};
    if (e.scenario.file.empty()) return invalid_argument(where + ": '" + scenario + "' names no file");
    if (std::filesystem::path(e.scenario.file).is_relative() && !base_dir.empty())
      e.scenario.file = (std::filesystem::path(base_dir) / e.scenario.file).lexically_normal().string();
    out.push_back(std::move(e));
  }
  if (out.empty()) return invalid_argument(source_name + ": lists no scenario");
  return out;
}

StatusOr<std::vector<MatrixEntry>> load_matrix_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return not_found(path + ": cannot read the matrix file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_matrix_text(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace lmh::harness
