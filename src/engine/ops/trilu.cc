// Trilu: the upper (upper=1, default: column - row >= k) or lower (column - row <= k) triangle
// of each matrix in the last two dims, zeros elsewhere; k is an optional int64 scalar input.
#include "engine/ops/movement.h"

namespace torchless::engine {

void trilu_run(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.ndim() < 2) fail(Error::Code::kInvalidArgument, "Trilu needs rank >= 2");
  int64_t diag = 0;
  if (k.has_input(1)) {
    const std::vector<int64_t> v = k.ints(1);
    if (v.size() != 1) fail(Error::Code::kInvalidArgument, "k must be one value");
    diag = v[0];
  }
  const bool upper = k.node.attr_int("upper", 1) != 0;
  Tensor& y = k.out(0, x.dtype(), x.shape());
  const int64_t rows = x.shape()[x.ndim() - 2], cols = x.shape()[x.ndim() - 1];
  const int64_t mats = span_size(x.shape(), 0, x.ndim() - 2);
  const size_t es = elem_size(x);
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        if (upper ? j - i >= diag : j - i <= diag) {
          const size_t off = static_cast<size_t>((m * rows + i) * cols + j) * es;
          std::memcpy(bytes(y) + off, x.data() + off, es);
        }
}

}  // namespace torchless::engine
