// OneHot: a new axis `axis` (default -1, of the output's rank) of length depth, holding
// values[1] (on) where it equals the index and values[0] (off) elsewhere. Indices (any numeric
// type, truncated) in [-depth, depth) wrap; others give all-off rows. depth is a numeric scalar.
#include "engine/ops/movement.h"

namespace torchless::engine {

void one_hot_run(Kernel& k) {
  const Tensor& ind = k.in(0);
  const double depth_value = k.scalar(1);
  const Tensor& values = k.in(2);
  if (values.numel() != 2) fail(Error::Code::kInvalidArgument, "values must hold [off, on]");
  if (!(depth_value >= 1 && depth_value < 9.2e18)) fail(Error::Code::kInvalidArgument, "depth must be positive");
  const int64_t depth = static_cast<int64_t>(depth_value);
  const int64_t rank = static_cast<int64_t>(ind.ndim()) + 1;
  const size_t axis = static_cast<size_t>(norm_axis(k.node.attr_int("axis", -1), rank, k.node));
  std::vector<int64_t> idx(static_cast<size_t>(ind.numel()));
  dispatch(NumericTypes{}, ind.dtype(), k.node, [&]<class T>() {
    for (size_t i = 0; i < idx.size(); ++i) {
      const double v = static_cast<double>(load(data<T>(ind)[i]));
      idx[i] = v >= -static_cast<double>(depth) && v < static_cast<double>(depth) ? static_cast<int64_t>(v) : depth;
    }
  });
  std::vector<int64_t> shape = ind.shape();
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(axis), depth);
  Tensor& y = k.out(0, values.dtype(), shape);
  const size_t es = elem_size(values);
  const std::byte* off = values.data();
  const std::byte* on = values.data() + es;
  const int64_t outer = span_size(ind.shape(), 0, axis);
  const int64_t inner = span_size(ind.shape(), axis, ind.ndim());
  std::byte* dst = bytes(y);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t d = 0; d < depth; ++d)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t v = idx[static_cast<size_t>(o * inner + i)];
        if (v < 0) v += depth;
        std::memcpy(dst, v == d ? on : off, es);
        dst += es;
      }
}

}  // namespace torchless::engine
