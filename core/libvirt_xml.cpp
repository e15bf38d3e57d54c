// Guest interface XML and the live-migration destination domain XML, after
// nova's libvirt driver (vif.py get_config, config.py
// LibvirtConfigGuestInterface.format_dom, migration.py _update_vif_xml).
//
// pugixml parses and validates the domain and finds the interfaces; the
// output is the input text with each interface element spliced out and the
// new one written in, so that everything else stays byte for byte what the
// operator gave (pugixml's own writer would requote attributes and turn
// "<a/>" into "<a />").
#include "core/libvirt_xml.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <map>
#include <utility>

#include "core/names.h"

namespace lmh::core {

std::string xml_escape(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&apos;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

constexpr std::size_t kNpos = std::string::npos;
// nova's [neutron] ovs_bridge default: the bridge of a plain-OVS port whose
// binding names none.
constexpr const char* kOvsIntegrationBridge = "br-int";
// nova.network.model.NIC_NAME_LEN: host device names are cut to this.
constexpr std::size_t kNicNameLen = 14;

// An element to write: the guest interface config before it becomes text.
struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlElement> children;
  std::string raw;  // when set, written verbatim instead (an element copied from the source)
};

// Returns 'text' in lower case (ASCII).
std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}


// Appends 'element' to 'out'. 'indent' is the whitespace of the line the
// element starts on and 'unit' one level more; with 'pretty' false nothing
// is written between elements.
void render(const XmlElement& element, const std::string& indent, const std::string& unit,
            bool pretty, std::string& out) {
  if (!element.raw.empty()) {
    out += element.raw;
    return;
  }
  out += '<';
  out += element.name;
  for (const auto& [key, value] : element.attributes) {
    out += ' ' + key + "='" + xml_escape(value) + "'";
  }
  if (element.children.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  const std::string child_indent = indent + unit;
  for (const XmlElement& child : element.children) {
    if (pretty) out += '\n' + child_indent;
    render(child, child_indent, unit, pretty, out);
  }
  if (pretty) out += '\n' + indent;
  out += "</" + element.name + ">";
}

// Returns whether 'vif' is an ovs port plugged the hybrid way (qbr Linux
// bridge for the iptables firewall, then qvb/qvo into br-int), which
// nova.network.model.VIF.is_hybrid_plug_enabled reads from vif_details.
bool is_hybrid_plug(const Vif& vif) {
  auto it = vif.details.find("ovs_hybrid_plug");
  return it != vif.details.end() && lower(it->second) == "true";
}

// Returns the tap name the guest interface names in <target dev>:
// 'devname', else nova's fallback "nic" + port id, cut to NIC_NAME_LEN.
std::string target_dev(const Vif& vif) {
  if (!vif.devname.empty()) return vif.devname;
  return ("nic" + vif.port_id).substr(0, kNicNameLen);
}

// Returns the guest interface config of 'vif' under 'mode' as an element
// tree, in LibvirtConfigGuestInterface.format_dom's order, or
// kInvalidArgument naming the port when it cannot be built.
StatusOr<XmlElement> interface_config(const Vif& vif, DestXmlBridge mode) {
  const std::string who = "vif " + vif.port_id;
  if (vif.vif_type != "bridge" && vif.vif_type != "ovs") {
    return invalid_argument(who + ": unsupported vif type '" + vif.vif_type +
                            "' (lmh builds guest interfaces for vif types bridge and ovs)");
  }
  if (!vif.vnic_type.empty() && vif.vnic_type != "normal") {
    return invalid_argument(who + ": unsupported vnic_type '" + vif.vnic_type +
                            "' (lmh builds guest interfaces for vnic_type normal)");
  }
  if (vif.mac.empty()) return invalid_argument(who + ": no MAC address");
  const std::string bridge = interface_bridge(vif, mode);
  if (bridge.empty()) {
    return invalid_argument(
        who + ": no bridge for <source bridge>: network.bridge is empty" +
        (mode == DestXmlBridge::kDestination ? " and vif_details has no bridge_name" : ""));
  }

  XmlElement iface{"interface", {{"type", "bridge"}}, {}, {}};
  iface.children.push_back({"mac", {{"address", vif.mac}}, {}, {}});
  iface.children.push_back({"model", {{"type", "virtio"}}, {}, {}});
  iface.children.push_back({"source", {{"bridge", bridge}}, {}, {}});
  if (vif.mtu) iface.children.push_back({"mtu", {{"size", std::to_string(*vif.mtu)}}, {}, {}});
  iface.children.push_back({"target", {{"dev", target_dev(vif)}}, {}, {}});
  if (vif.vif_type == "ovs" && !is_hybrid_plug(vif)) {
    const std::string& interface_id = vif.ovs_interfaceid.empty() ? vif.port_id : vif.ovs_interfaceid;
    XmlElement parameters{"parameters", {{"interfaceid", interface_id}}, {}, {}};
    iface.children.push_back({"virtualport", {{"type", "openvswitch"}}, {parameters}, {}});
  }
  return iface;
}

// Returns the 1-based line of byte 'offset' of 'text'.
std::size_t line_of(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

// Returns the 1-based column (in bytes) of byte 'offset' of 'text'.
std::size_t column_of(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t newline = offset == 0 ? kNpos : text.rfind('\n', offset - 1);
  return newline == kNpos ? offset + 1 : offset - newline;
}

// Returns the offset of the '<' that starts 'element' in the text it was
// parsed from, or kNpos when pugixml cannot tell.
std::size_t element_begin(const pugi::xml_node& element) {
  std::ptrdiff_t name = element.offset_debug();
  return name > 0 ? static_cast<std::size_t>(name - 1) : kNpos;
}

// Returns the offset one past the end of the element whose start tag begins
// at 'begin' in the well-formed 'xml' (its end tag's '>', or the '>' of
// "/>"), skipping comments, CDATA and processing instructions and '>' inside
// quoted attribute values. Returns kNpos if the text ends first.
std::size_t element_end(const std::string& xml, std::size_t begin) {
  int depth = 0;
  std::size_t pos = begin;
  while (true) {
    pos = xml.find('<', pos);
    if (pos == kNpos) return kNpos;
    std::size_t skip_to = kNpos;
    if (xml.compare(pos, 4, "<!--") == 0) {
      skip_to = xml.find("-->", pos + 4);
      if (skip_to == kNpos) return kNpos;
      pos = skip_to + 3;
      continue;
    }
    if (xml.compare(pos, 9, "<![CDATA[") == 0) {
      skip_to = xml.find("]]>", pos + 9);
      if (skip_to == kNpos) return kNpos;
      pos = skip_to + 3;
      continue;
    }
    if (xml.compare(pos, 2, "<?") == 0) {
      skip_to = xml.find("?>", pos + 2);
      if (skip_to == kNpos) return kNpos;
      pos = skip_to + 2;
      continue;
    }
    if (xml.compare(pos, 2, "</") == 0) {
      skip_to = xml.find('>', pos + 2);
      if (skip_to == kNpos) return kNpos;
      pos = skip_to + 1;
      if (--depth == 0) return pos;
      continue;
    }
    char quote = 0;
    std::size_t i = pos + 1;
    for (; i < xml.size(); ++i) {
      char c = xml[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (i >= xml.size()) return kNpos;
    const bool empty_element = xml[i - 1] == '/';
    pos = i + 1;
    if (!empty_element) {
      ++depth;
    } else if (depth == 0) {
      return pos;
    }
  }
}

// Stores in 'indent' the whitespace between the start of the line holding
// 'begin' and 'begin'; returns false when something else precedes 'begin' on
// that line (the XML is not one element per line).
bool line_indent(const std::string& xml, std::size_t begin, std::string& indent) {
  std::size_t newline = begin == 0 ? kNpos : xml.rfind('\n', begin - 1);
  if (newline == kNpos) return false;
  std::string prefix = xml.substr(newline + 1, begin - newline - 1);
  if (prefix.find_first_not_of(" \t") != kNpos) return false;
  indent = std::move(prefix);
  return true;
}

// How a source interface is laid out.
struct Layout {
  bool pretty = false;     // one element per line
  std::string indent;      // the whitespace before the interface's start tag
  std::string unit = "  "; // what its children add to 'indent'
};

// Returns how the source 'iface' (starting at 'begin' in 'xml') is laid
// out; 'unit' stays two spaces when the source has no indented child.
Layout layout_of(const std::string& xml, const pugi::xml_node& iface, std::size_t begin) {
  Layout layout;
  layout.pretty = line_indent(xml, begin, layout.indent);
  if (!layout.pretty) return layout;
  pugi::xml_node first = iface.find_child([](pugi::xml_node n) { return n.type() == pugi::node_element; });
  std::size_t child_begin = first ? element_begin(first) : kNpos;
  std::string child_indent;
  if (child_begin != kNpos && line_indent(xml, child_begin, child_indent) &&
      child_indent.size() > layout.indent.size() &&
      child_indent.compare(0, layout.indent.size(), layout.indent) == 0) {
    layout.unit = child_indent.substr(layout.indent.size());
  }
  return layout;
}

// Returns how errors name the source interface 'iface' that starts at
// 'begin' in 'xml': its line and, when it has one, its target device.
std::string describe_interface(const std::string& xml, const pugi::xml_node& iface,
                               std::size_t begin) {
  std::string text = "<interface> at line " + std::to_string(line_of(xml, begin));
  std::string dev = iface.child("target").attribute("dev").value();
  if (!dev.empty()) text += " (target dev " + dev + ")";
  return text;
}

// One interface element of the source text and what replaces it.
struct Splice {
  std::size_t begin;
  std::size_t end;
  std::string text;
};

}  // namespace

StatusOr<DestXmlBridge> parse_dest_xml_bridge(const std::string& text) {
  if (text == "source") return DestXmlBridge::kSource;
  if (text == "destination") return DestXmlBridge::kDestination;
  return invalid_argument("behaviour.dest_xml_bridge: expected source or destination, got '" +
                          text + "'");
}

const char* dest_xml_bridge_name(DestXmlBridge mode) {
  switch (mode) {
    case DestXmlBridge::kSource: return "source";
    case DestXmlBridge::kDestination: return "destination";
  }
  return "source";
}

std::string interface_bridge(const Vif& vif, DestXmlBridge mode) {
  if (vif.vif_type != "bridge" && vif.vif_type != "ovs") return "";
  if (vif.vif_type == "ovs" && is_hybrid_plug(vif)) {
    return "qbr" + vif.port_id.substr(0, kDeviceIdLen);
  }
  if (mode == DestXmlBridge::kSource) return vif.network_bridge;
  auto it = vif.details.find("bridge_name");
  if (it != vif.details.end() && !it->second.empty()) return it->second;
  return vif.vif_type == "ovs" ? kOvsIntegrationBridge : vif.network_bridge;
}

StatusOr<std::string> guest_interface_xml(const Vif& vif, DestXmlBridge mode) {
  StatusOr<XmlElement> config = interface_config(vif, mode);
  if (!config.ok()) return config.status();
  std::string out;
  render(*config, "", "  ", /*pretty=*/true, out);
  return out;
}

StatusOr<std::string> update_vif_xml(const std::string& domain_xml,
                                     const std::vector<Vif>& dest_vifs, DestXmlBridge mode) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(domain_xml.data(), domain_xml.size(),
                                                  pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    const auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(parsed.offset, 0));
    return invalid_argument("malformed domain XML at line " +
                            std::to_string(line_of(domain_xml, offset)) + ", column " +
                            std::to_string(column_of(domain_xml, offset)) + " (byte offset " +
                            std::to_string(offset) + "): " + parsed.description());
  }
  pugi::xml_node domain = doc.document_element();
  if (std::string(domain.name()) != "domain") {
    return invalid_argument(std::string("not a libvirt domain XML: the root element is <") +
                            domain.name() + ">, expected <domain>");
  }

  // As nova: a dict keyed by lower-case MAC, so a later VIF with the same
  // MAC replaces an earlier one.
  std::map<std::string, const Vif*> vif_by_mac;
  for (const Vif& vif : dest_vifs) vif_by_mac[lower(vif.mac)] = &vif;

  std::vector<Splice> splices;
  for (pugi::xml_node devices : domain.children("devices")) {
    for (pugi::xml_node iface : devices.children("interface")) {
      const std::size_t begin = element_begin(iface);
      const std::size_t end = begin == kNpos ? kNpos : element_end(domain_xml, begin);
      if (end == kNpos) return internal_error("cannot locate an <interface> in the domain XML text");
      const std::string where = describe_interface(domain_xml, iface, begin);

      const std::string mac = iface.child("mac").attribute("address").value();
      if (mac.empty()) {
        return invalid_argument(where + " has no <mac address>: cannot match it to a destination VIF");
      }
      auto found = vif_by_mac.find(lower(mac));
      if (found == vif_by_mac.end()) {
        std::string known;
        for (const Vif& vif : dest_vifs) known += (known.empty() ? "" : ", ") + vif.mac;
        return invalid_argument(where + " has MAC " + mac + ", which no destination VIF has (" +
                                (known.empty() ? std::string("no VIFs given") : "VIF MACs: " + known) +
                                ")");
      }
      StatusOr<XmlElement> config = interface_config(*found->second, mode);
      if (!config.ok()) return config.status().with_context(where);

      // Everything of the source interface is replaced by the destination
      // config except the guest PCI address, and the destination's <mtu>
      // only stays when the source had one (nova: else the migration fails).
      if (!iface.child("mtu")) {
        std::erase_if(config->children, [](const XmlElement& e) { return e.name == "mtu"; });
      }
      if (pugi::xml_node address = iface.child("address")) {
        const std::size_t a_begin = element_begin(address);
        const std::size_t a_end = a_begin == kNpos ? kNpos : element_end(domain_xml, a_begin);
        if (a_end == kNpos) return internal_error(where + ": cannot locate its <address> in the text");
        config->children.push_back({"address", {}, {}, domain_xml.substr(a_begin, a_end - a_begin)});
      }

      const Layout layout = layout_of(domain_xml, iface, begin);
      Splice splice{begin, end, {}};
      render(*config, layout.indent, layout.unit, layout.pretty, splice.text);
      splices.push_back(std::move(splice));
    }
  }

  std::string out;
  out.reserve(domain_xml.size() + 256 * splices.size());
  std::size_t copied = 0;
  for (const Splice& splice : splices) {
    out.append(domain_xml, copied, splice.begin - copied);
    out += splice.text;
    copied = splice.end;
  }
  out.append(domain_xml, copied, kNpos);
  return out;
}

std::string os_vif_network_bridge(const Vif& vif, DestXmlBridge mode) {
  if (mode == DestXmlBridge::kSource) return vif.network_bridge;
  auto it = vif.details.find("bridge_name");
  if (it != vif.details.end() && !it->second.empty()) return it->second;
  return vif.vif_type == "ovs" ? "br-int" : vif.network_bridge;
}

}  // namespace lmh::core
