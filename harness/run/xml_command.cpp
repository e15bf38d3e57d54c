// `lmh xml update-vif`: VIF JSON in nova's network-model form -> core::Vif,
// then core's update_vif_xml on the given domain XML.
#include "harness/run/xml_command.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/libvirt_xml.h"
#include "core/names.h"

namespace lmh::harness {
namespace {

using nlohmann::json;

constexpr const char* kDestXmlBridgeKey = "behaviour.dest_xml_bridge";

// Reads one VIF list, naming 'source' and the JSON path of the value in
// every error.
class VifJsonReader {
 public:
  explicit VifJsonReader(std::string source) : source_(std::move(source)) {}

  // Returns the kInvalidArgument for the value at 'path'.
  Status bad(const std::string& path, const std::string& what) const {
    return invalid_argument(source_ + ": " + path + ": " + what);
  }

  // Returns the member 'key' of 'object', or nullptr when it is absent or
  // null (nova's model writes None for "not set").
  static const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
  }

  // Stores the string member 'key' of 'object' (at 'path') in 'out' when it
  // is present; fails when it is not a string, or when 'required' and it is
  // absent or empty.
  Status read_string(const json& object, const std::string& path, const char* key,
                     bool required, std::string& out) const {
    const std::string at = path + "." + key;
    const json* value = member(object, key);
    if (value == nullptr) return required ? bad(at, "missing (required)") : ok_status();
    if (!value->is_string()) {
      return bad(at, std::string("expected a string, got ") + value->type_name());
    }
    out = value->get<std::string>();
    if (required && out.empty()) return bad(at, "must not be empty");
    return ok_status();
  }

  // Stores the object member 'key' of 'object' (at 'path') in 'out', or
  // nullptr when it is absent; fails when it is not an object.
  Status read_object(const json& object, const std::string& path, const char* key,
                     const json*& out) const {
    out = member(object, key);
    if (out != nullptr && !out->is_object()) {
      return bad(path + "." + key, std::string("expected an object, got ") + out->type_name());
    }
    return ok_status();
  }

  // Returns the VIF at 'index' of the list, read from 'entry'.
  StatusOr<core::Vif> read_vif(const json& entry, std::size_t index) const {
    const std::string path = "[" + std::to_string(index) + "]";
    if (!entry.is_object()) {
      return bad(path, std::string("expected a VIF object, got ") + entry.type_name());
    }
    core::Vif vif;
    LMH_RETURN_IF_ERROR(read_string(entry, path, "id", true, vif.port_id));
    LMH_RETURN_IF_ERROR(read_string(entry, path, "address", true, vif.mac));
    if (!is_mac(vif.mac)) {
      return bad(path + ".address",
                 "'" + vif.mac + "' is not a MAC address (expected six hex pairs like fa:16:3e:92:8f:fe)");
    }
    LMH_RETURN_IF_ERROR(read_string(entry, path, "type", true, vif.vif_type));
    LMH_RETURN_IF_ERROR(read_string(entry, path, "devname", false, vif.devname));
    if (vif.devname.empty()) vif.devname = core::tap_name(vif.port_id);
    LMH_RETURN_IF_ERROR(read_string(entry, path, "vnic_type", false, vif.vnic_type));
    if (vif.vnic_type.empty()) vif.vnic_type = "normal";
    LMH_RETURN_IF_ERROR(read_string(entry, path, "ovs_interfaceid", false, vif.ovs_interfaceid));

    const json* details = nullptr;
    LMH_RETURN_IF_ERROR(read_object(entry, path, "details", details));
    if (details != nullptr) {
      for (const auto& [key, value] : details->items()) {
        if (value.is_null()) continue;
        vif.details[key] = value.is_string() ? value.get<std::string>() : value.dump();
      }
    }

    const json* network = nullptr;
    LMH_RETURN_IF_ERROR(read_object(entry, path, "network", network));
    if (network != nullptr) {
      const std::string net_path = path + ".network";
      LMH_RETURN_IF_ERROR(read_string(*network, net_path, "id", false, vif.network.id));
      LMH_RETURN_IF_ERROR(read_string(*network, net_path, "bridge", false, vif.network_bridge));
      const json* meta = nullptr;
      LMH_RETURN_IF_ERROR(read_object(*network, net_path, "meta", meta));
      if (meta != nullptr) {
        const std::string meta_path = net_path + ".meta";
        LMH_RETURN_IF_ERROR(
            read_string(*meta, meta_path, "physical_network", false, vif.network.physnet));
        if (const json* mtu = member(*meta, "mtu")) {
          if (!mtu->is_number_integer() || mtu->get<long long>() < 68 ||
              mtu->get<long long>() > 65535) {
            return bad(meta_path + ".mtu",
                       "expected an MTU (an integer from 68 to 65535), got " + mtu->dump());
          }
          vif.mtu = static_cast<int>(mtu->get<long long>());
        }
      }
    }
    return vif;
  }

