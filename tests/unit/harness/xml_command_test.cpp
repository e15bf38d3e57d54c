// `lmh xml update-vif`: VIF JSON in nova's network-model form (seed 000's
// real VIF as a vector), the --set switch, and every bad-input error with
// its exact text and exit code 2.
#include "harness/run/xml_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lmh::harness {
namespace {

using ::testing::HasSubstr;

// Seed 000's VIF, verbatim as the seed prints nova's "vif=" log line: the
// destination binding's type and details (ovs, br-int) on the source network
// model (network.bridge brq0fe9c836-58).
const std::string kSeedVif = R"json({
    "profile": {
        
    },
    "ovs_interfaceid": null,
    "preserve_on_delete": false,
    "network": {
        "bridge": "brq0fe9c836-58",
        "label": "ops-71",
        "meta": {
            "tunneled": false,
            "should_create_bridge": true,
            "tenant_id": "0088e55d8e5c44868637e0bfb3181609",
            "mtu": 1500,
            "physical_network": "provider",
            "injected": false
        },
        "id": "0fe9c836-58c5-4473-9e8c-16a1db4d16ba",
        "subnets": [
            {
                "ips": [
                    {
                        "meta": {
                            
                        },
                        "type": "fixed",
                        "version": 4,
                        "address": "x.x.71.35",
                        "floating_ips": [
                            
                        ]
                    }
                ],
                "version": 4,
                "meta": {
                    "dhcp_server": "x.x.71.4"
                },
                "dns": [
                    {
                        "meta": {
                            
                        },
                        "type": "dns",
                        "version": 4,
                        "address": "x.x.70.66"
                    },
                    {
                        "meta": {
                            
                        },
                        "type": "dns",
                        "version": 4,
                        "address": "x.x.70.92"
                    },
                    {
                        "meta": {
                            
                        },
                        "type": "dns",
                        "version": 4,
                        "address": "x.x.70.95"
                    }
                ],
                "routes": [
                    
                ],
                "cidr": "x.x.71.0/24",
                "gateway": {
                    "meta": {
                        
                    },
                    "type": "gateway",
                    "version": 4,
                    "address": "x.x.71.1"
                }
            }
        ]
    },
    "devname": "tapcfcfd97b-b5",
    "qbh_params": null,
    "vnic_type": "normal",
    "meta": {
        
    },
    "details": {
        "port_filter": true,
        "bridge_name": "br-int",
        "datapath_type": "system",
        "ovs_hybrid_plug": false
    },
    "address": "fa:16:3e:74:0a:5f",
    "active": false,
    "type": "ovs",
    "id": "4e6f8e26-6b81-4f03-81b5-02fb510660a1",
    "qbg_params": null
})json";
const std::string kSeedVifList = "[" + kSeedVif + "]";

// Returns the error message of parsing 'text' as "vifs.json".
std::string error_of(const std::string& text) {
  auto vifs = parse_vif_json(text, "vifs.json");
  if (vifs.ok()) return "OK";
  EXPECT_EQ(vifs.status().code(), StatusCode::kInvalidArgument);
  return vifs.status().message();
}

// A minimal valid VIF entry with 'extra' members appended.
std::string vif_with(const std::string& extra) {
  return R"([{"id": "b1542e7b-8311-4c1e-9a57-3e0d6f1c2a90", "address": "fa:16:3e:5c:21:07", )"
         R"("type": "ovs")" + extra + "}]";
}

TEST(ParseVifJson, ReadsSeed000sVif) {
  auto vifs = parse_vif_json(kSeedVifList, "vifs.json");
  ASSERT_TRUE(vifs.ok()) << vifs.status().to_string();
  ASSERT_EQ(vifs->size(), 1u);
  const core::Vif& v = vifs->front();
  EXPECT_EQ(v.port_id, "4e6f8e26-6b81-4f03-81b5-02fb510660a1");
  EXPECT_EQ(v.mac, "fa:16:3e:74:0a:5f");
  EXPECT_EQ(v.vif_type, "ovs");
  EXPECT_EQ(v.details, (std::map<std::string, std::string>{{"port_filter", "true"},
                                                            {"bridge_name", "br-int"},
                                                            {"datapath_type", "system"},
                                                            {"ovs_hybrid_plug", "false"}}));
  EXPECT_EQ(v.devname, "tapcfcfd97b-b5");
  EXPECT_EQ(v.vnic_type, "normal");
  EXPECT_EQ(v.ovs_interfaceid, "");
  EXPECT_EQ(v.network.id, "0fe9c836-58c5-4473-9e8c-16a1db4d16ba");
  EXPECT_EQ(v.network.physnet, "provider");
  EXPECT_EQ(v.network_bridge, "brq0fe9c836-58");
  EXPECT_EQ(v.mtu, 1500);
}

