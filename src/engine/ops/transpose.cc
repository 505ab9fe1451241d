// Transpose: out[i_0, ..., i_{r-1}] = x[...] with out dim d = x dim perm[d]; perm defaults to
// the reversed axes.
#include "engine/ops/movement.h"

namespace torchless::engine {

void transpose_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t rank = static_cast<int64_t>(x.ndim());
  std::vector<int64_t> perm = k.node.attr_ints("perm");
  if (!k.node.attr("perm"))
    for (int64_t d = rank; d-- > 0;) perm.push_back(d);
  if (static_cast<int64_t>(perm.size()) != rank)
    fail(Error::Code::kInvalidArgument,
         "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(rank));
  perm = norm_axes(std::move(perm), rank, k.node);
  const std::vector<int64_t> in_strides = strides_of(x.shape());
  std::vector<int64_t> shape, strides;
  for (int64_t p : perm) {
    shape.push_back(x.shape()[static_cast<size_t>(p)]);
    strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  Tensor& y = k.out(0, x.dtype(), shape);
  strided_copy(bytes(y), x.data(), elem_size(x), shape, strides);
}

}  // namespace torchless::engine
