// A one-line download progress bar on stderr: file name, bytes done / total, rate. Drawn only
// when enabled and stderr is a terminal, at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace insitu::hub {

class ProgressBar {
 public:
  // `start` bytes are already present (a resumed download) and do not count toward the rate.
  ProgressBar(std::string label, uint64_t total, uint64_t start, bool enabled);
  ~ProgressBar();
  void advance(uint64_t bytes);
  void finish();  // final redraw and newline

 private:
  void draw(bool final);
  std::string label_;
  uint64_t total_, start_, done_;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point begin_, last_draw_;
};

// "1.5 MB", "12.0 GB": decimal units, as the hub's web pages show sizes.
std::string format_bytes(double bytes);

}  // namespace insitu::hub
