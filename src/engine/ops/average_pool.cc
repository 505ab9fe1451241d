// AveragePool: the mean of each window (window.h geometry, no dilations before opset 19).
// count_include_pad (7+) divides by the taps inside the padded input instead of the real ones;
// ceil_mode from 10. Version 1 has neither. Accumulates in double.
#include "engine/ops/pool.h"

namespace torchless::engine {

void average_pool_run(Kernel& k) {
  const bool ceil_mode = k.node.version >= 10 && k.node.attr_int("ceil_mode", 0) != 0;
  const bool include_pad = k.node.version >= 7 && k.node.attr_int("count_include_pad", 0) != 0;
  const Window w = window_of(k.node, k.in(0).shape(), {}, ceil_mode, false);
  pool_planes<FloatTypes>(k, w, [&]<class T>(const T* plane, int64_t o) {
    double sum = 0;
    int64_t count = 0;
    w.taps(o, [&](int64_t, int64_t x, const std::vector<int64_t>&) {
      sum += load(plane[x]);
      ++count;
    });
    if (include_pad) count = w.padded_taps(o);
    return count ? sum / static_cast<double>(count) : 0.0;
  });
}

}  // namespace torchless::engine
