#include "tools/docket/transfer/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace docket::transfer {
namespace {

bool g_quiet = false;
std::chrono::milliseconds g_plain_interval{5000};
constexpr std::chrono::milliseconds kTerminalInterval{100};
constexpr int kBarWidth = 24;

bool ToTerminal() { return isatty(STDERR_FILENO) == 1; }

std::string Rate(double per_second) {
  char text[32];
  std::snprintf(text, sizeof text, per_second >= 100 ? "%.0f/s" : "%.1f/s", per_second);
  return text;
}

}  // namespace

std::string FormatDuration(double seconds) {
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else {
    const long total = std::lround(seconds);
    if (total >= 3600)
      std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
    else
      std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

void Progress::Configure(bool quiet, std::chrono::milliseconds plain_interval) {
  g_quiet = quiet;
  g_plain_interval = plain_interval;
}

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t n) {
  done_ += n;
  if (g_quiet) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < (ToTerminal() ? std::min(kTerminalInterval, g_plain_interval) : g_plain_interval)) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Set(uint64_t done, uint64_t total) {
  total_ = total;
  done_ = done;
  Add(0);  // draws when it is time
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!g_quiet) Draw(true);
}

void Progress::Draw(bool final_line) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  std::string line = label_ + "  ";
  if (final_line) {
    line += std::to_string(done_) + " " + unit_ + " in " + FormatDuration(seconds);
    if (seconds > 0) line += " (" + Rate(rate) + ")";
  } else {
    if (total_ > 0) {
      const double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
      const int filled = static_cast<int>(fraction * kBarWidth);
      line += "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "]  ";
      char percent[16];
      std::snprintf(percent, sizeof percent, "%.1f%%", fraction * 100);
      line += std::to_string(done_) + "/" + std::to_string(total_) + " " + unit_ + " (" + percent + ")  " + Rate(rate);
      if (rate > 0 && done_ < total_)
        line += "  ETA " + FormatDuration(static_cast<double>(total_ - done_) / rate);
    } else {
      line += std::to_string(done_) + " " + unit_ + "  " + Rate(rate);
    }
  }
  if (ToTerminal()) {
    // \r and clear-to-end-of-line: the line is redrawn in place.
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace docket::transfer
