// The configuration readers of `lmh validate-cloud`: parse_oslo_ini on one
// or two files (the fuzz input split at the first NUL byte: two
// --config-file arguments, oldest first), then OsloConfig's lookups with
// $substitution of every key the files set and of a few options lmh reads,
// and oslo's and neutron-lib's value types on every value. Each part is
// also read as a host's ovs_external_ids (parse_ovs_external_ids), whose
// values (ovn-bridge-mappings, ...) go through the same types. Last, what
// validate-cloud makes of a host directory holding the newest file under
// every file name it reads, and the external ids: host_config and
// neutron_server_config.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "harness/run/cloud_config.h"
#include "harness/run/oslo_ini.h"

namespace {

using namespace lmh;

// Runs every value type on 'text'.
void types_of(const std::string& text) {
  if (auto b = harness::oslo_bool(text); !b.ok()) fuzz::check_refusal(b.status(), "oslo_bool");
  if (auto i = harness::oslo_int(text); !i.ok()) fuzz::check_refusal(i.status(), "oslo_int");
  harness::oslo_list(text);
  if (auto d = harness::oslo_dict(text); !d.ok()) fuzz::check_refusal(d.status(), "oslo_dict");
  if (auto m = harness::neutron_mappings(text); !m.ok()) fuzz::check_refusal(m.status(), "neutron_mappings");
  auto ranges = harness::neutron_vlan_ranges(text);
  if (!ranges.ok()) {
    fuzz::check_refusal(ranges.status(), "neutron_vlan_ranges");
    return;
  }
  for (const auto& [physnet, list] : *ranges)
    for (const harness::VlanRange& r : list)
      fuzz::check(1 <= r.min && r.min <= r.max && r.max <= 4094, "VLAN range outside 1..4094", text);
}

// Looks up 'group'.'key' in 'config' as a single- and a multi-valued option.
void lookup(const harness::OsloConfig& config, const std::string& group, const std::string& key) {
  auto one = config.get(group, key);
  if (!one.ok()) {
    fuzz::check_refusal(one.status(), "OsloConfig::get");
  } else if (*one) {
    types_of((*one)->text);
  }
  auto all = config.get_multi(group, key);
  if (!all.ok()) fuzz::check_refusal(all.status(), "OsloConfig::get_multi");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  std::vector<std::string> texts;
  if (nul) {
    texts.push_back(fuzz::text_of(data, static_cast<size_t>(nul - data)));
    texts.push_back(fuzz::text_of(nul + 1, size - static_cast<size_t>(nul - data) - 1));
  } else {
    texts.push_back(fuzz::text_of(data, size));
  }
  harness::ConfigDir dir;
  dir.dir = "/fuzz/cmp1";
  for (const std::string& text : texts) {
    auto ids = harness::parse_ovs_external_ids(text, "ovs_external_ids");
    if (!ids.ok()) {
      fuzz::check_refusal(ids.status(), "parse_ovs_external_ids");
      continue;
    }
    for (const auto& [key, value] : *ids) types_of(value);
    dir.ovs_external_ids = std::move(ids).value();
    dir.ovs_external_ids_path = "/fuzz/cmp1/ovs_external_ids";
  }

  std::vector<harness::IniFile> files;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto file = harness::parse_oslo_ini(texts[i], "fuzz" + std::to_string(i) + ".conf");
    if (!file.ok()) {
      fuzz::check_refusal(file.status(), "parse_oslo_ini");
      return 0;
    }
    for (const harness::IniSection& s : file->sections)
      for (const auto& [key, values] : s.keys) {
        fuzz::check(!values.empty(), "a key without a value", key);
        for (const harness::IniValue& v : values) types_of(v.text);
      }
    files.push_back(std::move(file).value());
  }

  const harness::OsloConfig config(files, {{{"DEFAULT", "state_path"}, "/var/lib/nova"}});
  int lookups = 0;
  for (const harness::IniFile& f : files)
    for (const harness::IniSection& s : f.sections)
      for (const auto& [key, values] : s.keys)
        if (++lookups <= 64) lookup(config, s.name, key);
  const std::pair<const char*, const char*> kRead[] = {
      {"DEFAULT", "state_path"},          {"DEFAULT", "instances_path"},
      {"ovs", "bridge_mappings"},         {"linux_bridge", "physical_interface_mappings"},
      {"ml2_type_vlan", "network_vlan_ranges"}, {"ml2", "mechanism_drivers"},
  };
  for (const auto& [group, key] : kRead) lookup(config, group, key);

  for (const char* name : {"nova.conf", "neutron.conf", "ml2_conf.ini", "linuxbridge_agent.ini",
                           "openvswitch_agent.ini"})
    dir.files.emplace(name, files.back());
  if (auto host = harness::host_config(dir); !host.ok()) fuzz::check_refusal(host.status(), "host_config");
  if (auto server = harness::neutron_server_config({&dir}); !server.ok())
    fuzz::check_refusal(server.status(), "neutron_server_config");
  return 0;
}
