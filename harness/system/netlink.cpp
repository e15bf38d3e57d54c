#include "harness/system/netlink.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include <algorithm>
#include <tuple>

#include "capture/packet.h"
#include "common/netns.h"

namespace lmh::harness {

namespace {

// RAII over libnl objects.
struct LinkPtr {
  rtnl_link* p = nullptr;
  ~LinkPtr() { if (p) rtnl_link_put(p); }
};
struct AddrPtr {
  nl_addr* p = nullptr;
  ~AddrPtr() { if (p) nl_addr_put(p); }
};
struct NeighPtr {
  rtnl_neigh* p = nullptr;
  ~NeighPtr() { if (p) rtnl_neigh_put(p); }
};
struct CachePtr {
  nl_cache* p = nullptr;
  ~CachePtr() { if (p) nl_cache_free(p); }
};

// Strict dotted IPv4 'ip' as a host address in 'out'; false when malformed.
bool ipv4_addr(const std::string& ip, AddrPtr& out) {
  auto host_order = capture::parse_ipv4(ip);
  if (!host_order) return false;
  const uint32_t net_order = htonl(*host_order);
  out.p = nl_addr_build(AF_INET, &net_order, sizeof net_order);
  return out.p != nullptr;
}

// 'mac' ("fa:16:3e:00:00:01") as a link-layer address in 'out'; false when
// malformed.
bool mac_addr(const std::string& mac, AddrPtr& out) {
  auto m = capture::parse_mac(mac);
  if (!m) return false;
  out.p = nl_addr_build(AF_LLC, m->data(), m->size());
  return out.p != nullptr;
}

// The text of a neighbour's MAC or IPv4 address 'a' ("" when it is neither).
std::string mac_text(nl_addr* a) {
  if (!a || nl_addr_get_len(a) != 6) return "";
  capture::Mac m;
  std::copy_n(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)), m.size(), m.begin());
  return capture::format_mac(m);
}
std::string ipv4_text(nl_addr* a) {
  if (!a || nl_addr_get_len(a) != 4) return "";
  uint32_t net_order;
  std::copy_n(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)), 4, reinterpret_cast<uint8_t*>(&net_order));
  return capture::format_ipv4(ntohl(net_order));
}

Status nl_status(int err, const std::string& what) {
  if (err >= 0) return ok_status();
  std::string msg = what + ": " + nl_geterror(err);
  switch (-err) {
    case NLE_EXIST: return {StatusCode::kAlreadyExists, msg};
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV: return not_found(msg);
    case NLE_PERM: return environment_error(msg);
    case NLE_OPNOTSUPP: return environment_error(msg);
    default: return internal_error(msg);
  }
}

}  // namespace

bool is_valid_ifname(const std::string& n) {
  if (n.empty() || n.size() >= IFNAMSIZ || n == "." || n == "..") return false;
  for (char c : n) if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n') return false;
  return true;
}

StatusOr<std::unique_ptr<Netlink>> Netlink::open(int netns_fd) {
  std::unique_ptr<ScopedNetns> enter;
  if (netns_fd >= 0) {
    enter = std::make_unique<ScopedNetns>(netns_fd);
    if (!enter->ok()) return enter->status();
  }
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return internal_error("nl_socket_alloc failed");
  int err = nl_connect(sk, NETLINK_ROUTE);
  if (err < 0) {
    nl_socket_free(sk);
    return nl_status(err, "netlink connect");
  }
  return std::unique_ptr<Netlink>(new Netlink(sk));
}

Netlink::~Netlink() { nl_socket_free(sk_); }

Status Netlink::create_veth(const std::string& name, const std::string& peer_name, int peer_fd) {
  if (!is_valid_ifname(name) || !is_valid_ifname(peer_name))
    return invalid_argument("bad interface name " + name + "/" + peer_name);
  rtnl_link* link = rtnl_link_veth_alloc();
  if (!link) return internal_error("rtnl_link_veth_alloc");
  rtnl_link* peer = rtnl_link_veth_get_peer(link);
  rtnl_link_set_name(link, name.c_str());
  rtnl_link_set_name(peer, peer_name.c_str());
  if (peer_fd >= 0) rtnl_link_set_ns_fd(peer, peer_fd);
  int err = rtnl_link_add(sk_, link, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);
  rtnl_link_veth_release(link);
  return nl_status(err, "create veth " + name + "/" + peer_name);
}

