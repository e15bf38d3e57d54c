#include "harness/run/progress_line.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace lmh::harness {
namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  for (int c; (c = std::fgetc(f)) != EOF;) out += static_cast<char>(c);
  return out;
}

TEST(ProgressLine, OnATerminalTheStatusLineIsRedrawnBelowPrintedLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressLine p(f, true);
    p.set("[1/3] warm: migrate");
    EXPECT_EQ(p.render().rfind("[1/3] warm: migrate 0.", 0), 0u) << p.render();
    p.print("[1/3] warm: pass");
  }
  const std::string out = contents(f);
  // Drawn, cleared for the printed line, drawn again; cleared at the end.
  EXPECT_EQ(out.find("\r\033[K[1/3] warm: migrate 0."), 0u) << out;
  const size_t line = out.find("\r\033[K[1/3] warm: pass\n");
  ASSERT_NE(line, std::string::npos) << out;
  EXPECT_NE(out.find("[1/3] warm: migrate", line), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 4), "\r\033[K");
  std::fclose(f);
}

TEST(ProgressLine, OffItPrintsPlainLinesOnly) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressLine p(f, false);
    p.set("[1/3] warm: migrate");
    EXPECT_EQ(p.render(), "");
    p.print("[1/3] warm: pass");
  }
  EXPECT_EQ(contents(f), "[1/3] warm: pass\n");
  std::fclose(f);
}

}  // namespace
}  // namespace lmh::harness
