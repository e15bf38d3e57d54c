// report.html in a real browser: a run's page rendered by headless
// Chromium (Debian's chromium, installed by make deps), its DOM after
// scripts checked against the run's own result.json, and its screenshot
// checked for what a reader must see (not blank; the gap's red).
#include <png.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "harness/system/files.h"
#include "integration_util.h"

namespace lmh::testing {
namespace {

struct Pixels {
  int width = 0, height = 0;
  std::vector<unsigned char> rgba;
};

std::optional<Pixels> read_png(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return std::nullopt;
  image.format = PNG_FORMAT_RGBA;
  Pixels p;
  p.width = static_cast<int>(image.width);
  p.height = static_cast<int>(image.height);
  p.rgba.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, p.rgba.data(), 0, nullptr)) return std::nullopt;
  return p;
}

harness::CommandResult chromium(const std::vector<std::string>& args) {
  const std::string browser = harness::find_program("chromium");
  EXPECT_FALSE(browser.empty()) << "chromium is missing: make deps installs it";
  std::vector<std::string> argv = {browser, "--headless", "--no-sandbox", "--disable-gpu",
                                   "--user-data-dir=" + ::testing::TempDir() + "lmh-chromium"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = harness::run_command(argv, std::chrono::seconds(90));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : harness::CommandResult{};
}

TEST(HtmlReport, AColdDestinationRunReadsAtAGlanceInARealBrowser) {
  LMH_REQUIRE_ROOT();
  auto run = run_lmh({scenario_path("lb-vlan-cold-destination.yaml")}, "ithtml");
  ASSERT_EQ(run.exit_code, 1) << run.err;  // the seed outage: the verdict fails
  const auto& s = run.result["scenarios"][0];
  const std::string dir = ::testing::TempDir() + "lmh-results/ithtml/";
  const std::string page = dir + "report.html";
  ASSERT_TRUE(std::filesystem::exists(page));

  const auto dom = chromium({"--dump-dom", "file://" + page});
  ASSERT_EQ(dom.exit_code, 0) << dom.err.substr(0, 2000);
  const std::string& html = dom.out;
  EXPECT_NE(html.find("id=\"s-1\" data-verdict=\"fail\""), std::string::npos);
  for (const char* lane : {"conductor", "compute.src", "compute.dst", "neutron", "agent.lb.dst", "libvirt", "guest",
                           "probes (peer)", "announces"})
    EXPECT_NE(html.find(std::string("data-lane=\"") + lane + "\""), std::string::npos) << lane;
  // The gap the page marks is the run's measured one.
  std::smatch gap;
  ASSERT_TRUE(std::regex_search(html, gap, std::regex("class=\"gap longest\" data-ms=\"([0-9.]+)\""))) << "no gap marked";
  const double marked = std::stod(gap[1]);
  EXPECT_NEAR(marked, s["metrics"]["max_gap_ms"].get<double>(), 0.1);
  EXPECT_GT(marked, 1000.0);
  // Every announce drawn (twice: switchover and whole views); none reached
  // the peer while the uplink was missing.
  const std::regex announce("class=\"announce (arrived|lost)\"");
  const auto n = std::distance(std::sregex_iterator(html.begin(), html.end(), announce), std::sregex_iterator());
  EXPECT_EQ(n, 2 * static_cast<long>(s["announces"].size()));
  EXPECT_NE(html.find("class=\"announce lost\""), std::string::npos);

  const std::string shot = ::testing::TempDir() + "ithtml.png";
  std::filesystem::remove(shot);
  const auto taken = chromium({"--screenshot=" + shot, "--window-size=1200,1400", "file://" + page});
  ASSERT_EQ(taken.exit_code, 0) << taken.err.substr(0, 2000);
  auto px = read_png(shot);
  ASSERT_TRUE(px.has_value()) << "unreadable screenshot";
  long inked = 0, gap_red = 0;
  for (size_t i = 0; i + 3 < px->rgba.size(); i += 4) {
    const int r = px->rgba[i], g = px->rgba[i + 1], b = px->rgba[i + 2];
    if (r < 240 || g < 240 || b < 240) ++inked;
    if (std::abs(r - 0xe5) < 12 && std::abs(g - 0x39) < 12 && std::abs(b - 0x35) < 12) ++gap_red;  // .gap
  }
  const long total = static_cast<long>(px->width) * px->height;
  EXPECT_GT(inked, total / 50) << "the page looks blank";
  EXPECT_GT(gap_red, 200) << "the gap is not visible";

  // lmh report --html writes the same page again from result.json.
  std::filesystem::remove(page);
  auto again = harness::run_command({LMH_BINARY, "report", dir + "result.json", "--html"}, std::chrono::seconds(30));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 0) << again->err;
  EXPECT_NE(harness::read_text_file(page).find(gap[0].str()), std::string::npos);
  EXPECT_EQ(lmh_leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace lmh::testing
