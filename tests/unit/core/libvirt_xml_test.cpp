// The libvirt driver's XML logic: guest interface configs per vif type and
// the live-migration destination XML (nova's _update_vif_xml), with seed
// 000's LB -> OVS case under both `behaviour.dest_xml_bridge` values.
#include "core/libvirt_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lmh::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Seed 000's VIF as nova's get_dest_vif() hands it to get_config: the
// destination binding's type and details (ovs, br-int) on the source network
// model (network.bridge = the linuxbridge bridge).
Vif seed_vif() {
  Vif v;
  v.port_id = "4e6f8e26-6b81-4f03-81b5-02fb510660a1";
  v.mac = "fa:16:3e:74:0a:5f";
  v.vif_type = "ovs";
  v.details = {{"port_filter", "true"},
               {"bridge_name", "br-int"},
               {"datapath_type", "system"},
               {"ovs_hybrid_plug", "false"}};
  v.devname = "tapcfcfd97b-b5";
  v.network.id = "0fe9c836-58c5-4473-9e8c-16a1db4d16ba";
  v.network_bridge = "brq0fe9c836-58";
  v.mtu = 1500;
  return v;
}

// A second port of the guest, bound hybrid (iptables_hybrid firewall) on the
// destination; its source model still names its LB bridge.
Vif hybrid_vif() {
  Vif v;
  v.port_id = "b1542e7b-8311-4c1e-9a57-3e0d6f1c2a90";
  v.mac = "fa:16:3e:5c:21:07";
  v.vif_type = "ovs";
  v.details = {{"port_filter", "true"}, {"bridge_name", "br-int"}, {"ovs_hybrid_plug", "true"}};
  v.devname = "tapb1542e7b-83";
  v.network.id = "5d0c1f3a-7e21-4b8c-9d0e-1f2a3b4c5d6e";
  v.network_bridge = "brq5d0c1f3a-7e";
  v.mtu = 1450;
  return v;
}

// A linuxbridge binding: vif_type bridge.
Vif bridge_vif() {
  Vif v;
  v.port_id = "cfcfd97b-b530-4b53-81d9-920097311fec";
  v.mac = "fa:16:3e:92:8f:fe";
  v.vif_type = "bridge";
  v.details = {{"port_filter", "true"}};
  v.devname = "tapcfcfd97b-b5";
  v.network.id = "0fe9c836-58c5-4473-9e8c-16a1db4d16ba";
  v.network_bridge = "brq0fe9c836-58";
  v.mtu = 1500;
  return v;
}

// A source domain (virsh dumpxml --migratable style) with two LB taps, the
// first with an <mtu>, the second with an upper-case MAC and none.
const std::string kHead = R"(<domain type='kvm'>
  <name>instance-00002e02</name>
  <uuid>41948c89-c320-4512-b002-90227d422c59</uuid>
  <memory unit='KiB'>4194304</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-rhel7.6.0'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/libexec/qemu-kvm</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/nova/instances/41948c89-c320-4512-b002-90227d422c59/disk'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <!-- port 4e6f8e26 on network-71 -->
)";
const std::string kIface1 = R"(    <interface type='bridge'>
      <mac address='fa:16:3e:74:0a:5f'/>
      <source bridge='brq0fe9c836-58'/>
      <target dev='tapcfcfd97b-b5'/>
      <model type='virtio'/>
      <mtu size='1500'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>)";
const std::string kIface2 = R"(    <interface type="bridge">
      <mac address="FA:16:3E:5C:21:07"/>
      <source bridge="brq5d0c1f3a-7e"/>
      <target dev="tapb1542e7b-83"/>
      <model type="virtio"/>
      <address type="pci" domain="0x0000" bus="0x00" slot="0x05" function="0x0"/>
    </interface>)";
