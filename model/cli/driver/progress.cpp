#include "lutc/cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace lutc::cli {

std::string format_seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  }
  return buf;
}

Progress::Progress(std::string what, uint64_t total_work, bool enabled)
    : what_(std::move(what)),
      total_(total_work ? total_work : 1),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO)),
      t0_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

void Progress::start_item(const std::string& label, uint64_t work) {
  done_ += pending_;
  pending_ = work;
  label_ = label;
  ++items_;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  done_ += pending_;
  pending_ = 0;
  label_ = "done";
  draw(true);
}

void Progress::draw(bool final_line) {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double frac = double(done_) / double(total_);
  const int width = 30;
  const int filled = int(frac * width + 0.5);
  std::string bar(size_t(filled), '#');
  bar.resize(size_t(width), '.');
  std::string eta = "--";
  if (done_ > 0 && frac < 1) eta = format_seconds(elapsed / frac * (1 - frac));
  std::string label = label_;
  if (label.size() > 40) label = "..." + label.substr(label.size() - 37);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s [%s] %3d%% %s elapsed, ETA %s  %s", what_.c_str(), bar.c_str(), int(frac * 100),
                 format_seconds(elapsed).c_str(), eta.c_str(), label.c_str());
    if (final_line) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s %3d%% (%s elapsed, ETA %s) %s\n", what_.c_str(), int(frac * 100),
                 format_seconds(elapsed).c_str(), eta.c_str(), label.c_str());
  }
  std::fflush(stderr);
}

}  // namespace lutc::cli