Status Netlink::create_bridge(const std::string& name) {
  if (!is_valid_ifname(name)) return invalid_argument("bad interface name " + name);
  return nl_status(rtnl_link_bridge_add(sk_, name.c_str()), "create bridge " + name);
}

Status Netlink::create_vlan(const std::string& name, const std::string& parent, int vid) {
  if (!is_valid_ifname(name)) return invalid_argument("bad interface name " + name);
  auto parent_index = ifindex(parent);
  if (!parent_index.ok()) return parent_index.status();
  LinkPtr link{rtnl_link_vlan_alloc()};
  if (!link.p) return internal_error("rtnl_link_vlan_alloc");
  rtnl_link_set_name(link.p, name.c_str());
  rtnl_link_set_link(link.p, *parent_index);
  rtnl_link_vlan_set_id(link.p, vid);
  return nl_status(rtnl_link_add(sk_, link.p, NLM_F_CREATE | NLM_F_EXCL), "create vlan " + name);
}

Status Netlink::create_vlan_filtering_bridge(const std::string& name) {
  // libnl has no setter for IFLA_BR_VLAN_FILTERING: build the message.
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  if (!msg) return internal_error("nlmsg_alloc");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  int err = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
  if (err >= 0) err = nla_put_string(msg, IFLA_IFNAME, name.c_str());
  nlattr* info = err >= 0 ? nla_nest_start(msg, IFLA_LINKINFO) : nullptr;
  if (info) err = nla_put_string(msg, IFLA_INFO_KIND, "bridge");
  nlattr* data = (info && err >= 0) ? nla_nest_start(msg, IFLA_INFO_DATA) : nullptr;
  if (data) {
    err = nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, 1);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
  }
  if (!data || err < 0) {
    nlmsg_free(msg);
    return internal_error("building vlan-filtering bridge message");
  }
  err = nl_send_sync(sk_, msg);  // frees msg
  return nl_status(err, "create vlan-filtering bridge " + name);
}

Status Netlink::delete_link(const std::string& name) {
  LinkPtr link{rtnl_link_alloc()};
  rtnl_link_set_name(link.p, name.c_str());
  int err = rtnl_link_delete(sk_, link.p);
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return ok_status();  // already gone
  return nl_status(err, "delete " + name);
}

namespace {
// Applies 'changes' to link 'name' on 'sk'.
Status change_link(nl_sock* sk, const std::string& name, rtnl_link* changes, const std::string& what) {
  LinkPtr orig;
  int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &orig.p);
  if (err < 0) return nl_status(err, what + " " + name);
  return nl_status(rtnl_link_change(sk, orig.p, changes, 0), what + " " + name);
}
}  // namespace

Status Netlink::set_up(const std::string& name, bool up) {
  LinkPtr changes{rtnl_link_alloc()};
  if (up) rtnl_link_set_flags(changes.p, IFF_UP);
  else rtnl_link_unset_flags(changes.p, IFF_UP);
  return change_link(sk_, name, changes.p, up ? "set up" : "set down");
}

Status Netlink::set_mac(const std::string& name, const std::string& mac) {
  AddrPtr addr;
  int err = nl_addr_parse(mac.c_str(), AF_LLC, &addr.p);
  if (err < 0) return invalid_argument("bad MAC " + mac);
  LinkPtr changes{rtnl_link_alloc()};
  rtnl_link_set_addr(changes.p, addr.p);
  return change_link(sk_, name, changes.p, "set mac " + mac + " on");
}

Status Netlink::add_address(const std::string& name, const std::string& cidr) {
  auto index = ifindex(name);
  if (!index.ok()) return index.status();
  AddrPtr local;
  int err = nl_addr_parse(cidr.c_str(), AF_INET, &local.p);
  if (err < 0) return invalid_argument("bad address " + cidr);
  rtnl_addr* addr = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(addr, *index);
  rtnl_addr_set_local(addr, local.p);
  err = rtnl_addr_add(sk_, addr, 0);
  rtnl_addr_put(addr);
  if (err == -NLE_EXIST) return ok_status();
  return nl_status(err, "add address " + cidr + " to " + name);
}