const std::string kTail = R"(
    <serial type='pty'>
      <log file='/var/lib/nova/instances/41948c89-c320-4512-b002-90227d422c59/console.log' append='off'/>
      <target type='isa-serial' port='0'/>
    </serial>
    <graphics type='vnc' port='-1' autoport='yes' listen='10.0.0.39'>
      <listen type='address' address='10.0.0.39'/>
    </graphics>
    <video>
      <model type='cirrus' vram='16384' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </video>
    <memballoon model='virtio'>
      <stats period='10'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
    </memballoon>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>
)";
const std::string kDomain = kHead + kIface1 + "\n" + kIface2 + kTail;

// Interface 2 on the destination: hybrid, so qbr and no virtualport; no
// <mtu> because the source had none; its PCI address copied as written.
const std::string kIface2Dest = R"(    <interface type='bridge'>
      <mac address='fa:16:3e:5c:21:07'/>
      <model type='virtio'/>
      <source bridge='qbrb1542e7b-83'/>
      <target dev='tapb1542e7b-83'/>
      <address type="pci" domain="0x0000" bus="0x00" slot="0x05" function="0x0"/>
    </interface>)";

// Returns interface 1 on the destination with <source bridge='bridge'>.
std::string iface1_dest(const std::string& bridge) {
  return R"(    <interface type='bridge'>
      <mac address='fa:16:3e:74:0a:5f'/>
      <model type='virtio'/>
      <source bridge=')" + bridge + R"('/>
      <mtu size='1500'/>
      <target dev='tapcfcfd97b-b5'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='4e6f8e26-6b81-4f03-81b5-02fb510660a1'/>
      </virtualport>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>)";
}

// Returns the message of the error 'result' holds, expecting kInvalidArgument.
template <typename T>
std::string error_of(const StatusOr<T>& result) {
  if (result.ok()) return "OK";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  return result.status().message();
}

// Returns update_vif_xml's output, failing the test on error.
std::string updated(const std::string& xml, const std::vector<Vif>& vifs, DestXmlBridge mode) {
  auto out = update_vif_xml(xml, vifs, mode);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return out.ok() ? *out : "";
}

// ---- behaviour switch -------------------------------------------------------

TEST(DestXmlBridge, ParsesBothValues) {
  EXPECT_EQ(*parse_dest_xml_bridge("source"), DestXmlBridge::kSource);
  EXPECT_EQ(*parse_dest_xml_bridge("destination"), DestXmlBridge::kDestination);
  EXPECT_STREQ(dest_xml_bridge_name(DestXmlBridge::kSource), "source");
  EXPECT_STREQ(dest_xml_bridge_name(DestXmlBridge::kDestination), "destination");
}

TEST(DestXmlBridge, RejectsOtherValues) {
  EXPECT_EQ(error_of(parse_dest_xml_bridge("dest")),
            "behaviour.dest_xml_bridge: expected source or destination, got 'dest'");
  EXPECT_EQ(error_of(parse_dest_xml_bridge("Source")),
            "behaviour.dest_xml_bridge: expected source or destination, got 'Source'");
}

// ---- interface_bridge -------------------------------------------------------

TEST(InterfaceBridge, SeedPlainOvsTakesTheSourceBridgeAsShipped) {
  EXPECT_EQ(interface_bridge(seed_vif(), DestXmlBridge::kSource), "brq0fe9c836-58");
  EXPECT_EQ(interface_bridge(seed_vif(), DestXmlBridge::kDestination), "br-int");
}

TEST(InterfaceBridge, PlainOvsWithoutBridgeNameDefaultsToBrInt) {
  Vif v = seed_vif();
  v.details.erase("bridge_name");
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kDestination), "br-int");
  v.details["bridge_name"] = "br-int2";
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kDestination), "br-int2");
}

TEST(InterfaceBridge, HybridIsTheQbrOfThePortInBothModes) {
  EXPECT_EQ(interface_bridge(hybrid_vif(), DestXmlBridge::kSource), "qbrb1542e7b-83");
  EXPECT_EQ(interface_bridge(hybrid_vif(), DestXmlBridge::kDestination), "qbrb1542e7b-83");
  Vif v = hybrid_vif();
  v.details["ovs_hybrid_plug"] = "True";  // Python's spelling
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kSource), "qbrb1542e7b-83");
}

