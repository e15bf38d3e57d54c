#include "harness/system/netlink.h"

#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>

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

}  // namespace lmh::harness
