#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace torchless::cli {

Progress::Progress(std::string label, uint64_t total, uint64_t min_total)
    : label_(std::move(label)), total_(total),
      enabled_(total >= min_total && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {}

Progress::~Progress() {
  if (enabled_) std::fprintf(stderr, "\r\033[K");
}

void Progress::add(uint64_t done) { set(done_ + done); }

void Progress::set(uint64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && done_ < total_) return;
  last_ = now;
  draw();
}

void Progress::draw() {
  constexpr int kWidth = 30;
  const double f = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int fill = static_cast<int>(f * kWidth);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < fill ? '#' : '.';
  bar[kWidth] = '\0';
  std::fprintf(stderr, "\r%s [%s] %3.0f%%  %.1f / %.1f MiB", label_.c_str(), bar, f * 100,
               static_cast<double>(done_) / (1 << 20), static_cast<double>(total_) / (1 << 20));
  std::fflush(stderr);
}

}  // namespace torchless::cli
