#include "hub/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace insitu::hub {

std::string format_bytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 4) {
    bytes /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, uint64_t start, bool enabled)
    : label_(std::move(label)),
      total_(total),
      start_(start),
      done_(start),
      enabled_(enabled && isatty(STDERR_FILENO)),
      begin_(std::chrono::steady_clock::now()),
      last_draw_(begin_) {
  if (enabled_) draw(false);
}

ProgressBar::~ProgressBar() {
  // An aborted transfer leaves its last line; end it so the error message starts cleanly.
  if (enabled_ && !finished_) std::fputc('\n', stderr);
}

void ProgressBar::advance(uint64_t bytes) {
  done_ += bytes;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  draw(true);
  std::fputc('\n', stderr);
  finished_ = true;
}

void ProgressBar::draw(bool final) {
  constexpr int kWidth = 24;
  const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(frac * kWidth + (final ? 0.5 : 0.0));
  std::string bar(static_cast<size_t>(std::min(filled, kWidth)), '#');
  bar.resize(kWidth, '.');
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  const double rate = secs > 0 ? static_cast<double>(done_ - start_) / secs : 0.0;
  std::fprintf(stderr, "\r%-32.32s [%s] %3d%% %s / %s  %s/s\x1b[K", label_.c_str(), bar.c_str(),
               static_cast<int>(frac * 100.0), format_bytes(static_cast<double>(done_)).c_str(),
               format_bytes(static_cast<double>(total_)).c_str(), format_bytes(rate).c_str());
  std::fflush(stderr);
}

}  // namespace insitu::hub
