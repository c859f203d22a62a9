// Progress of long work (dump, restore, import, export) on standard error:
// on a terminal, one line redrawn in place with a bar, the rate and the time
// left; otherwise (a log, a pipe, CI) a plain line every few seconds, so logs
// stay readable. Either way a last line gives the total.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace docket::transfer {

// Not thread-safe: one thread reports.
class Progress {
 public:
  // `total` 0: unknown (no bar, no time left). `unit`: "documents", ...
  Progress(std::string label, uint64_t total, std::string unit = "documents");
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();  // finishes if Finish was not called

  void Add(uint64_t n);
  // Sets the figures outright, for work measured elsewhere (a server's
  // index build, read from currentOp).
  void Set(uint64_t done, uint64_t total);
  // Writes the final line ("label  N documents in 1.2 s (R/s)") once.
  void Finish();

  // Settings for every Progress of the process (the commands' flags):
  // quiet writes nothing; a terminal is detected from standard error unless
  // forced; plain lines come every `plain_interval`, a terminal's line is
  // redrawn every 100 ms or `plain_interval` if shorter.
  static void Configure(bool quiet, std::chrono::milliseconds plain_interval);

 private:
  void Draw(bool final_line);

  std::string label_;
  std::string unit_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1:05" / "12.3 s" style figures, exposed for the tests.
std::string FormatDuration(double seconds);

}  // namespace docket::transfer