Status Netlink::set_master(const std::string& name, const std::string& master) {
  auto m = ifindex(master);
  if (!m.ok()) return m.status();
  auto s = ifindex(name);
  if (!s.ok()) return s.status();
  return nl_status(rtnl_link_enslave_ifindex(sk_, *m, *s), "enslave " + name + " to " + master);
}

Status Netlink::release(const std::string& name) {
  auto s = ifindex(name);
  if (!s.ok()) return s.status();
  return nl_status(rtnl_link_release_ifindex(sk_, *s), "release " + name);
}

StatusOr<std::string> Netlink::master_of(const std::string& name) {
  LinkPtr link;
  int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link.p);
  if (err < 0) return nl_status(err, "get " + name);
  int master = rtnl_link_get_master(link.p);
  if (master <= 0) return std::string();
  LinkPtr m;
  err = rtnl_link_get_kernel(sk_, master, nullptr, &m.p);
  if (err < 0) return nl_status(err, "get master of " + name);
  return std::string(rtnl_link_get_name(m.p));
}

bool Netlink::exists(const std::string& name) { return ifindex(name).ok(); }

StatusOr<int> Netlink::ifindex(const std::string& name) {
  LinkPtr link;
  int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link.p);
  if (err < 0) return nl_status(err, "get " + name);
  return rtnl_link_get_ifindex(link.p);
}

StatusOr<std::string> Netlink::mac_of(const std::string& name) {
  LinkPtr link;
  int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link.p);
  if (err < 0) return nl_status(err, "get " + name);
  nl_addr* addr = rtnl_link_get_addr(link.p);
  if (!addr) return not_found(name + " has no MAC address");
  char buf[64];
  return std::string(nl_addr2str(addr, buf, sizeof buf));
}

StatusOr<std::vector<std::string>> Netlink::list(const std::string& prefix) {
  nl_cache* cache = nullptr;
  int err = rtnl_link_alloc_cache(sk_, AF_UNSPEC, &cache);
  if (err < 0) return nl_status(err, "list links");
  std::vector<std::string> out;
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    const char* n = rtnl_link_get_name(reinterpret_cast<rtnl_link*>(o));
    if (n && std::string(n).rfind(prefix, 0) == 0) out.emplace_back(n);
  }
  nl_cache_free(cache);
  return out;
}

Status Netlink::move_to_netns(const std::string& name, int netns_fd) {
  LinkPtr changes{rtnl_link_alloc()};
  rtnl_link_set_ns_fd(changes.p, netns_fd);
  return change_link(sk_, name, changes.p, "move to netns");
}

// ---------------------------------------------------------------- VXLAN

Status Netlink::create_vxlan(const VxlanConfig& c) {
  if (!is_valid_ifname(c.name)) return invalid_argument("bad interface name " + c.name);
  if (c.vni > VXLAN_ID_MAX) return invalid_argument("bad VNI " + std::to_string(c.vni) + " for " + c.name);
  LinkPtr link{rtnl_link_vxlan_alloc()};
  if (!link.p) return internal_error("rtnl_link_vxlan_alloc");
  rtnl_link_set_name(link.p, c.name.c_str());
  rtnl_link_vxlan_set_id(link.p, c.vni);
  if (!c.underlay.empty()) {
    auto underlay = ifindex(c.underlay);
    if (!underlay.ok()) return underlay.status().with_context("create vxlan " + c.name);
    rtnl_link_vxlan_set_link(link.p, *underlay);
  }
  AddrPtr local, group;
  if (!c.local_ip.empty()) {
    if (!ipv4_addr(c.local_ip, local)) return invalid_argument("bad local address " + c.local_ip + " for " + c.name);
    rtnl_link_vxlan_set_local(link.p, local.p);
  }
  if (!c.group.empty()) {
    if (!ipv4_addr(c.group, group)) return invalid_argument("bad group address " + c.group + " for " + c.name);
    rtnl_link_vxlan_set_group(link.p, group.p);
  }
  rtnl_link_vxlan_set_port(link.p, c.dstport);  // libnl stores htons(port)
  if (c.proxy) rtnl_link_vxlan_set_proxy(link.p, 1);
  if (c.udp_csum) rtnl_link_vxlan_set_udp_csum(link.p, *c.udp_csum ? 1 : 0);
  return nl_status(rtnl_link_add(sk_, link.p, NLM_F_CREATE | NLM_F_EXCL), "create vxlan " + c.name);
}

