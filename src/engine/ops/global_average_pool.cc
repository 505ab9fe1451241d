// GlobalAveragePool: the mean over all spatial dims of X [N, C, D...] -> [N, C, 1, ...].
// Accumulates in double.
#include "engine/ops/pool.h"

namespace torchless::engine {

void global_average_pool_run(Kernel& k) {
  const Window w = global_window(k.in(0).shape());
  const int64_t n = w.in_size();
  pool_planes<FloatTypes>(k, w, [&]<class T>(const T* plane, int64_t) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += load(plane[i]);
    return n ? sum / static_cast<double>(n) : 0.0;
  });
}

}  // namespace torchless::engine