TEST(InterfaceBridge, BridgeTypeUsesDetailsBridgeNameOnlyWhenFixed) {
  Vif v = bridge_vif();
  v.network_bridge = "brq-from-source";
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kSource), "brq-from-source");
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kDestination), "brq-from-source");
  v.details["bridge_name"] = "brq0fe9c836-58";
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kSource), "brq-from-source");
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kDestination), "brq0fe9c836-58");
}

TEST(InterfaceBridge, OtherVifTypesHaveNone) {
  Vif v = bridge_vif();
  v.vif_type = "macvtap";
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kSource), "");
  EXPECT_EQ(interface_bridge(v, DestXmlBridge::kDestination), "");
}

// ---- guest_interface_xml ----------------------------------------------------

TEST(GuestInterfaceXml, SeedPlainOvsAsShippedNamesTheLinuxBridge) {
  auto xml = guest_interface_xml(seed_vif(), DestXmlBridge::kSource);
  ASSERT_TRUE(xml.ok()) << xml.status().to_string();
  EXPECT_EQ(*xml, R"(<interface type='bridge'>
  <mac address='fa:16:3e:74:0a:5f'/>
  <model type='virtio'/>
  <source bridge='brq0fe9c836-58'/>
  <mtu size='1500'/>
  <target dev='tapcfcfd97b-b5'/>
  <virtualport type='openvswitch'>
    <parameters interfaceid='4e6f8e26-6b81-4f03-81b5-02fb510660a1'/>
  </virtualport>
</interface>)");
}

TEST(GuestInterfaceXml, SeedPlainOvsFixedNamesBrInt) {
  auto xml = guest_interface_xml(seed_vif(), DestXmlBridge::kDestination);
  ASSERT_TRUE(xml.ok()) << xml.status().to_string();
  EXPECT_THAT(*xml, HasSubstr("\n  <source bridge='br-int'/>\n"));
  EXPECT_THAT(*xml, HasSubstr("<virtualport type='openvswitch'>"));
}

TEST(GuestInterfaceXml, OvsInterfaceIdWinsOverPortId) {
  Vif v = seed_vif();
  v.ovs_interfaceid = "11111111-2222-3333-4444-555555555555";
  auto xml = guest_interface_xml(v, DestXmlBridge::kDestination);
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(*xml, HasSubstr("<parameters interfaceid='11111111-2222-3333-4444-555555555555'/>"));
}

TEST(GuestInterfaceXml, HybridHasQbrAndNoVirtualport) {
  auto xml = guest_interface_xml(hybrid_vif(), DestXmlBridge::kDestination);
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(*xml, R"(<interface type='bridge'>
  <mac address='fa:16:3e:5c:21:07'/>
  <model type='virtio'/>
  <source bridge='qbrb1542e7b-83'/>
  <mtu size='1450'/>
  <target dev='tapb1542e7b-83'/>
</interface>)");
}

TEST(GuestInterfaceXml, LinuxBridgeHasNoVirtualportAndMtuOnlyWhenSet) {
  Vif v = bridge_vif();
  v.mtu.reset();
  auto xml = guest_interface_xml(v, DestXmlBridge::kSource);
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(*xml, R"(<interface type='bridge'>
  <mac address='fa:16:3e:92:8f:fe'/>
  <model type='virtio'/>
  <source bridge='brq0fe9c836-58'/>
  <target dev='tapcfcfd97b-b5'/>
</interface>)");
}

TEST(GuestInterfaceXml, MissingDevnameFallsBackToNovasNicName) {
  Vif v = bridge_vif();
  v.devname.clear();
  auto xml = guest_interface_xml(v, DestXmlBridge::kSource);
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(*xml, HasSubstr("<target dev='niccfcfd97b-b5'/>"));
}

