#include "capture/link_monitor.h"

#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include "common/netns.h"

namespace lmh::capture {
namespace {

constexpr int kEventBufferBytes = 1 << 20;  // a burst of link events (a lab being built)
constexpr int kDumpAttempts = 5;            // a dump the kernel interrupted is retried

Status nl_error(int err, const std::string& what) {
  std::string msg = "link monitor: " + what + ": " + nl_geterror(err);
  return -err == NLE_PERM ? environment_error(msg) : internal_error(msg);
}

// The state of 'link', a libnl object of the route/link cache.
LinkState state_of(rtnl_link* link) {
  LinkState s;
  const char* name = rtnl_link_get_name(link);
  s.name = name != nullptr ? name : "";
  s.ifindex = rtnl_link_get_ifindex(link);
  s.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
  return s;
}

// Whether 'obj' is a link's own message: AF_BRIDGE messages with the same
// ifindex describe its bridge port, and RTM_DELLINK of those means the port
// left a bridge, not that the link went away.
bool is_link(nl_object* obj) {
  return std::string(nl_object_get_type(obj)) == "route/link" &&
         rtnl_link_get_family(reinterpret_cast<rtnl_link*>(obj)) == AF_UNSPEC;
}

}  // namespace

StatusOr<std::unique_ptr<LinkMonitor>> LinkMonitor::open(int netns_fd) {
  std::unique_ptr<ScopedNetns> enter;
  if (netns_fd >= 0) {
    enter = std::make_unique<ScopedNetns>(netns_fd);
    if (!enter->ok()) return enter->status();
  }
  nl_sock* events = nl_socket_alloc();
  nl_sock* dump = nl_socket_alloc();
  std::unique_ptr<LinkMonitor> m;
  if (events == nullptr || dump == nullptr) {
    if (events != nullptr) nl_socket_free(events);
    if (dump != nullptr) nl_socket_free(dump);
    return internal_error("link monitor: nl_socket_alloc failed");
  }
  m.reset(new LinkMonitor(events, dump));
  // Notifications carry sequence number 0, not the socket's.
  nl_socket_disable_seq_check(events);
  nl_socket_modify_cb(events, NL_CB_VALID, NL_CB_CUSTOM, &LinkMonitor::on_message, m.get());
  if (int err = nl_connect(events, NETLINK_ROUTE); err < 0) return nl_error(err, "connect");
  if (int err = nl_connect(dump, NETLINK_ROUTE); err < 0) return nl_error(err, "connect");
  if (int err = nl_socket_set_nonblocking(events); err < 0) return nl_error(err, "non-blocking");
  (void)nl_socket_set_buffer_size(events, kEventBufferBytes, 0);  // overrun is handled anyway
  // Subscribe, then list: a link created in between is in the list, in
  // the queue, or in both (apply() makes that one change).
  if (int err = nl_socket_add_membership(events, RTNLGRP_LINK); err < 0) {
    return nl_error(err, "subscribe to RTNLGRP_LINK");
  }
  Status s = m->resync();
  if (!s.ok()) return s;
  return m;
}

LinkMonitor::~LinkMonitor() {
  nl_socket_free(events_);
  nl_socket_free(dump_);
}

int LinkMonitor::fd() const { return nl_socket_get_fd(events_); }

Status LinkMonitor::resync() {
  nl_cache* cache = nullptr;
  int err = 0;
  for (int i = 0; i < kDumpAttempts; ++i) {
    err = rtnl_link_alloc_cache(dump_, AF_UNSPEC, &cache);
    if (err != -NLE_DUMP_INTR) break;
  }
  if (err < 0) return nl_error(err, "list links");
  std::map<int, LinkState> now;
  nl_cache_foreach(
      cache,
      [](nl_object* obj, void* arg) {
        if (!is_link(obj)) return;
        LinkState s = state_of(reinterpret_cast<rtnl_link*>(obj));
        (*static_cast<std::map<int, LinkState>*>(arg))[s.ifindex] = s;
      },
      &now);
  nl_cache_free(cache);
  std::vector<LinkState> gone;
  for (const auto& [index, link] : known_)
    if (now.find(index) == now.end()) gone.push_back(link);
  for (const LinkState& link : gone) apply(link, false);
  for (const auto& [index, link] : now) apply(link, true);
  return ok_status();
}

void LinkMonitor::apply(const LinkState& link, bool present) {
  auto it = known_.find(link.ifindex);
  if (!present) {
    if (it == known_.end()) return;  // never seen (or already gone)
    changes_.emplace_back(it->second, false);
    known_.erase(it);
    return;
  }
  if (it != known_.end() && it->second.name == link.name && it->second.up == link.up) return;
  if (it != known_.end() && it->second.name != link.name) {
    changes_.emplace_back(it->second, false);  // renamed: the old name is gone
  }
  known_[link.ifindex] = link;
  names_[link.ifindex] = link.name;
  changes_.emplace_back(link, true);
}

// NL_CB_VALID of the event socket: applies one RTM_NEWLINK or RTM_DELLINK.
int LinkMonitor::on_message(nl_msg* msg, void* self) {
  auto* m = static_cast<LinkMonitor*>(self);
  int type = nlmsg_hdr(msg)->nlmsg_type;
  if (type != RTM_NEWLINK && type != RTM_DELLINK) return NL_SKIP;
  struct Parsed {
    LinkMonitor* m;
    bool present;
  } parsed{m, type == RTM_NEWLINK};
  nl_msg_parse(
      msg,
      [](nl_object* obj, void* arg) {
        if (!is_link(obj)) return;
        auto* p = static_cast<Parsed*>(arg);
        p->m->apply(state_of(reinterpret_cast<rtnl_link*>(obj)), p->present);
      },
      &parsed);
  return NL_OK;
}

Status LinkMonitor::process(const OnChange& on_change) {
  nl_cb* cb = nl_socket_get_cb(events_);
  int err = 0;
  while ((err = nl_recvmsgs_report(events_, cb)) > 0) {
  }
  nl_cb_put(cb);
  Status status;
  if (err == -NLE_NOMEM) {
    // ENOBUFS: the kernel dropped notifications; the list is the truth.
    status = resync();
  } else if (err < 0 && err != -NLE_AGAIN) {
    status = nl_error(err, "read");
  }
  // Reported only now: a callback may look the links up (find, name_of).
  std::vector<std::pair<LinkState, bool>> changes;
  changes.swap(changes_);
  for (const auto& [link, present] : changes) on_change(link, present);
  return status;
}

LinkState LinkMonitor::find(const std::string& name) const {
  LinkState best;
  for (const auto& [index, link] : known_)
    if (link.name == name && index > best.ifindex) best = link;
  return best;
}

std::string LinkMonitor::name_of(int ifindex) const {
  auto it = names_.find(ifindex);
  return it == names_.end() ? std::string() : it->second;
}

}  // namespace lmh::capture
