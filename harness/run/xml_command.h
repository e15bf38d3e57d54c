// `lmh xml update-vif`: computes the destination domain XML of a live
// migration from a source domain XML and the destination VIFs, with core's
// libvirt driver logic (core/libvirt_xml.h), so operators can check what
// their real domains would become under either `behaviour.dest_xml_bridge`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/neutron.h"

namespace lmh::harness {

// Parses 'text', a JSON list of VIFs in nova's network-model form (what
// nova logs as "vif=" and stores in instance_info_caches: `id`, `address`,
// `type`, `details`, `devname`, `vnic_type`, `ovs_interfaceid`, `network`
// {`id`, `bridge`, `meta` {`mtu`, `physical_network`}}), into core VIFs.
// Keys lmh does not use are ignored, and null counts as absent. Required:
// `id`, `address` (a MAC), `type`. `details` values become text (true ->
// "true", 1500 -> "1500", objects as compact JSON); `devname` defaults to
// "tap" + id[:11], `vnic_type` to "normal".
// Returns kInvalidArgument "<source_name>: [index].key: what is wrong", or
// "<source_name>: malformed JSON (byte N): …" with nlohmann's position.
StatusOr<std::vector<core::Vif>> parse_vif_json(const std::string& text,
                                                const std::string& source_name);

// Runs `lmh xml update-vif`: reads the domain XML at 'domain_xml_path' and
// the VIF JSON at 'vif_json_path', applies the overrides 'sets' (only
// "behaviour.dest_xml_bridge=source|destination"; default source, as
// shipped; later ones win) and writes the destination domain XML to 'out'.
// Returns 0, or 2 after writing "lmh: <message>" to 'err' when an override,
// a file or its content is bad (messages name the file or the key).
int xml_update_vif_command(const std::string& domain_xml_path, const std::string& vif_json_path,
                           const std::vector<std::string>& sets, std::ostream& out,
                           std::ostream& err);

}  // namespace lmh::harness