TEST(GuestInterfaceXml, AttributeValuesAreEscaped) {
  Vif v = bridge_vif();
  v.network_bridge = "a'b&c<d";
  auto xml = guest_interface_xml(v, DestXmlBridge::kSource);
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(*xml, HasSubstr("<source bridge='a&apos;b&amp;c&lt;d'/>"));
}

TEST(GuestInterfaceXml, UnsupportedVifTypeIsNamed) {
  Vif v = seed_vif();
  v.vif_type = "vhostuser";
  EXPECT_EQ(error_of(guest_interface_xml(v, DestXmlBridge::kSource)),
            "vif 4e6f8e26-6b81-4f03-81b5-02fb510660a1: unsupported vif type 'vhostuser' (lmh "
            "builds guest interfaces for vif types bridge and ovs)");
}

TEST(GuestInterfaceXml, UnsupportedVnicTypeIsNamed) {
  Vif v = seed_vif();
  v.vnic_type = "direct";
  EXPECT_EQ(error_of(guest_interface_xml(v, DestXmlBridge::kSource)),
            "vif 4e6f8e26-6b81-4f03-81b5-02fb510660a1: unsupported vnic_type 'direct' (lmh "
            "builds guest interfaces for vnic_type normal)");
}

TEST(GuestInterfaceXml, NoBridgeIsAnError) {
  Vif v = bridge_vif();
  v.network_bridge.clear();
  EXPECT_EQ(error_of(guest_interface_xml(v, DestXmlBridge::kSource)),
            "vif cfcfd97b-b530-4b53-81d9-920097311fec: no bridge for <source bridge>: "
            "network.bridge is empty");
  EXPECT_EQ(error_of(guest_interface_xml(v, DestXmlBridge::kDestination)),
            "vif cfcfd97b-b530-4b53-81d9-920097311fec: no bridge for <source bridge>: "
            "network.bridge is empty and vif_details has no bridge_name");
}

// ---- update_vif_xml: seed 000 -----------------------------------------------

TEST(UpdateVifXml, SeedAsShippedKeepsTheBrqBridgeWithAnOvsVirtualport) {
  std::string out = updated(kDomain, {seed_vif(), hybrid_vif()}, DestXmlBridge::kSource);
  EXPECT_EQ(out, kHead + iface1_dest("brq0fe9c836-58") + "\n" + kIface2Dest + kTail);
  // The bug: an LB bridge name in an openvswitch interface.
  EXPECT_THAT(out, HasSubstr("<source bridge='brq0fe9c836-58'/>\n      <mtu size='1500'/>\n"
                             "      <target dev='tapcfcfd97b-b5'/>\n"
                             "      <virtualport type='openvswitch'>"));
}

