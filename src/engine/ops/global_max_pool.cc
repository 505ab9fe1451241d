// GlobalMaxPool: the maximum over all spatial dims of X [N, C, D...] -> [N, C, 1, ...]
// (-inf for an empty plane).
#include <limits>

#include "engine/ops/pool.h"

namespace torchless::engine {

void global_max_pool_run(Kernel& k) {
  const Window w = global_window(k.in(0).shape());
  const int64_t n = w.in_size();
  pool_planes<FloatTypes>(k, w, [&]<class T>(const T* plane, int64_t) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i) m = std::max<double>(m, load(plane[i]));
    return m;
  });
}

}  // namespace torchless::engine
