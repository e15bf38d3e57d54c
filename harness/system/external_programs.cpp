#include "harness/system/external_programs.h"

namespace lmh::harness {

const std::vector<ExternalProgram>& external_programs() {
  static const std::vector<ExternalProgram> programs = {
      // Open vSwitch: the fabric and the OVS hosts.
      {"ovsdb-server", "openvswitch-common", "Open vSwitch database of the fabric and of each OVS host; OVN's databases"},
      {"ovsdb-tool", "openvswitch-common", "creates the Open vSwitch databases"},
      {"ovs-vswitchd", "openvswitch-switch", "the fabric switch and each OVS host's switch"},
      {"ovs-ofctl", "openvswitch-common", "flows of the OVS hosts' bridges"},
      {"ovs-appctl", "openvswitch-common", "the fabric's forwarding table (fdb/show), OVS hosts' underlay routes and tunnel neighbours"},
      {"ovs-vsctl", "openvswitch-switch", "libvirtd (plugs OVS interfaces), integration tests"},
      // OVN (ML2/OVN hosts): central databases and northd, one ovn-controller per chassis.
      {"ovn-northd", "ovn-central", "translates the lab's OVN northbound database to the southbound one"},
      {"ovn-controller", "ovn-host", "one OVN chassis per OVN host, over its own Open vSwitch"},
      {"ovn-appctl", "ovn-common", "ovn-northd's status (active) at start"},
      {"ovn-sbctl", "ovn-common", "reads the southbound database (chassis, port bindings)"},
      {"ovn-nbctl", "ovn-common", "reads and writes the northbound database"},
      // libvirt and QEMU: the real tier.
      {"libvirtd", "libvirt-daemon", "one libvirt daemon per lab host"},
      {"qemu-system-x86_64", "qemu-system-x86", "the real tier's guests (run by libvirtd) and the accelerator probe"},
      {"virsh", "libvirt-clients", "integration tests read a domain's state independently of lmh"},
      // The guest image (tools/build-guest-image.sh, run through sh).
      {"sh", "dash", "runs tools/build-guest-image.sh"},
      {"apt-get", "apt", "build-guest-image.sh downloads the guest kernel and busybox packages"},
      {"apt-cache", "apt", "build-guest-image.sh resolves the cloud kernel package"},
      {"dpkg-deb", "dpkg", "build-guest-image.sh unpacks the packages"},
      {"cpio", "cpio", "build-guest-image.sh packs the initramfs"},
      {"gzip", "gzip", "build-guest-image.sh compresses the initramfs"},
      {"depmod", "kmod", "build-guest-image.sh indexes the guest's modules"},
      {"sed", "sed", "build-guest-image.sh"},
      // Tests.
      {"dpkg-query", "dpkg", "the test that checks this list"},
      {"ip", "iproute2", "the kill-soak's snapshot of the root namespace (links, addresses, routes, rules)"},
      {"nft", "nftables", "the kill-soak's snapshot of the root namespace's firewall"},
      {"iptables-save", "iptables", "the kill-soak's snapshot of the root namespace's firewall (IPv4)"},
      {"ip6tables-save", "iptables", "the kill-soak's snapshot of the root namespace's firewall (IPv6)"},
      {"grep", "grep", "tests/layering.sh"},
      {"sleep", "coreutils", "process runner tests (a child that outlives its timeout)"},
      {"echo", "coreutils", "process runner tests"},
      {"chromium", "chromium", "the HTML report test renders report.html headless (DOM and screenshot)"},
  };
  return programs;
}

const ExternalProgram* external_program(std::string_view name) {
  for (const auto& p : external_programs())
    if (p.name == name) return &p;
  return nullptr;
}

Status check_external_programs(const std::vector<std::string>& argv) {
  // A path is a program lmh resolved itself (find_program) or its own binary.
  if (argv.empty() || argv[0].find('/') != std::string::npos || external_program(argv[0])) return ok_status();
  return failed_precondition("program '" + argv[0] +
                             "' is not in lmh's list of external programs (harness/system/external_programs.cpp): "
                             "add it there with its Debian package, and the package to the Makefile's DEBS");
}

}  // namespace lmh::harness