namespace {

// A 'self' forwarding entry of 'ifindex': 'mac' to 'dst_ip', permanent, as
// `bridge fdb ... self permanent` sends it. false when 'mac' or 'dst_ip' is
// malformed.
bool fdb_neigh(int ifindex, const std::string& mac, const std::string& dst_ip, NeighPtr& out) {
  AddrPtr lladdr, dst;
  if (!mac_addr(mac, lladdr) || !ipv4_addr(dst_ip, dst)) return false;
  out.p = rtnl_neigh_alloc();
  if (!out.p) return false;
  rtnl_neigh_set_ifindex(out.p, ifindex);
  rtnl_neigh_set_lladdr(out.p, lladdr.p);
  rtnl_neigh_set_dst(out.p, dst.p);  // sets the family to AF_INET: set it after
  rtnl_neigh_set_family(out.p, AF_BRIDGE);
  rtnl_neigh_set_state(out.p, NUD_PERMANENT | NUD_NOARP);
  rtnl_neigh_set_flags(out.p, NTF_SELF);
  return true;
}

}  // namespace

Status Netlink::fdb_append(const std::string& device, const std::string& mac, const std::string& dst_ip) {
  const std::string what = "fdb append " + mac + " dst " + dst_ip + " on " + device;
  auto index = ifindex(device);
  if (!index.ok()) return index.status().with_context(what);
  NeighPtr n;
  if (!fdb_neigh(*index, mac, dst_ip, n)) return invalid_argument("bad MAC or address in " + what);
  return nl_status(rtnl_neigh_add(sk_, n.p, NLM_F_CREATE | NLM_F_APPEND), what);
}

Status Netlink::fdb_replace(const std::string& device, const std::string& mac, const std::string& dst_ip) {
  const std::string what = "fdb replace " + mac + " dst " + dst_ip + " on " + device;
  auto index = ifindex(device);
  if (!index.ok()) return index.status().with_context(what);
  NeighPtr n;
  if (!fdb_neigh(*index, mac, dst_ip, n)) return invalid_argument("bad MAC or address in " + what);
  // The kernel replaces only unicast macs (the all-zero and multicast ones
  // answer EOPNOTSUPP): those get the new destination appended, and lose the
  // others below.
  const capture::Mac m = *capture::parse_mac(mac);
  const bool unicast = !(m[0] & 1) && m != capture::Mac{};
  const int flags = NLM_F_CREATE | (unicast ? NLM_F_REPLACE : NLM_F_APPEND);
  LMH_RETURN_IF_ERROR(nl_status(rtnl_neigh_add(sk_, n.p, flags), what));
  auto entries = fdb_entries(device);
  if (!entries.ok()) return entries.status().with_context(what);
  // As the dump spells them ("FA:16:3E:..." is "fa:16:3e:...").
  const std::string same_mac = capture::format_mac(m);
  const std::string kept_dst = capture::format_ipv4(*capture::parse_ipv4(dst_ip));
  for (const auto& e : *entries)
    if (e.mac == same_mac && e.dst_ip != kept_dst) LMH_RETURN_IF_ERROR(fdb_delete(device, e.mac, e.dst_ip));
  return ok_status();
}

Status Netlink::fdb_delete(const std::string& device, const std::string& mac, const std::string& dst_ip) {
  const std::string what = "fdb del " + mac + " dst " + dst_ip + " on " + device;
  if (!capture::parse_mac(mac) || !capture::parse_ipv4(dst_ip)) return invalid_argument("bad MAC or address in " + what);
  auto index = ifindex(device);
  if (!index.ok()) return index.status().code() == StatusCode::kNotFound ? ok_status() : index.status();
  NeighPtr n;
  if (!fdb_neigh(*index, mac, dst_ip, n)) return internal_error("building " + what);
  int err = rtnl_neigh_delete(sk_, n.p, 0);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return ok_status();  // already gone
  return nl_status(err, what);
}

