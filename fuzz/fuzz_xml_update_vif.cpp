// `lmh xml update-vif`'s inputs: the domain XML and the VIF JSON, one fuzz
// input split at the first NUL byte (XML first; without a NUL the JSON is
// empty). parse_vif_json on the JSON, and with the VIFs it accepts
// update_vif_xml on the XML under both dest_xml_bridge modes; a domain it
// rewrote must come out well-formed, with every interface matched, so the
// rewrite applies to its own output the same way.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/libvirt_xml.h"
#include "fuzz/fuzz_check.h"
#include "harness/run/xml_command.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lmh;
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t xml_size = nul ? static_cast<size_t>(nul - data) : size;
  const std::string xml = fuzz::text_of(data, xml_size);
  const std::string json = nul ? fuzz::text_of(nul + 1, size - xml_size - 1) : std::string();

  auto vifs = harness::parse_vif_json(json, "fuzz.json");
  if (!vifs.ok()) {
    fuzz::check_refusal(vifs.status(), "parse_vif_json: internal error");
    return 0;
  }
  for (core::DestXmlBridge mode : {core::DestXmlBridge::kSource, core::DestXmlBridge::kDestination}) {
    for (const core::Vif& vif : *vifs) {
      auto iface = core::guest_interface_xml(vif, mode);
      if (!iface.ok()) fuzz::check_refusal(iface.status(), "guest_interface_xml: internal error");
    }
    auto updated = core::update_vif_xml(xml, *vifs, mode);
    if (!updated.ok()) {
      fuzz::check_refusal(updated.status(), "update_vif_xml: internal error");
      continue;
    }
    auto again = core::update_vif_xml(*updated, *vifs, mode);
    fuzz::check(again.ok(), "update_vif_xml refuses its own output",
                (again.ok() ? std::string() : again.status().to_string()) + "\n" + xml + "\n----\n" + *updated);
  }
  return 0;
}
