// Compress: the slices of the input along `axis` (or of the flattened input without one)
// whose entry in the 1-D bool condition is true; the condition may be shorter than the axis
// (missing entries are false) but a true entry past its end is an error. Negative axes from
// opset 11.
#include "engine/ops/movement.h"

namespace torchless::engine {

void compress_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& cond = k.in(1);
  if (cond.dtype() != DType::kBool || cond.ndim() != 1)
    fail(Error::Code::kInvalidArgument, "condition must be a 1-D bool tensor");
  const bool has_axis = k.node.attr("axis") != nullptr;
  const std::vector<int64_t> shape = has_axis ? x.shape() : std::vector<int64_t>{x.numel()};
  const size_t axis =
      has_axis ? static_cast<size_t>(norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(x.ndim()), k.node)) : 0;
  if (shape.empty()) fail(Error::Code::kInvalidArgument, "cannot compress a scalar along an axis");
  const int64_t dim = shape[axis];
  std::vector<int64_t> keep;
  const bool* c = data<bool>(cond);
  for (int64_t i = 0; i < cond.numel(); ++i)
    if (c[i]) {
      if (i >= dim)
        fail(Error::Code::kInvalidArgument,
             "condition selects index " + std::to_string(i) + " of an axis of " + std::to_string(dim));
      keep.push_back(i);
    }
  std::vector<int64_t> out = shape;
  out[axis] = static_cast<int64_t>(keep.size());
  Tensor& y = k.out(0, x.dtype(), out);
  const int64_t outer = span_size(shape, 0, axis);
  const size_t inner = static_cast<size_t>(span_size(shape, axis + 1, shape.size())) * elem_size(x);
  std::byte* dst = bytes(y);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : keep) {
      std::memcpy(dst, x.data() + static_cast<size_t>(o * dim + i) * inner, inner);
      dst += inner;
    }
}

}  // namespace torchless::engine
