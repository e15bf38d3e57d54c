// Logging: spdlog's default logger, set up once by the CLI. Everything goes
// to stderr (stdout carries the summary table and results only). At the
// default level lmh logs nothing of its own below warnings; with --verbose
// it logs the run's phases at debug: lab build and teardown, every daemon
// started (with its pid) and every command spawned (with its argv).
//
// Library code logs with spdlog::debug(...) and friends directly; without
// setup_logging() (unit tests) the default logger prints nothing below info.
#pragma once

namespace lmh::harness {

// Makes the default logger write to stderr ("HH:MM:SS.mmm lmh LEVEL: text"),
// at debug level when 'verbose', else info.
void setup_logging(bool verbose);

}  // namespace lmh::harness