TEST(ParseVifJson, DefaultsAndValueConversion) {
  auto vifs = parse_vif_json(
      vif_with(R"(, "devname": null, "ovs_interfaceid": "x-1", "details": {"mtu": 1450, )"
               R"("ovs_hybrid_plug": true, "bound_drivers": {"0": "openvswitch"}, )"
               R"("datapath_type": null}, "network": {"bridge": null, "meta": {}})"),
      "vifs.json");
  ASSERT_TRUE(vifs.ok()) << vifs.status().to_string();
  const core::Vif& v = vifs->front();
  EXPECT_EQ(v.devname, "tapb1542e7b-83");
  EXPECT_EQ(v.vnic_type, "normal");
  EXPECT_EQ(v.ovs_interfaceid, "x-1");
  EXPECT_EQ(v.details, (std::map<std::string, std::string>{
                           {"mtu", "1450"},
                           {"ovs_hybrid_plug", "true"},
                           {"bound_drivers", R"({"0":"openvswitch"})"}}));
  EXPECT_EQ(v.network_bridge, "");
  EXPECT_FALSE(v.mtu.has_value());
  auto empty = parse_vif_json("[]", "vifs.json");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseVifJson, StructureErrorsNameTheIndexAndKey) {
  EXPECT_EQ(error_of(R"({"id": "x"})"), "vifs.json: expected a JSON list of VIFs, got object");
  EXPECT_EQ(error_of(vif_with("").substr(0, vif_with("").size() - 1) + R"(, "oops"])"),
            "vifs.json: [1]: expected a VIF object, got string");
  EXPECT_EQ(error_of(R"([{"address": "fa:16:3e:5c:21:07", "type": "ovs"}])"),
            "vifs.json: [0].id: missing (required)");
  EXPECT_EQ(error_of(R"([{"id": 7, "address": "fa:16:3e:5c:21:07", "type": "ovs"}])"),
            "vifs.json: [0].id: expected a string, got number");
  EXPECT_EQ(error_of(R"([{"id": "p", "address": "fa:16:3e:5c:21:07", "type": ""}])"),
            "vifs.json: [0].type: must not be empty");
  EXPECT_EQ(error_of(R"([{"id": "p", "address": "fa:16:3e:5c:21", "type": "ovs"}])"),
            "vifs.json: [0].address: 'fa:16:3e:5c:21' is not a MAC address (expected six hex "
            "pairs like fa:16:3e:92:8f:fe)");
  EXPECT_EQ(error_of(vif_with(R"(, "details": ["bridge_name"])")),
            "vifs.json: [0].details: expected an object, got array");
  EXPECT_EQ(error_of(vif_with(R"(, "network": {"bridge": 5})")),
            "vifs.json: [0].network.bridge: expected a string, got number");
  EXPECT_EQ(error_of(vif_with(R"(, "network": {"meta": {"mtu": "1500"}})")),
            "vifs.json: [0].network.meta.mtu: expected an MTU (an integer from 68 to 65535), "
            "got \"1500\"");
  EXPECT_EQ(error_of(vif_with(R"(, "network": {"meta": {"mtu": 0}})")),
            "vifs.json: [0].network.meta.mtu: expected an MTU (an integer from 68 to 65535), "
            "got 0");
  EXPECT_EQ(error_of(vif_with(R"(, "network": {"meta": 1})")),
            "vifs.json: [0].network.meta: expected an object, got number");
}

TEST(ParseVifJson, SyntaxErrorsGiveNlohmannsPosition) {
  EXPECT_EQ(error_of("[{\"id\": \"p\",\n \"type\" \"ovs\"}]"),
            "vifs.json: malformed JSON (byte 26): parse error at line 2, column 13: syntax error "
            "while parsing object separator - unexpected string literal; expected ':'");
  EXPECT_EQ(error_of(""),
            "vifs.json: malformed JSON (byte 1): parse error at line 1, column 1: syntax error "
            "while parsing value - unexpected end of input; expected '[', '{', or a literal");
}

// nlohmann throws a number past double's range as out_of_range, not as a
// parse_error (found by fuzz_xml_update_vif: it ended the program).
TEST(ParseVifJson, NumberOverflowIsMalformedJson) {
  EXPECT_EQ(error_of(vif_with(R"(, "network": {"meta": {"mtu": -7e1157}})")),
            "vifs.json: malformed JSON: number overflow parsing '-7e1157'");
  EXPECT_EQ(error_of("[1e999]"), "vifs.json: malformed JSON: number overflow parsing '1e999'");
}

// ---- the command ------------------------------------------------------------

