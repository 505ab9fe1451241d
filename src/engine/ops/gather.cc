// Gather: slices of data along `axis` picked by indices of any rank (negative ones wrap);
// output shape data[:axis] + indices + data[axis+1:].
#include "engine/ops/movement.h"

namespace torchless::engine {

void gather_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const std::vector<int64_t> idx = k.ints(1);
  const size_t axis =
      static_cast<size_t>(norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(x.ndim()), k.node));
  if (x.ndim() == 0) fail(Error::Code::kInvalidArgument, "cannot gather from a scalar");
  const int64_t dim = x.shape()[axis];
  std::vector<int64_t> shape(x.shape().begin(), x.shape().begin() + static_cast<std::ptrdiff_t>(axis));
  shape.insert(shape.end(), k.in(1).shape().begin(), k.in(1).shape().end());
  shape.insert(shape.end(), x.shape().begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.shape().end());
  std::vector<int64_t> wrapped(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) wrapped[i] = wrap_index(idx[i], dim);
  Tensor& y = k.out(0, x.dtype(), shape);
  const size_t es = elem_size(x);
  const int64_t outer = span_size(x.shape(), 0, axis);
  const size_t inner = static_cast<size_t>(span_size(x.shape(), axis + 1, x.ndim())) * es;
  std::byte* dst = bytes(y);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : wrapped) {
      std::memcpy(dst, x.data() + static_cast<size_t>(o * dim + i) * inner, inner);
      dst += inner;
    }
}

}  // namespace torchless::engine
