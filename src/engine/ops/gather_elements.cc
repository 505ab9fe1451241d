// GatherElements: out[i...] = data[i...] with the `axis` coordinate replaced by indices[i...]
// (negative ones wrap); output shape = indices shape, same rank as data.
#include "engine/ops/movement.h"

namespace torchless::engine {

void gather_elements_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& ind = k.in(1);
  const std::vector<int64_t> idx = k.ints(1);
  const size_t rank = x.ndim();
  const size_t axis = static_cast<size_t>(norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(rank), k.node));
  bool fits = ind.ndim() == rank && rank > 0;
  for (size_t d = 0; fits && d < rank; ++d) fits = d == axis || ind.shape()[d] <= x.shape()[d];
  if (!fits)
    fail(Error::Code::kInvalidArgument,
         "indices " + shape_text(ind.shape()) + " do not fit data " + shape_text(x.shape()));
  Tensor& y = k.out(0, x.dtype(), ind.shape());
  const size_t es = elem_size(x);
  const int64_t dim = x.shape()[axis];
  std::vector<int64_t> strides = strides_of(x.shape());
  const int64_t axis_stride = strides[axis];
  strides[axis] = 0;
  for_each_broadcast<1>(ind.shape(), {strides}, [&](int64_t i, int64_t off) {
    off += wrap_index(idx[static_cast<size_t>(i)], dim) * axis_stride;
    std::memcpy(bytes(y) + static_cast<size_t>(i) * es, x.data() + static_cast<size_t>(off) * es, es);
  });
}

}  // namespace torchless::engine