const std::string kDomain = R"(<domain type='kvm'>
  <name>instance-00002e02</name>
  <devices>
    <disk type='file' device='disk'>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='FA:16:3E:74:0A:5F'/>
      <source bridge='brq0fe9c836-58'/>
      <target dev='tapcfcfd97b-b5'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
  </devices>
</domain>
)";

// Returns kDomain's destination XML with 'bridge' in <source bridge>.
std::string dest_domain(const std::string& bridge) {
  return R"(<domain type='kvm'>
  <name>instance-00002e02</name>
  <devices>
    <disk type='file' device='disk'>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='fa:16:3e:74:0a:5f'/>
      <model type='virtio'/>
      <source bridge=')" + bridge + R"('/>
      <target dev='tapcfcfd97b-b5'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='4e6f8e26-6b81-4f03-81b5-02fb510660a1'/>
      </virtualport>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
  </devices>
</domain>
)";
}

class XmlCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("lmh_xml_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    domain_ = write("domain.xml", kDomain);
    vifs_ = write("vifs.json", kSeedVifList);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes 'text' to 'name' in the test's directory; returns its path.
  std::string write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Runs the command; stores its output and error text.
  int run(const std::vector<std::string>& sets, const std::string& domain = "",
          const std::string& vifs = "") {
    out_.str("");
    err_.str("");
    return xml_update_vif_command(domain.empty() ? domain_ : domain, vifs.empty() ? vifs_ : vifs,
                                  sets, out_, err_);
  }

  std::filesystem::path dir_;
  std::string domain_;
  std::string vifs_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(XmlCommandTest, DefaultIsAsShippedTheSourceBridge) {
  EXPECT_EQ(run({}), 0);
  EXPECT_EQ(out_.str(), dest_domain("brq0fe9c836-58"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(XmlCommandTest, DestinationSwitchNamesBrInt) {
  EXPECT_EQ(run({"behaviour.dest_xml_bridge=destination"}), 0);
  EXPECT_EQ(out_.str(), dest_domain("br-int"));
  EXPECT_EQ(run({"behaviour.dest_xml_bridge=destination", "behaviour.dest_xml_bridge=source"}), 0);
  EXPECT_EQ(out_.str(), dest_domain("brq0fe9c836-58"));
}

TEST_F(XmlCommandTest, BadOverridesExitTwo) {
  EXPECT_EQ(run({"behaviour.pre_plug_vlan_uplink=true"}), 2);
  EXPECT_EQ(err_.str(), "lmh: unknown key for lmh xml: behaviour.pre_plug_vlan_uplink\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(run({"behaviour.dest_xml_bridge=dst"}), 2);
  EXPECT_EQ(err_.str(),
            "lmh: --set behaviour.dest_xml_bridge: expected source or destination, got 'dst'\n");
  EXPECT_EQ(run({"behaviour.dest_xml_bridge"}), 2);
  EXPECT_EQ(err_.str(), "lmh: --set behaviour.dest_xml_bridge: expected key=value\n");
}

TEST_F(XmlCommandTest, UnreadableFilesAreNamed) {
  const std::string missing = (dir_ / "missing.xml").string();
  EXPECT_EQ(run({}, missing), 2);
  EXPECT_EQ(err_.str(), "lmh: cannot read " + missing + ": No such file or directory\n");
  EXPECT_EQ(run({}, "", dir_.string()), 2);
  EXPECT_EQ(err_.str(), "lmh: cannot read " + dir_.string() + ": it is a directory\n");
}

TEST_F(XmlCommandTest, BadJsonNamesTheFile) {
  std::string bad = write("bad.json", R"([{"id": "p", "type": "ovs"}])");
  EXPECT_EQ(run({}, "", bad), 2);
  EXPECT_EQ(err_.str(), "lmh: " + bad + ": [0].address: missing (required)\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(XmlCommandTest, BadXmlNamesTheFile) {
  std::string bad = write("bad.xml", "<domain>\n  <devices>\n</domain>\n");
  EXPECT_EQ(run({}, bad), 2);
  EXPECT_EQ(err_.str(), "lmh: " + bad +
                            ": malformed domain XML at line 3, column 3 (byte offset 23): "
                            "Start-end tags mismatch\n");
}

TEST_F(XmlCommandTest, UnmatchedMacNamesTheInterface) {
  std::string other = write("other.json", vif_with(""));
  EXPECT_EQ(run({}, "", other), 2);
  EXPECT_EQ(err_.str(), "lmh: " + domain_ +
                            ": <interface> at line 7 (target dev tapcfcfd97b-b5) has MAC "
                            "FA:16:3E:74:0A:5F, which no destination VIF has (VIF MACs: "
                            "fa:16:3e:5c:21:07)\n");
}

}  // namespace
}  // namespace lmh::harness
