// MaxPool: the maximum of each window; padding never wins, the first maximum wins ties.
// Versions: 1 (kernel/strides/pads/auto_pad), 8 (optional Indices output, storage_order),
// 10 (ceil_mode, dilations), 12 (int8/uint8). Indices (int64) flatten (n, c, spatial) in
// row-major order, or with the spatial part column-major when storage_order=1.
#include <limits>

#include "engine/ops/window.h"

namespace torchless::engine {

void max_pool_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int v = k.node.version;
  const bool ceil_mode = v >= 10 && k.node.attr_int("ceil_mode", 0) != 0;
  const Window w = window_of(k.node, x.shape(), {}, ceil_mode, v >= 10);
  const bool col_major = v >= 8 && k.node.attr_int("storage_order", 0) != 0;
  const bool want_indices = k.wants_output(1);
  if (want_indices && v < 8) fail(Error::Code::kInvalidArgument, "MaxPool-1 has no Indices output");
  std::vector<int64_t> shape{x.shape()[0], x.shape()[1]};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  // Column-major spatial strides for storage_order=1.
  std::vector<int64_t> col(w.rank(), 1);
  for (size_t d = 1; d < w.rank(); ++d) col[d] = col[d - 1] * w.in[d - 1];
  dispatch(Types<float, double, Half, BF16, int8_t, uint8_t>{}, x.dtype(), k.node, [&]<class T>() {
    using C = calc_t<T>;
    Tensor& y = k.out_uninit(0, x.dtype(), shape);
    int64_t* pi = want_indices ? mut<int64_t>(k.out_uninit(1, DType::kInt64, shape)) : nullptr;
    const T* px = data<T>(x);
    T* py = mut<T>(y);
    const int64_t planes = shape[0] * shape[1], is = w.in_size(), os = w.out_size();
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t o = 0; o < os; ++o) {
        C best = std::numeric_limits<C>::has_infinity ? -std::numeric_limits<C>::infinity()
                                                      : std::numeric_limits<C>::lowest();
        int64_t arg = -1;
        w.taps(o, [&](int64_t, int64_t xi, const std::vector<int64_t>& pos) {
          const C val = load(px[p * is + xi]);
          if (arg >= 0 && !(val > best)) return;
          best = val;
          if (col_major) {
            arg = 0;
            for (size_t d = 0; d < pos.size(); ++d) arg += pos[d] * col[d];
          } else {
            arg = xi;
          }
        });
        py[p * os + o] = store<T>(best);
        if (pi) pi[p * os + o] = p * is + std::max<int64_t>(arg, 0);
      }
  });
}

}  // namespace torchless::engine
