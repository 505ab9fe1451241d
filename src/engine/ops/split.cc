// Split: the input cut along `axis` into one part per output, of the sizes in `split` (an
// attribute before opset 13, an optional input from it; opset 1 also accepts the input) or
// else of equal size (the axis must divide evenly).
#include "engine/ops/movement.h"

namespace torchless::engine {

void split_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const size_t axis =
      static_cast<size_t>(norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(x.ndim()), k.node));
  if (x.ndim() == 0) fail(Error::Code::kInvalidArgument, "cannot split a scalar");
  const int64_t dim = x.shape()[axis];
  const int64_t parts = static_cast<int64_t>(k.num_outputs());
  std::vector<int64_t> split;
  if (k.node.version >= 13 || (k.node.version == 1 && k.has_input(1))) {
    if (k.has_input(1)) split = k.ints(1);
  } else {
    split = k.node.attr_ints("split");
  }
  if (split.empty()) {
    if (parts == 0 || dim % parts != 0)
      fail(Error::Code::kInvalidArgument,
           "axis of size " + std::to_string(dim) + " does not split into " + std::to_string(parts) + " equal parts");
    split.assign(static_cast<size_t>(parts), dim / parts);
  }
  if (static_cast<int64_t>(split.size()) != parts)
    fail(Error::Code::kInvalidArgument,
         "split has " + std::to_string(split.size()) + " sizes for " + std::to_string(parts) + " outputs");
  int64_t sum = 0;
  for (int64_t s : split)
    if (s < 0 || __builtin_add_overflow(sum, s, &sum))
      fail(Error::Code::kInvalidArgument, "split sizes must be non-negative");
  if (sum != dim)
    fail(Error::Code::kInvalidArgument,
         "split sizes add up to " + std::to_string(sum) + ", the axis has " + std::to_string(dim));
  const size_t es = elem_size(x);
  const int64_t outer = span_size(x.shape(), 0, axis);
  const size_t inner = static_cast<size_t>(span_size(x.shape(), axis + 1, x.ndim())) * es;
  int64_t start = 0;
  for (size_t i = 0; i < split.size(); ++i) {
    std::vector<int64_t> shape = x.shape();
    shape[axis] = split[i];
    Tensor& y = k.out(i, x.dtype(), shape);
    const size_t chunk = static_cast<size_t>(split[i]) * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(bytes(y) + static_cast<size_t>(o) * chunk, x.data() + (static_cast<size_t>(o * dim + start)) * inner,
                  chunk);
    start += split[i];
  }
}

}  // namespace torchless::engine