StatusOr<std::vector<VxlanFdbRecord>> Netlink::fdb_entries(const std::string& device) {
  auto index = ifindex(device);
  if (!index.ok()) return index.status().with_context("list fdb of " + device);
  // The bridge family's dump (`bridge fdb show`) lists every device's
  // entries; an AF_UNSPEC dump would list IP neighbours only.
  CachePtr cache;
  int err = nl_cache_alloc_name("route/neigh", &cache.p);
  if (err >= 0) {
    nl_cache_set_arg1(cache.p, AF_BRIDGE);
    err = nl_cache_refill(sk_, cache.p);
  }
  if (err < 0) return nl_status(err, "list fdb of " + device);
  std::vector<VxlanFdbRecord> out;
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* n = reinterpret_cast<rtnl_neigh*>(o);
    if (rtnl_neigh_get_family(n) != AF_BRIDGE || rtnl_neigh_get_ifindex(n) != *index) continue;
    if (!(rtnl_neigh_get_flags(n) & NTF_SELF)) continue;
    std::string mac = mac_text(rtnl_neigh_get_lladdr(n));
    std::string dst = ipv4_text(rtnl_neigh_get_dst(n));
    if (mac.empty() || dst.empty()) continue;
    out.push_back({std::move(mac), std::move(dst), (rtnl_neigh_get_state(n) & NUD_PERMANENT) != 0});
  }
  std::sort(out.begin(), out.end(), [](const VxlanFdbRecord& a, const VxlanFdbRecord& b) {
    return std::tie(a.mac, a.dst_ip) < std::tie(b.mac, b.dst_ip);
  });
  return out;
}

// ---------------------------------------------------------------- neighbours

Status Netlink::neigh_replace(const std::string& device, const std::string& ip, const std::string& mac) {
  const std::string what = "neigh replace " + ip + " lladdr " + mac + " on " + device;
  auto index = ifindex(device);
  if (!index.ok()) return index.status().with_context(what);
  AddrPtr dst, lladdr;
  if (!ipv4_addr(ip, dst) || !mac_addr(mac, lladdr)) return invalid_argument("bad MAC or address in " + what);
  NeighPtr n{rtnl_neigh_alloc()};
  if (!n.p) return internal_error("rtnl_neigh_alloc");
  rtnl_neigh_set_ifindex(n.p, *index);
  rtnl_neigh_set_dst(n.p, dst.p);
  rtnl_neigh_set_lladdr(n.p, lladdr.p);
  rtnl_neigh_set_state(n.p, NUD_PERMANENT);
  return nl_status(rtnl_neigh_add(sk_, n.p, NLM_F_CREATE | NLM_F_REPLACE), what);
}

Status Netlink::neigh_delete(const std::string& device, const std::string& ip) {
  const std::string what = "neigh del " + ip + " on " + device;
  AddrPtr dst;
  if (!ipv4_addr(ip, dst)) return invalid_argument("bad address in " + what);
  auto index = ifindex(device);
  if (!index.ok()) return index.status().code() == StatusCode::kNotFound ? ok_status() : index.status();
  NeighPtr n{rtnl_neigh_alloc()};
  if (!n.p) return internal_error("rtnl_neigh_alloc");
  rtnl_neigh_set_ifindex(n.p, *index);
  rtnl_neigh_set_dst(n.p, dst.p);
  int err = rtnl_neigh_delete(sk_, n.p, 0);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return ok_status();  // already gone
  return nl_status(err, what);
}

StatusOr<std::map<std::string, std::string>> Netlink::neighbours(const std::string& device) {
  auto index = ifindex(device);
  if (!index.ok()) return index.status().with_context("list neighbours of " + device);
  CachePtr cache;
  int err = rtnl_neigh_alloc_cache(sk_, &cache.p);
  if (err < 0) return nl_status(err, "list neighbours of " + device);
  std::map<std::string, std::string> out;
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* n = reinterpret_cast<rtnl_neigh*>(o);
    if (rtnl_neigh_get_family(n) != AF_INET || rtnl_neigh_get_ifindex(n) != *index) continue;
    std::string ip = ipv4_text(rtnl_neigh_get_dst(n));
    std::string mac = mac_text(rtnl_neigh_get_lladdr(n));
    if (!ip.empty() && !mac.empty()) out[ip] = mac;
  }
  return out;
}

}  // namespace lmh::harness
