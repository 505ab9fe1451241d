// Tile: the input repeated repeats[d] times along each axis d. Opset 6+ takes a repeats input
// with one entry per axis; opset 1 takes scalar `tiles` and `axis` inputs (one axis).
#include "engine/ops/movement.h"

namespace torchless::engine {

void tile_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const size_t rank = x.ndim();
  std::vector<int64_t> repeats(rank, 1);
  if (k.node.version < 6) {
    const size_t axis =
        static_cast<size_t>(norm_axis(static_cast<int64_t>(k.scalar(2)), static_cast<int64_t>(rank), k.node));
    if (rank == 0) fail(Error::Code::kInvalidArgument, "cannot tile a scalar along an axis");
    repeats[axis] = static_cast<int64_t>(k.scalar(1));
  } else {
    repeats = k.ints(1);
  }
  if (repeats.size() != rank)
    fail(Error::Code::kInvalidArgument,
         "repeats has " + std::to_string(repeats.size()) + " entries for rank " + std::to_string(rank));
  std::vector<int64_t> shape(rank);
  for (size_t d = 0; d < rank; ++d)
    if (repeats[d] < 0 || __builtin_mul_overflow(x.shape()[d], repeats[d], &shape[d]))
      fail(Error::Code::kInvalidArgument, "repeats " + shape_text(repeats) + " are negative or too large");
  Tensor& y = k.out(0, x.dtype(), shape);
  const int64_t n = y.numel();
  const size_t es = elem_size(x);
  const std::vector<int64_t> strides = strides_of(x.shape());
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < rank; ++d) off += (idx[d] % x.shape()[d]) * strides[d];
    std::memcpy(bytes(y) + static_cast<size_t>(i) * es, x.data() + static_cast<size_t>(off) * es, es);
    next_index(idx, shape);
  }
}

}  // namespace torchless::engine
