// Concat: the inputs joined along `axis` (negative from opset 11; opset 1 defaults it to 1).
// Shapes must match except along the axis; zero-length inputs are allowed.
#include "engine/ops/movement.h"

namespace torchless::engine {

void concat_run(Kernel& k) {
  if (k.num_inputs() == 0) fail(Error::Code::kInvalidArgument, "Concat needs at least one input");
  const Tensor& first = k.in(0);
  const int64_t rank = static_cast<int64_t>(first.ndim());
  if (rank == 0) fail(Error::Code::kInvalidArgument, "cannot concatenate scalars");
  if (!k.node.attr("axis") && k.node.version >= 4) fail(Error::Code::kInvalidArgument, "axis is missing");
  const size_t axis = static_cast<size_t>(norm_axis(k.node.attr_int("axis", 1), rank, k.node));
  std::vector<int64_t> shape = first.shape();
  shape[axis] = 0;
  for (size_t i = 0; i < k.num_inputs(); ++i) {
    const Tensor& t = k.in(i);
    bool same = t.dtype() == first.dtype() && t.ndim() == first.ndim();
    for (size_t d = 0; same && d < t.ndim(); ++d) same = d == axis || t.shape()[d] == first.shape()[d];
    if (!same)
      fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " " + shape_text(t.shape()) +
                                              " does not concatenate with " + shape_text(first.shape()) +
                                              " along axis " + std::to_string(axis));
    if (__builtin_add_overflow(shape[axis], t.shape()[axis], &shape[axis]))
      fail(Error::Code::kInvalidArgument, "the concatenated axis is too long");
  }
  Tensor& y = k.out(0, first.dtype(), shape);
  const size_t es = elem_size(first);
  const int64_t outer = span_size(shape, 0, axis);
  std::byte* dst = bytes(y);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < k.num_inputs(); ++i) {
      const Tensor& t = k.in(i);
      const size_t chunk = static_cast<size_t>(span_size(t.shape(), axis, t.ndim())) * es;
      std::memcpy(dst, t.data() + static_cast<size_t>(o) * chunk, chunk);
      dst += chunk;
    }
}

}  // namespace torchless::engine
