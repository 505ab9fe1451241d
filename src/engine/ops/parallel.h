// How the optimised elementwise and pooling kernels use threads (specs/onnx-runtime.md 1.8):
// a loop runs on the calling thread unless every thread gets at least kMinWorkPerThread units
// of work (about one element or one tap each), because a fork/join costs microseconds.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace torchless::engine {

constexpr int64_t kMinWorkPerThread = 16384;

// Calls f(lo, hi) over a split of [0, n) into contiguous ranges, one per thread used; `work`
// is the total work of the n items.
template <class F>
void parallel_ranges(int64_t n, int64_t work, int threads, F&& f) {
  const int t = threads <= 1 || omp_in_parallel()
                    ? 1
                    : static_cast<int>(std::clamp<int64_t>(std::min(n, work / kMinWorkPerThread), 1, threads));
  if (t == 1) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
#pragma omp parallel for num_threads(t) schedule(static, 1)
  for (int part = 0; part < t; ++part) {
    const int64_t lo = n * part / t, hi = n * (part + 1) / t;
    if (lo < hi) f(lo, hi);
  }
}

}  // namespace torchless::engine
