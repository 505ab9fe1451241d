// ConstantOfShape: a tensor of the given shape (1-D int64 input, may contain 0) filled with
// the one-element `value` attribute, whose dtype it takes (default float32 0).
#include "engine/ops/movement.h"

namespace torchless::engine {

void constant_of_shape_run(Kernel& k) {
  const std::vector<int64_t> shape = k.ints(0);
  const Attr* value = k.node.attr("value");
  if (value && (value->type != Attr::Type::kTensor || value->t.numel() != 1))
    fail(Error::Code::kInvalidArgument, "value must be a tensor of one element");
  Tensor& y = k.out(0, value ? value->t.dtype() : DType::kFloat32, shape);
  if (!value) return;
  const size_t es = elem_size(y);
  const std::byte* v = value->t.data();
  const int64_t n = y.numel();
  for (int64_t i = 0; i < n; ++i) std::memcpy(bytes(y) + static_cast<size_t>(i) * es, v, es);
}

}  // namespace torchless::engine
