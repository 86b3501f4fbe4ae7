#pragma once
// A progress bar with ETA on stderr. On a terminal it redraws one line; when
// stderr is a file or pipe (CI logs) it prints a line per step instead, so logs
// stay readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace lutc::cli {

class Progress {
 public:
  Progress(std::string what, uint64_t total_work, bool enabled = true);
  ~Progress();
  // Called before starting an item of `work` units, labelled `label`.
  void start_item(const std::string& label, uint64_t work);
  void finish();

 private:
  void draw(bool final_line);
  std::string what_, label_;
  uint64_t total_, done_ = 0, pending_ = 0;
  unsigned items_ = 0;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point t0_;
};

std::string format_seconds(double s);

}  // namespace lutc::cli