TEST(UpdateVifXml, SeedFixedNamesBrInt) {
  std::string out = updated(kDomain, {seed_vif(), hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_EQ(out, kHead + iface1_dest("br-int") + "\n" + kIface2Dest + kTail);
  EXPECT_THAT(out, Not(HasSubstr("brq0fe9c836-58")));
  EXPECT_THAT(out, Not(HasSubstr("brq5d0c1f3a-7e")));
}

TEST(UpdateVifXml, EverythingOutsideTheInterfacesIsByteIdentical) {
  std::string out = updated(kDomain, {seed_vif(), hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_EQ(out.substr(0, kHead.size()), kHead);
  EXPECT_EQ(out.substr(out.size() - kTail.size()), kTail);
  EXPECT_THAT(out, HasSubstr("    <disk type='file' device='disk'>\n"
                             "      <driver name='qemu' type='qcow2' cache='none'/>\n"));
  EXPECT_THAT(out, HasSubstr("    <graphics type='vnc' port='-1' autoport='yes' listen='10.0.0.39'>\n"
                             "      <listen type='address' address='10.0.0.39'/>\n"
                             "    </graphics>\n"));
  EXPECT_THAT(out, HasSubstr("<!-- port 4e6f8e26 on network-71 -->"));
  // Nova drops everything of the source interface but its address.
  EXPECT_THAT(out, Not(HasSubstr("<alias name='net0'/>")));
}

TEST(UpdateVifXml, LinuxBridgeToLinuxBridgeKeepsTheBridge) {
  Vif v = bridge_vif();
  v.mac = "fa:16:3e:74:0a:5f";
  std::string out = updated(kDomain, {v, hybrid_vif()}, DestXmlBridge::kSource);
  EXPECT_THAT(out, HasSubstr(R"(    <interface type='bridge'>
      <mac address='fa:16:3e:74:0a:5f'/>
      <model type='virtio'/>
      <source bridge='brq0fe9c836-58'/>
      <mtu size='1500'/>
      <target dev='tapcfcfd97b-b5'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
)"));
}

// ---- update_vif_xml: MTU and address, as nova -------------------------------

TEST(UpdateVifXml, MtuIsTheDestinationsWhenTheSourceHadOne) {
  Vif v = seed_vif();
  v.mtu = 1450;
  std::string out = updated(kDomain, {v, hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_THAT(out, HasSubstr("<source bridge='br-int'/>\n      <mtu size='1450'/>\n"));
  EXPECT_THAT(out, Not(HasSubstr("<mtu size='1500'/>")));
}

TEST(UpdateVifXml, NoMtuWhenTheDestinationHasNone) {
  Vif v = seed_vif();
  v.mtu.reset();
  std::string out = updated(kDomain, {v, hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_THAT(out, Not(HasSubstr("<mtu")));
}

TEST(UpdateVifXml, NoMtuWhenTheSourceHadNone) {
  // hybrid_vif has mtu 1450 but interface 2 of the source has no <mtu>.
  std::string out = updated(kDomain, {seed_vif(), hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_THAT(out, Not(HasSubstr("1450")));
}

TEST(UpdateVifXml, InterfaceWithoutAddressGetsNone) {
  const std::string xml =
      "<domain>\n  <devices>\n    <interface type='ethernet'>\n"
      "      <mac address='fa:16:3e:92:8f:fe'/>\n    </interface>\n  </devices>\n</domain>\n";
  Vif v = bridge_vif();
  v.mtu.reset();
  EXPECT_EQ(updated(xml, {v}, DestXmlBridge::kSource),
            "<domain>\n  <devices>\n    <interface type='bridge'>\n"
            "      <mac address='fa:16:3e:92:8f:fe'/>\n      <model type='virtio'/>\n"
            "      <source bridge='brq0fe9c836-58'/>\n      <target dev='tapcfcfd97b-b5'/>\n"
            "    </interface>\n  </devices>\n</domain>\n");
}

// ---- update_vif_xml: matching -----------------------------------------------

TEST(UpdateVifXml, MacsMatchCaseInsensitivelyAndTheVifsMacIsWritten) {
  Vif upper = seed_vif();
  upper.mac = "FA:16:3E:74:0A:5F";
  std::string out = updated(kDomain, {upper, hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_THAT(out, HasSubstr("<mac address='FA:16:3E:74:0A:5F'/>"));
  // Interface 2 is upper case in the domain and lower case in the VIF.
  EXPECT_THAT(out, HasSubstr("<mac address='fa:16:3e:5c:21:07'/>"));
  EXPECT_THAT(out, Not(HasSubstr("FA:16:3E:5C:21:07")));
}

TEST(UpdateVifXml, VifsWithoutAnInterfaceAreIgnoredAndOrderComesFromTheDomain) {
  Vif extra = bridge_vif();
  extra.mac = "fa:16:3e:00:00:01";
  std::string out =
      updated(kDomain, {hybrid_vif(), extra, seed_vif()}, DestXmlBridge::kDestination);
  EXPECT_EQ(out, kHead + iface1_dest("br-int") + "\n" + kIface2Dest + kTail);
}

TEST(UpdateVifXml, TheLastVifWithAMacWinsAsInNova) {
  Vif first = bridge_vif();
  first.mac = "fa:16:3e:74:0a:5f";
  std::string out =
      updated(kDomain, {first, seed_vif(), hybrid_vif()}, DestXmlBridge::kDestination);
  EXPECT_THAT(out, HasSubstr("<source bridge='br-int'/>"));
}

TEST(UpdateVifXml, InterfaceWithoutMacIsNamed) {
  const std::string xml =
      "<domain>\n  <devices>\n    <interface type='bridge'>\n"
      "      <source bridge='brq0fe9c836-58'/>\n      <target dev='tapcfcfd97b-b5'/>\n"
      "    </interface>\n  </devices>\n</domain>\n";
  EXPECT_EQ(error_of(update_vif_xml(xml, {seed_vif()}, DestXmlBridge::kSource)),
            "<interface> at line 3 (target dev tapcfcfd97b-b5) has no <mac address>: cannot "
            "match it to a destination VIF");
  const std::string empty_mac =
      "<domain><devices><interface type='bridge'><mac address=''/></interface></devices></domain>";
  EXPECT_EQ(error_of(update_vif_xml(empty_mac, {seed_vif()}, DestXmlBridge::kSource)),
            "<interface> at line 1 has no <mac address>: cannot match it to a destination VIF");
}

TEST(UpdateVifXml, MacWithoutVifIsNamed) {
  EXPECT_EQ(error_of(update_vif_xml(kDomain, {seed_vif()}, DestXmlBridge::kDestination)),
            "<interface> at line 28 (target dev tapb1542e7b-83) has MAC FA:16:3E:5C:21:07, which "
            "no destination VIF has (VIF MACs: fa:16:3e:74:0a:5f)");
  EXPECT_EQ(error_of(update_vif_xml(kDomain, {}, DestXmlBridge::kDestination)),
            "<interface> at line 19 (target dev tapcfcfd97b-b5) has MAC fa:16:3e:74:0a:5f, which "
            "no destination VIF has (no VIFs given)");
}

TEST(UpdateVifXml, UnsupportedDestinationVifNamesTheInterface) {
  Vif v = seed_vif();
  v.vif_type = "macvtap";
  EXPECT_EQ(error_of(update_vif_xml(kDomain, {v, hybrid_vif()}, DestXmlBridge::kSource)),
            "<interface> at line 19 (target dev tapcfcfd97b-b5): vif "
            "4e6f8e26-6b81-4f03-81b5-02fb510660a1: unsupported vif type 'macvtap' (lmh builds "
            "guest interfaces for vif types bridge and ovs)");
}

// ---- update_vif_xml: layout -------------------------------------------------

TEST(UpdateVifXml, CompactXmlStaysCompact) {
  const std::string xml =
      "<domain><devices><disk type='file'/><interface type='bridge'>"
      "<mac address='fa:16:3e:74:0a:5f'/><source bridge='brq0fe9c836-58'/><mtu size='1500'/>"
      "<address type='pci' slot='0x03'/></interface></devices></domain>";
  EXPECT_EQ(updated(xml, {seed_vif()}, DestXmlBridge::kDestination),
            "<domain><devices><disk type='file'/><interface type='bridge'>"
            "<mac address='fa:16:3e:74:0a:5f'/><model type='virtio'/>"
            "<source bridge='br-int'/><mtu size='1500'/><target dev='tapcfcfd97b-b5'/>"
            "<virtualport type='openvswitch'>"
            "<parameters interfaceid='4e6f8e26-6b81-4f03-81b5-02fb510660a1'/></virtualport>"
            "<address type='pci' slot='0x03'/></interface></devices></domain>");
}

TEST(UpdateVifXml, FollowsTheSourcesIndentation) {
  const std::string xml =
      "<domain>\n\t<devices>\n\t\t<interface type='bridge'>\n"
      "\t\t\t<mac address='fa:16:3e:5c:21:07'/>\n\t\t</interface>\n\t</devices>\n</domain>";
  EXPECT_EQ(updated(xml, {hybrid_vif()}, DestXmlBridge::kSource),
            "<domain>\n\t<devices>\n\t\t<interface type='bridge'>\n"
            "\t\t\t<mac address='fa:16:3e:5c:21:07'/>\n\t\t\t<model type='virtio'/>\n"
            "\t\t\t<source bridge='qbrb1542e7b-83'/>\n\t\t\t<target dev='tapb1542e7b-83'/>\n"
            "\t\t</interface>\n\t</devices>\n</domain>");
}

TEST(UpdateVifXml, CommentsAndAngleBracketsInsideInterfacesAreSkipped) {
  const std::string xml =
      "<domain>\n  <devices>\n    <interface type='bridge'>\n"
      "      <!-- </interface> -->\n      <mac address='fa:16:3e:5c:21:07'/>\n"
      "      <filterref filter='a>b'/>\n      <![CDATA[</interface>]]>\n"
      "      <address type='pci' slot='0x05'/>\n    </interface><!--after-->\n"
      "    <interface type='network'/>\n  </devices>\n</domain>\n";
  Vif other = bridge_vif();
  other.mac = "fa:16:3e:00:00:02";
  // The second interface has no MAC: the first was replaced whole first.
  EXPECT_EQ(error_of(update_vif_xml(xml, {hybrid_vif(), other}, DestXmlBridge::kSource)),
            "<interface> at line 10 has no <mac address>: cannot match it to a destination VIF");
  const std::string one = xml.substr(0, xml.find("\n    <interface type='network'/>")) +
                          "\n  </devices>\n</domain>\n";
  EXPECT_EQ(updated(one, {hybrid_vif()}, DestXmlBridge::kSource),
            "<domain>\n  <devices>\n    <interface type='bridge'>\n"
            "      <mac address='fa:16:3e:5c:21:07'/>\n      <model type='virtio'/>\n"
            "      <source bridge='qbrb1542e7b-83'/>\n      <target dev='tapb1542e7b-83'/>\n"
            "      <address type='pci' slot='0x05'/>\n    </interface><!--after-->\n"
            "  </devices>\n</domain>\n");
}

TEST(UpdateVifXml, OnlyDevicesInterfacesAreRewritten) {
  const std::string xml =
      "<domain>\n  <metadata>\n    <interface type='bridge'><mac address='fa:16:3e:99:99:99'/>"
      "</interface>\n  </metadata>\n  <devices/>\n</domain>\n";
  EXPECT_EQ(updated(xml, {}, DestXmlBridge::kDestination), xml);
}

// ---- update_vif_xml: bad input ----------------------------------------------

TEST(UpdateVifXml, MalformedXmlGivesPugixmlsDescriptionAndPosition) {
  const std::string xml =
      "<domain>\n  <devices>\n    <interface type='bridge'>\n  </devices>\n</domain>\n";
  EXPECT_EQ(error_of(update_vif_xml(xml, {}, DestXmlBridge::kSource)),
            "malformed domain XML at line 4, column 5 (byte offset 55): Start-end tags mismatch");
  EXPECT_EQ(error_of(update_vif_xml("<domain type='kvm>\n</domain>", {}, DestXmlBridge::kSource)),
            "malformed domain XML at line 1, column 15 (byte offset 14): Error parsing element "
            "attribute");
  EXPECT_EQ(error_of(update_vif_xml("", {}, DestXmlBridge::kSource)),
            "malformed domain XML at line 1, column 1 (byte offset 0): No document element found");
}

TEST(UpdateVifXml, RootMustBeADomain) {
  EXPECT_EQ(error_of(update_vif_xml("<network><name>default</name></network>", {},
                                    DestXmlBridge::kSource)),
            "not a libvirt domain XML: the root element is <network>, expected <domain>");
}

}  // namespace
}  // namespace lmh::core
