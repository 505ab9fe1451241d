// A one-line progress bar on stderr for long CLI work. Drawn only when stdout and stderr are
// both terminals and the work is big enough to notice; silent otherwise (pipes, CI, --json).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace torchless::cli {

class Progress {
 public:
  // `total` units of work (bytes), shown with `label`; nothing is drawn below `min_total`.
  Progress(std::string label, uint64_t total, uint64_t min_total = uint64_t{256} << 20);
  ~Progress();  // clears the line
  void add(uint64_t done);  // `done` more units
  void set(uint64_t done);  // `done` units in all
  const std::string& label() const { return label_; }

 private:
  void draw();
  std::string label_;
  uint64_t total_, done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace torchless::cli
