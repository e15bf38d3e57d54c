// A configuration file as oslo.config reads it (iniparser.BaseParser and
// cfg.ConfigParser), for `lmh validate-cloud`: the operator's nova.conf,
// neutron.conf, ml2_conf.ini and agent files. The rules, with upstream's
// own test vectors, are in docs/upstream/oslo-config-ini.md; in short:
//  - a line starting with a space or tab continues the previous value
//    (joined with '\n', each line left-stripped), before any other check;
//  - '#' and ';' start a comment in column 0 only; no inline comments;
//  - "[name]" opens a section, name kept verbatim; sections repeat and merge;
//  - "key = value" or "key: value": the first of '=' and ':' splits; key and
//    value stripped; one pair of matching outer quotes removed (first line
//    only); every occurrence of a key is kept, in file order.
// Values are text: types, file order across files and $substitution come
// on top of this.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lmh::harness {

struct IniValue {
  std::string text;
  int line = 0;  // where its key is
};

struct IniSection {
  std::string name;  // verbatim ("DEFAULT", "ovs", " spaced ")
  int line = 0;      // its first header
  // Key (case-sensitive, never normalised) -> every occurrence in order.
  std::map<std::string, std::vector<IniValue>> keys;
};

struct IniFile {
  std::string path;
  std::vector<IniSection> sections;  // in order of first appearance

  // Every occurrence of 'key' in option group 'group', in file order, as
  // oslo.config looks them up: "DEFAULT" matches only [DEFAULT], any other
  // group every section spelled like it in any case ([ovs], [OVS] merge).
  // A multi-valued option takes them all.
  std::vector<IniValue> values(std::string_view group, const std::string& key) const;
  // The value a single-valued option takes from this file: the last
  // occurrence; nullopt when there is none.
  std::optional<IniValue> last(std::string_view group, const std::string& key) const;
};

// Several files read as one configuration, as oslo.config reads its
// --config-file list: a single-valued option from the newest file that sets
// it, a multi-valued one from every file oldest first; then `$name`
// substitution ($$ and \$ are a literal '$'; $name and ${name}; a name with
// a '.' is group.option, else the option's own group, then DEFAULT).
class OsloConfig {
 public:
  // (group, key) -> value for options no file sets but a reference may
  // name (the services' defaults, e.g. nova's state_path).
  using Defaults = std::map<std::pair<std::string, std::string>, std::string>;
  // 'files' in parse order, oldest first.
  explicit OsloConfig(std::vector<IniFile> files, Defaults defaults = {})
      : files_(std::move(files)), defaults_(std::move(defaults)) {}

  // A value and where it came from ("<path>:<line>", "" for a default).
  struct Value {
    std::string text;
    std::string where;
  };
  // The single-valued option 'group'.'key', substituted; nullopt when
  // nothing sets it. kInvalidArgument "<path>:<line>: <group>.<key>: ..."
  // for a reference nothing sets or a reference loop.
  StatusOr<std::optional<Value>> get(const std::string& group, const std::string& key) const;
  // A multi-valued option: every occurrence, oldest file first, each
  // substituted.
  StatusOr<std::vector<Value>> get_multi(const std::string& group, const std::string& key) const;

 private:
  std::optional<Value> raw(const std::string& group, const std::string& key) const;
  StatusOr<std::string> substitute(const std::string& text, const std::string& group, int depth) const;

  std::vector<IniFile> files_;
  Defaults defaults_;
};

// oslo.config's value types, on a value as the reader gives it (errors
// kInvalidArgument with oslo's message; the caller names file and line).
// Boolean: true/1/on/yes or false/0/off/no, any case.
StatusOr<bool> oslo_bool(std::string_view value);
// Integer: optional sign, decimal digits (surrounding whitespace allowed);
// empty is nullopt, as oslo gives None. Python's '_' separators and
// non-ASCII digits are not accepted.
StatusOr<std::optional<long long>> oslo_int(std::string_view value);
// List of strings: trailing commas dropped, items stripped, empty middle
// items kept; "" is the empty list.
std::vector<std::string> oslo_list(std::string_view value);
// Dict of strings ("k1:v1,k2:v2"): split at each entry's first ':', key
// and value stripped; empty key, missing ':' or a repeated key is an error
// (a trailing comma too, unlike a List); "" is the empty dict.
StatusOr<std::vector<std::pair<std::string, std::string>>> oslo_dict(std::string_view value);
// neutron-lib's parse_mappings on a list option ("physnet1:br-ex,p2:br-x"):
// exactly one ':' per entry, non-empty key and value, keys and values
// unique; empty entries skipped. In entry order.
StatusOr<std::vector<std::pair<std::string, std::string>>> neutron_mappings(std::string_view value);
// [ml2_type_vlan] network_vlan_ranges: "physnet" (the whole 1..4094) or
// "physnet:min:max", per physnet in order; a bare physnet replaces its
// earlier ranges and later ranges are then ignored.
struct VlanRange {
  int min = 1;
  int max = 4094;
};
StatusOr<std::vector<std::pair<std::string, std::vector<VlanRange>>>> neutron_vlan_ranges(std::string_view value);

// Parses 'text' as the file 'path'. Errors are kInvalidArgument
// "<path>:<line>: <what>" (oslo.config's own messages; a key before any
// section is reported at its own line).
StatusOr<IniFile> parse_oslo_ini(std::string_view text, const std::string& path);

}  // namespace lmh::harness