 private:
  // Returns whether 'text' is a MAC address: six pairs of hex digits joined
  // by ':'.
  static bool is_mac(const std::string& text) {
    if (text.size() != 17) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const bool colon_place = i % 3 == 2;
      if (colon_place ? text[i] != ':' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
        return false;
      }
    }
    return true;
  }

  std::string source_;
};

// Reads the whole file at 'path' into 'text'; the error names the file.
Status read_file(const std::string& path, std::string& text) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return invalid_argument("cannot read " + path + ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_argument("cannot read " + path + ": " + std::strerror(errno));
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return invalid_argument("cannot read " + path + ": read error");
  return ok_status();
}

// Applies the `--set` overrides 'sets' to 'mode'.
Status apply_sets(const std::vector<std::string>& sets, core::DestXmlBridge& mode) {
  for (const std::string& set : sets) {
    const std::size_t eq = set.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid_argument("--set " + set + ": expected key=value");
    }
    const std::string key = set.substr(0, eq);
    if (key != kDestXmlBridgeKey) return invalid_argument("unknown key for lmh xml: " + key);
    StatusOr<core::DestXmlBridge> parsed = core::parse_dest_xml_bridge(set.substr(eq + 1));
    if (!parsed.ok()) return invalid_argument("--set " + parsed.status().message());
    mode = *parsed;
  }
  return ok_status();
}

// Returns the destination domain XML for the command's inputs.
StatusOr<std::string> update_vif(const std::string& domain_xml_path,
                                 const std::string& vif_json_path,
                                 const std::vector<std::string>& sets) {
  core::DestXmlBridge mode = core::DestXmlBridge::kSource;
  LMH_RETURN_IF_ERROR(apply_sets(sets, mode));
  std::string domain_xml;
  LMH_RETURN_IF_ERROR(read_file(domain_xml_path, domain_xml));
  std::string vif_json;
  LMH_RETURN_IF_ERROR(read_file(vif_json_path, vif_json));
  StatusOr<std::vector<core::Vif>> vifs = parse_vif_json(vif_json, vif_json_path);
  if (!vifs.ok()) return vifs.status();
  StatusOr<std::string> updated = core::update_vif_xml(domain_xml, *vifs, mode);
  if (!updated.ok()) return updated.status().with_context(domain_xml_path);
  return updated;
}

}  // namespace

StatusOr<std::vector<core::Vif>> parse_vif_json(const std::string& text,
                                                const std::string& source_name) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line …".
    std::string what = e.what();
    const std::size_t tag_end = what.find("] ");
    if (tag_end != std::string::npos) what = what.substr(tag_end + 2);
    return invalid_argument(source_name + ": malformed JSON (byte " + std::to_string(e.byte) +
                            "): " + what);
  } catch (const json::out_of_range& e) {
    // A number past double's range (1e999): "[json.exception.out_of_range.406]
    // number overflow parsing '1e999'", thrown outside parse_error.
    std::string what = e.what();
    const std::size_t tag_end = what.find("] ");
    if (tag_end != std::string::npos) what = what.substr(tag_end + 2);
    return invalid_argument(source_name + ": malformed JSON: " + what);
  }
  if (!doc.is_array()) {
    return invalid_argument(source_name + ": expected a JSON list of VIFs, got " +
                            doc.type_name());
  }
  VifJsonReader reader(source_name);
  std::vector<core::Vif> vifs;
  vifs.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    StatusOr<core::Vif> vif = reader.read_vif(doc[i], i);
    if (!vif.ok()) return vif.status();
    vifs.push_back(std::move(vif).value());
  }
  return vifs;
}

int xml_update_vif_command(const std::string& domain_xml_path, const std::string& vif_json_path,
                           const std::vector<std::string>& sets, std::ostream& out,
                           std::ostream& err) {
  StatusOr<std::string> updated = update_vif(domain_xml_path, vif_json_path, sets);
  if (!updated.ok()) {
    err << "lmh: " << updated.status().message() << "\n";
    return 2;
  }
  out << *updated;
  return 0;
}

}  // namespace lmh::harness
