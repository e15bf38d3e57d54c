#include "harness/run/oslo_ini.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace lmh::harness {

namespace {

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view lstrip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

std::string_view strip(std::string_view s) { return lstrip(rstrip(s)); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

class Parser {
 public:
  explicit Parser(std::string path) { file_.path = std::move(path); }

  StatusOr<IniFile> run(std::string_view text) {
    int lineno = 0;
    while (!text.empty() || lineno == 0) {
      size_t nl = text.find('\n');
      std::string_view raw = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      ++lineno;
      LMH_RETURN_IF_ERROR(line(rstrip(raw), lineno));
      if (nl == std::string_view::npos) break;
    }
    LMH_RETURN_IF_ERROR(flush());
    return std::move(file_);
  }

 private:
  Status fail(int line, const std::string& what) const {
    return invalid_argument(file_.path + ":" + std::to_string(line) + ": " + what);
  }

  Status line(std::string_view l, int lineno) {
    if (l.empty()) return flush();
    if (l.front() == ' ' || l.front() == '\t') {
      // Before the comment and section checks, as iniparser does.
      if (!pending_) return fail(lineno, "Unexpected continuation line");
      pending_->lines.emplace_back(lstrip(l));
      return ok_status();
    }
    LMH_RETURN_IF_ERROR(flush());
    if (l.front() == '[') {
      if (l.back() != ']') return fail(lineno, "Invalid section (must end with ])");
      if (l.size() <= 2) return fail(lineno, "Empty section name");
      open_section(std::string(l.substr(1, l.size() - 2)), lineno);
      return ok_status();
    }
    if (l.front() == '#' || l.front() == ';') return ok_status();
    size_t colon = l.find(':'), equal = l.find('=');
    if (colon == std::string_view::npos && equal == std::string_view::npos)
      return fail(lineno, "No ':' or '=' found in assignment");
    size_t at = colon == std::string_view::npos || (equal != std::string_view::npos && equal < colon) ? equal : colon;
    std::string_view key = strip(l.substr(0, at));
    std::string_view value = strip(l.substr(at + 1));
    if (key.empty()) return fail(lineno, "Key cannot be empty");
    if (!value.empty() && value.front() == value.back() && (value.front() == '"' || value.front() == '\''))
      value = value.size() == 1 ? std::string_view{} : value.substr(1, value.size() - 2);
    if (!section_) return fail(lineno, "Section must be started before assignment");
    pending_ = Pending{std::string(key), lineno, {std::string(value)}};
    return ok_status();
  }

  void open_section(std::string name, int lineno) {
    for (size_t i = 0; i < file_.sections.size(); ++i)
      if (file_.sections[i].name == name) {  // repeated: merged
        section_ = i;
        return;
      }
    file_.sections.push_back({std::move(name), lineno, {}});
    section_ = file_.sections.size() - 1;
  }

  Status flush() {
    if (!pending_) return ok_status();
    std::string joined;
    for (size_t i = 0; i < pending_->lines.size(); ++i) joined += (i ? "\n" : "") + pending_->lines[i];
    file_.sections[*section_].keys[pending_->key].push_back({std::move(joined), pending_->line});
    pending_.reset();
    return ok_status();
  }

  struct Pending {
    std::string key;
    int line = 0;
    std::vector<std::string> lines;
  };
  IniFile file_;
  std::optional<size_t> section_;
  std::optional<Pending> pending_;
};

}  // namespace

std::vector<IniValue> IniFile::values(std::string_view group, const std::string& key) const {
  std::vector<IniValue> out;
  for (const auto& s : sections) {
    // cfg._normalize_group_name: DEFAULT as is, any other name lower-cased.
    const bool match = group == "DEFAULT" ? s.name == "DEFAULT" : (s.name != "DEFAULT" && iequals(s.name, group));
    if (!match) continue;
    auto it = s.keys.find(key);
    if (it != s.keys.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }
  std::stable_sort(out.begin(), out.end(), [](const IniValue& a, const IniValue& b) { return a.line < b.line; });
  return out;
}

std::optional<IniValue> IniFile::last(std::string_view group, const std::string& key) const {
  auto all = values(group, key);
  if (all.empty()) return std::nullopt;
  return all.back();
}

StatusOr<IniFile> parse_oslo_ini(std::string_view text, const std::string& path) { return Parser(path).run(text); }

std::optional<OsloConfig::Value> OsloConfig::raw(const std::string& group, const std::string& key) const {
  for (auto f = files_.rbegin(); f != files_.rend(); ++f)  // the newest file first
    if (auto v = f->last(group, key)) return Value{v->text, f->path + ":" + std::to_string(v->line)};
  auto d = defaults_.find({group, key});
  if (d != defaults_.end()) return Value{d->second, ""};
  return std::nullopt;
}

StatusOr<std::string> OsloConfig::substitute(const std::string& text, const std::string& group, int depth) const {
  // Deep enough for any real chain; oslo.config itself recurses until
  // Python gives up.
  if (depth > 16) return invalid_argument("substitution loop");
  auto ident_char = [](char c, bool first) {
    return c == '_' || std::isalpha(static_cast<unsigned char>(c)) || (!first && (c == '.' || std::isdigit(static_cast<unsigned char>(c))));
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '$') {  // \$: a literal '$'
      out += '$';
      ++i;
      continue;
    }
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    size_t end = i + 1;
    if (text[end] == '{') {
      size_t close = text.find('}', end);
      size_t j = end + 1;
      while (j < text.size() && ident_char(text[j], j == end + 1)) ++j;
      if (close == std::string::npos || j != close || j == end + 1) {  // malformed: left as is
        out += c;
        continue;
      }
      name = text.substr(end + 1, close - end - 1);
      end = close + 1;
    } else {
      size_t j = end;
      while (j < text.size() && ident_char(text[j], j == end)) ++j;
      if (j == end) {  // "$5", "$-": left as is
        out += c;
        continue;
      }
      name = text.substr(end, j - end);
      end = j;
    }
    std::string ref_group = group, ref_key = name;
    const size_t dot = name.find('.');
    if (dot != std::string::npos) {
      ref_group = name.substr(0, dot);
      ref_key = name.substr(dot + 1);
    }
    auto v = raw(ref_group, ref_key);
    if (!v && dot == std::string::npos && group != "DEFAULT") {
      ref_group = "DEFAULT";
      v = raw(ref_group, ref_key);
    }
    if (!v) return invalid_argument("references $" + name + ", which no file sets");
    auto sub = substitute(v->text, ref_group, depth + 1);
    if (!sub.ok()) return sub.status();
    out += *sub;
    i = end - 1;
  }
  return out;
}

StatusOr<std::optional<OsloConfig::Value>> OsloConfig::get(const std::string& group, const std::string& key) const {
  auto v = raw(group, key);
  if (!v) return std::optional<Value>{};
  auto text = substitute(v->text, group, 0);
  if (!text.ok()) return invalid_argument(v->where + ": " + group + "." + key + ": " + text.status().message());
  return std::optional<Value>(Value{*text, v->where});
}

StatusOr<std::vector<OsloConfig::Value>> OsloConfig::get_multi(const std::string& group, const std::string& key) const {
  std::vector<Value> out;
  for (const auto& f : files_)  // oldest first
    for (const auto& v : f.values(group, key)) {
      const std::string where = f.path + ":" + std::to_string(v.line);
      auto text = substitute(v.text, group, 0);
      if (!text.ok()) return invalid_argument(where + ": " + group + "." + key + ": " + text.status().message());
      out.push_back({*text, where});
    }
  return out;
}

StatusOr<bool> oslo_bool(std::string_view value) {
  for (const char* t : {"true", "1", "on", "yes"})
    if (iequals(value, t)) return true;
  for (const char* f : {"false", "0", "off", "no"})
    if (iequals(value, f)) return false;
  return invalid_argument("Unexpected boolean value '" + std::string(value) + "'");
}

StatusOr<std::optional<long long>> oslo_int(std::string_view value) {
  std::string_view s = strip(value);
  if (s.empty()) return std::optional<long long>{};
  std::string_view digits = s;
  if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
  bool ok = !digits.empty() && digits.size() <= 18 &&
            std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) return invalid_argument("invalid literal for int() with base 10: '" + std::string(value) + "'");
  long long v = std::stoll(std::string(digits));
  return std::optional<long long>(s.front() == '-' ? -v : v);
}

