// The spawner (Boost.Process): run_command's capture, exit codes, timeout,
// environment and stdin; Daemon's log file, pid file, process group, child
// set-up step and its failure. Needs no root: no network namespace here.
#include "harness/system/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pugixml.hpp>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/system/wait.h"
#include "harness/virt/libvirt_host.h"

namespace lmh::harness {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ScratchDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lmh-process-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST(RunCommand, CapturesStdoutStderrAndExitCode) {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(RunCommand, LargeOutputOnBothStreams) {
  // More than a pipe buffer on each stream: both are read while it runs.
  auto r = run_command({"sh", "-c", "head -c 200000 /dev/zero; head -c 150000 /dev/zero >&2"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.size(), 200000u);
  EXPECT_EQ(r->err.size(), 150000u);
}

TEST(RunCommand, KilledBySignalIs128PlusSignal) {
  auto r = run_command({"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
}

TEST(RunCommand, TimeoutKillsAndIsDeadlineExceeded) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_command({"sleep", "10"}, 200ms);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("sleep did not finish within 200 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(RunCommand, EnvironmentIsOursPlusExtra) {
  ::setenv("LMH_PROCESS_TEST_OURS", "inherited", 1);
  auto r = run_command({"sh", "-c", "echo $LMH_PROCESS_TEST_OURS $LMH_PROCESS_TEST_EXTRA"}, 10s,
                       {{"LMH_PROCESS_TEST_EXTRA", "added"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->out, "inherited added\n");
}

TEST(RunCommand, StdinIsDevNullAndOwnProcessGroup) {
  auto r = run_command({"sh", "-c", "cat; cut -d' ' -f5 /proc/$$/stat; echo $$"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::istringstream in(r->out);
  long pgid = 0, pid = 0;
  in >> pgid >> pid;
  EXPECT_EQ(pgid, pid) << r->out;
}

TEST(RunCommand, MissingProgramIsEnvironmentError) {
  // Listed programs are looked up in PATH; a path is taken as it is.
  auto r = run_command({"/nonexistent/lmh-no-such-program-xyz"});
  EXPECT_EQ(r.status().code(), StatusCode::kEnvironment);
  EXPECT_THAT(r.status().message(), HasSubstr("lmh-no-such-program-xyz not found"));
  EXPECT_EQ(run_command({}).status().code(), StatusCode::kInvalidArgument);
}

TEST(RunChecked, NonZeroExitIsErrorWithStderr) {
  auto r = run_checked({"sh", "-c", "echo bad thing >&2; exit 2"});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("exited 2: bad thing"));
  EXPECT_EQ(*run_checked({"echo", "fine"}), "fine\n");
}

TEST_F(ScratchDir, DaemonLogsPidFileAndStops) {
  std::string log = dir_ + "/d.log", pid_file = dir_ + "/d.pid";
  { std::ofstream(log) << "earlier\n"; }
  auto d = Daemon::start({{"sh", "-c", "echo started; echo to-stderr >&2; echo $LMH_D; exec sleep 30"},
                          -1, {{"LMH_D", "env-ok"}}, log, pid_file});
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  pid_t pid = d->pid();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(slurp(pid_file), std::to_string(pid) + "\n");
  EXPECT_EQ(::getpgid(pid), pid);
  EXPECT_TRUE(wait_until([&] { return slurp(log).find("env-ok") != std::string::npos; }, 5s));
  EXPECT_EQ(slurp(log), "earlier\nstarted\nto-stderr\nenv-ok\n");  // appended
  EXPECT_TRUE(d->running());
  d->stop();
  EXPECT_FALSE(d->running());
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_FALSE(std::filesystem::exists(pid_file));
}

TEST_F(ScratchDir, DaemonExitIsReapedAndDescribed) {
  auto d = Daemon::start({{"sh", "-c", "exit 7"}, -1, {}, dir_ + "/d.log", ""});
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(wait_until([&] { return !d->running(); }, 5s));
  EXPECT_EQ(d->how_it_ended(), "exited 7");
}

TEST_F(ScratchDir, ChildSetupRunsInTheChildBeforeExec) {
  std::string marker = dir_ + "/marker";
  int fd = -1;
  SpawnOptions o;
  o.argv = {"sh", "-c", "cat <&9"};
  o.log_path = dir_ + "/d.log";
  // Built before the spawn; the child only uses it.
  static const char kText[] = "from-child-setup\n";
  o.child_setup = [&]() -> const char* {
    fd = 9;
    int p[2];
    if (::pipe(p) != 0) return "pipe";
    if (::write(p[1], kText, sizeof kText - 1) < 0) return "write";
    ::close(p[1]);
    if (::dup2(p[0], 9) < 0) return "dup2";
    return nullptr;
  };
  auto d = Daemon::start(o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(fd, -1);  // the parent's copy was not touched
  EXPECT_TRUE(wait_until([&] { return !d->running(); }, 5s));
  EXPECT_EQ(d->how_it_ended(), "exited 0");
  EXPECT_EQ(slurp(o.log_path), kText);
}

TEST_F(ScratchDir, FailedChildSetupFailsTheSpawn) {
  SpawnOptions o;
  o.argv = {"sleep", "30"};
  o.log_path = dir_ + "/d.log";
  o.child_setup = []() -> const char* {
    errno = EPERM;
    return "the step";
  };
  auto d = Daemon::start(o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kEnvironment);
  EXPECT_THAT(d.status().message(), HasSubstr("sleep did not start: " + std::string(std::strerror(EPERM))));
  EXPECT_THAT(slurp(o.log_path), HasSubstr("lmh: the step failed, errno " + std::to_string(EPERM)));
}

TEST(GuestDomainXml, CarriesTheSpecEscaped) {
  GuestDomainSpec s;
  s.name = "g<1>&'x'";
  s.accel = "kvm";
  s.kernel = "/k";
  s.initrd = "/i";
  s.ip_cidr = "10.0.0.5/24";
  s.gateway = "10.0.0.1";
  s.mac = "52:54:00:00:00:01";
  s.bridge = "brq'1";
  s.tap = "tap1";
  s.serial_socket = "/s.sock";
  s.serial_log = "/s.log";
  std::string xml = guest_domain_xml(s);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
  pugi::xml_node d = doc.child("domain");
  EXPECT_STREQ(d.attribute("type").value(), "kvm");
  EXPECT_STREQ(d.child_value("name"), "g<1>&'x'");
  EXPECT_STREQ(d.child("memory").attribute("unit").value(), "MiB");
  EXPECT_STREQ(d.child_value("memory"), "128");
  EXPECT_STREQ(d.child("os").child_value("cmdline"), "console=ttyS0 quiet lmh.ip=10.0.0.5/24 lmh.gw=10.0.0.1");
  pugi::xml_node nic = d.child("devices").child("interface");
  EXPECT_STREQ(nic.attribute("type").value(), "bridge");
  EXPECT_STREQ(nic.child("source").attribute("bridge").value(), "brq'1");
  EXPECT_STREQ(nic.child("target").attribute("dev").value(), "tap1");
  EXPECT_STREQ(nic.child("mac").attribute("address").value(), "52:54:00:00:00:01");
  EXPECT_STREQ(nic.child("rom").attribute("enabled").value(), "no");
  EXPECT_STREQ(d.child("devices").child("serial").child("log").attribute("file").value(), "/s.log");
  EXPECT_THAT(xml, HasSubstr("<controller type='usb' model='none' />"));
  // Optional parts are left out when empty.
  s.tap.clear();
  s.mac.clear();
  s.accel = "tcg";
  std::string plain = guest_domain_xml(s);
  EXPECT_THAT(plain, HasSubstr("<domain type='qemu'>"));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("<target dev=")));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("<mac ")));
}

}  // namespace
}  // namespace lmh::harness
