#include "harness/system/namespaces.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "harness/system/netlink.h"

namespace lmh::harness {

namespace {

std::string path_of(const std::string& name) { return std::string(kNetnsDir) + "/" + name; }

// /run/netns must be a shared mount so namespaces mounted there are visible
// to other mount namespaces (what iproute2 does).
Status prepare_netns_dir() {
  if (::mkdir(kNetnsDir, 0755) != 0 && errno != EEXIST)
    return environment_error(std::string("mkdir ") + kNetnsDir + ": " + std::strerror(errno));
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return ok_status();
  if (errno != EINVAL) return environment_error(std::string("mount --make-shared ") + kNetnsDir + ": " + std::strerror(errno));
  if (::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0)
    return environment_error(std::string("bind mount ") + kNetnsDir + ": " + std::strerror(errno));
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0)
    return environment_error(std::string("mount --make-shared ") + kNetnsDir + ": " + std::strerror(errno));
  return ok_status();
}

}  // namespace

StatusOr<NamedNetns> NamedNetns::create(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return invalid_argument("bad namespace name " + name);
  LMH_RETURN_IF_ERROR(prepare_netns_dir());
  std::string path = path_of(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL, 0);
  if (fd < 0) {
    if (errno == EEXIST) return Status(StatusCode::kAlreadyExists, "namespace " + name + " exists");
    return environment_error("create " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  // unshare() changes only the calling thread's namespace: do it on a
  // short-lived thread so ours stays where it is.
  Status result;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = environment_error(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      result = environment_error("bind mount namespace " + name + ": " + std::strerror(errno));
    }
  }).join();
  if (!result.ok()) {
    ::unlink(path.c_str());
    return result;
  }
  NamedNetns ns;
  ns.name_ = name;
  auto nsfd = NetnsFd::open_named(name);
  if (!nsfd.ok()) {
    (void)delete_named_netns(name);
    return nsfd.status();
  }
  ns.fd_ = std::move(nsfd).value();
  auto nl = Netlink::open(ns.fd());
  if (!nl.ok()) return nl.status();
  LMH_RETURN_IF_ERROR((*nl)->set_up("lo"));
  return ns;
}

NamedNetns::NamedNetns(NamedNetns&& o) noexcept : name_(std::move(o.name_)), fd_(std::move(o.fd_)) {
  o.name_.clear();
}

NamedNetns& NamedNetns::operator=(NamedNetns&& o) noexcept {
  if (this != &o) {
    destroy();
    name_ = std::move(o.name_);
    fd_ = std::move(o.fd_);
    o.name_.clear();
  }
  return *this;
}

NamedNetns::~NamedNetns() { destroy(); }

void NamedNetns::destroy() {
  fd_.reset();
  if (!name_.empty()) (void)delete_named_netns(name_);
  name_.clear();
}

Status delete_named_netns(const std::string& name) {
  std::string path = path_of(name);
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return environment_error("umount " + path + ": " + std::strerror(errno));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return environment_error("unlink " + path + ": " + std::strerror(errno));
  return ok_status();
}

std::vector<std::string> list_named_netns(const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(kNetnsDir);
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace lmh::harness