std::vector<std::string> oslo_list(std::string_view value) {
  std::string_view s = strip(value);
  while (!s.empty() && s.back() == ',') s.remove_suffix(1);
  std::vector<std::string> out;
  if (s.empty()) return out;
  while (true) {
    size_t comma = s.find(',');
    out.emplace_back(strip(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> oslo_dict(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view s = strip(value);
  if (s.empty()) return out;
  // oslo joins a piece without ':' to the next one and retries; with
  // string values that only matters for pieces that have none at all.
  std::vector<std::string> pieces;
  for (size_t start = 0;;) {
    size_t comma = s.find(',', start);
    pieces.emplace_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string pair = pieces[i];
    while (pair.find(':') == std::string::npos && i + 1 < pieces.size()) pair += "," + pieces[++i];
    const size_t colon = pair.find(':');
    if (colon == std::string::npos) return invalid_argument("Value should be NAME:VALUE pairs separated by \",\"");
    const std::string key(strip(std::string_view(pair).substr(0, colon)));
    const std::string val(strip(std::string_view(pair).substr(colon + 1)));
    if (key.empty()) return invalid_argument("Key name should not be empty");
    for (const auto& [k, v] : out)
      if (k == key) return invalid_argument("Duplicate key " + key);
    out.emplace_back(key, val);
  }
  return out;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> neutron_mappings(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& entry : oslo_list(value)) {
    if (entry.empty()) continue;
    if (std::count(entry.begin(), entry.end(), ':') != 1) return invalid_argument("Invalid mapping: '" + entry + "'");
    const size_t colon = entry.find(':');
    const std::string key(strip(std::string_view(entry).substr(0, colon)));
    const std::string val(strip(std::string_view(entry).substr(colon + 1)));
    if (key.empty()) return invalid_argument("Missing key in mapping: '" + entry + "'");
    if (val.empty()) return invalid_argument("Missing value in mapping: '" + entry + "'");
    for (const auto& [k, v] : out) {
      if (k == key) return invalid_argument("Key " + key + " in mapping: '" + entry + "' not unique");
      if (v == val) return invalid_argument("Value " + val + " in mapping: '" + entry + "' not unique");
    }
    out.emplace_back(key, val);
  }
  return out;
}

StatusOr<std::vector<std::pair<std::string, std::vector<VlanRange>>>> neutron_vlan_ranges(std::string_view value) {
  std::vector<std::pair<std::string, std::vector<VlanRange>>> out;
  auto entry_of = [&out](const std::string& net) -> std::vector<VlanRange>& {
    for (auto& [n, r] : out)
      if (n == net) return r;
    out.push_back({net, {}});
    return out.back().second;
  };
  for (const std::string& item : oslo_list(value)) {
    const std::string entry(strip(item));
    auto bad = [&](const std::string& why) {
      return invalid_argument("Invalid network VLAN range: '" + entry + "' - '" + why + "'.");
    };
    if (entry.find(':') == std::string::npos) {
      entry_of(entry) = {VlanRange{}};  // the whole range, replacing earlier ones
      continue;
    }
    if (std::count(entry.begin(), entry.end(), ':') != 2) return bad("Need exactly two values for VLAN range");
    const size_t a = entry.find(':'), b = entry.find(':', a + 1);
    const std::string net = entry.substr(0, a);  // not stripped, as neutron-lib
    if (net.empty()) return invalid_argument("Empty physical network name.");
    int tags[2];
    const std::string parts[2] = {entry.substr(a + 1, b - a - 1), entry.substr(b + 1)};
    for (int i = 0; i < 2; ++i) {
      auto v = oslo_int(parts[i]);
      if (!v.ok() || !*v || **v < 1 || **v > 4094) return bad(parts[i] + " is not a valid VLAN tag");
      tags[i] = static_cast<int>(**v);
    }
    if (tags[1] < tags[0]) return bad("End of VLAN range is less than start of VLAN range");
    std::vector<VlanRange>& ranges = entry_of(net);
    if (ranges.size() == 1 && ranges[0].min == 1 && ranges[0].max == 4094) continue;  // already everything
    ranges.push_back({tags[0], tags[1]});
  }
  return out;
}

}  // namespace lmh::harness
