// Link events of one network namespace over rtnetlink (libnl-route-3): a
// NETLINK_ROUTE socket subscribed to RTNLGRP_LINK, opened inside the
// namespace (it stays bound there whatever thread reads it). The kernel
// queues RTM_NEWLINK on the socket while it creates the link, so a reader
// learns of a link before any frame can cross it. Not thread-safe: one
// thread opens it, polls fd() and calls process().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

struct nl_sock;
struct nl_msg;

namespace lmh::capture {

// A link as the monitor last saw it.
struct LinkState {
  std::string name;
  int ifindex = 0;
  bool up = false;  // administratively up (IFF_UP)
};

class LinkMonitor {
 public:
  // Called with the link's state and whether it exists (false: deleted, or
  // moved to another namespace; 'link' then holds its last state).
  using OnChange = std::function<void(const LinkState& link, bool present)>;

  // Opens the monitor in namespace 'netns_fd' (-1: the calling thread's):
  // subscribes first, then lists the links that exist, so no link created
  // in between is missed. The first process() reports the listed links.
  static StatusOr<std::unique_ptr<LinkMonitor>> open(int netns_fd);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  // Readable when notifications are queued (poll it for POLLIN).
  int fd() const;

  // Reads every queued notification without blocking and calls 'on_change'
  // once per link that appeared, vanished, was renamed or went up or down
  // since the last call. After the kernel dropped notifications (socket
  // overrun) it lists the links again and reports the difference. Returns
  // an error only when the socket is unusable.
  Status process(const OnChange& on_change);

  // The link named 'name' now ("" ifindex 0 when there is none). With
  // several (a stale notification of a removed one), the newest ifindex.
  LinkState find(const std::string& name) const;
  // The name of link 'ifindex', also after it is gone (the kernel does not
  // reuse an index soon), "" when never seen.
  std::string name_of(int ifindex) const;

 private:
  LinkMonitor(nl_sock* events, nl_sock* dump) : events_(events), dump_(dump) {}
  // Lists the links and queues the difference to known_ as changes.
  Status resync();
  // Applies one link's new state (present or not) to known_, queueing a
  // change when it differs.
  void apply(const LinkState& link, bool present);
  static int on_message(nl_msg* msg, void* self);

  nl_sock* events_;  // subscribed to RTNLGRP_LINK
  nl_sock* dump_;    // requests (the link list)
  std::map<int, LinkState> known_;
  std::map<int, std::string> names_;  // every link seen, by ifindex
  std::vector<std::pair<LinkState, bool>> changes_;  // not yet reported
};

}  // namespace lmh::capture
