// LpNormalization-1: x / ||x||_p along `axis` (default -1), p = 1 or 2 (default 2). A zero norm
// gives 0 (not NaN). Norms accumulate in double.
#include <cmath>

#include "engine/kernel.h"

namespace torchless::engine {

void lp_normalization_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t p = k.node.attr_int("p", 2);
  if (p != 1 && p != 2) fail(Error::Code::kInvalidArgument, "p must be 1 or 2, got " + std::to_string(p));
  const auto& shape = x.shape();
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t axis = norm_axis(k.node.attr_int("axis", -1), rank, k.node);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
  const int64_t len = rank ? shape[axis] : 1;
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, x.dtype(), shape);
    const T* a = data<T>(x);
    T* b = mut<T>(y);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * len * inner + i;
        double norm = 0;
        for (int64_t j = 0; j < len; ++j) {
          const double v = load(a[base + j * inner]);
          norm += p == 1 ? std::fabs(v) : v * v;
        }
        if (p == 2) norm = std::sqrt(norm);
        for (int64_t j = 0; j < len; ++j)
          b[base + j * inner] = store<T>(norm == 0 ? 0.0 : static_cast<double>(load(a[base + j * inner])) / norm);
      }
  });
}

}  // namespace torchless::engine
