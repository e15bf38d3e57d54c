// What every fuzz target checks besides the sanitizers: invariants of the
// code under test, each a crash (libFuzzer keeps the input) when broken.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lmh::fuzz {

// Aborts with 'what' and 'detail' on stderr unless 'ok'.
inline void check(bool ok, const char* what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// A parser may refuse any input, but only as an input error: kInternal
// marks a broken invariant of its own (STYLE.md: those assert).
inline void check_refusal(const Status& status, const char* what) {
  check(status.ok() || status.code() != StatusCode::kInternal, what, status.to_string());
}

// 'data' as text.
inline std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace lmh::fuzz
