// ScatterElements: a copy of data where, for each position i of indices, the element at i
// with the `axis` coordinate replaced by indices[i] (negative ones wrap) becomes updates[i],
// or is combined with it under `reduction` add/mul (opset 16). Later duplicates win.
#include "engine/ops/scatter_update.h"

namespace torchless::engine {

void scatter_elements_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& ind = k.in(1);
  const Tensor& upd = k.in(2);
  const std::vector<int64_t> idx = k.ints(1);
  const size_t rank = x.ndim();
  const size_t axis = static_cast<size_t>(norm_axis(k.node.attr_int("axis", 0), static_cast<int64_t>(rank), k.node));
  bool fits = ind.ndim() == rank && rank > 0 && upd.shape() == ind.shape();
  for (size_t d = 0; fits && d < rank; ++d) fits = d == axis || ind.shape()[d] <= x.shape()[d];
  if (!fits)
    fail(Error::Code::kInvalidArgument, "indices " + shape_text(ind.shape()) + " and updates " +
                                            shape_text(upd.shape()) + " do not fit data " + shape_text(x.shape()));
  Tensor& y = k.out(0, x.dtype(), x.shape());
  std::memcpy(bytes(y), x.data(), x.nbytes());
  const int64_t dim = x.shape()[axis];
  std::vector<int64_t> strides = strides_of(x.shape());
  const int64_t axis_stride = strides[axis];
  strides[axis] = 0;
  scatter_with(k, y, upd, scatter_reduction(k.node), [&](auto update) {
    for_each_broadcast<1>(ind.shape(), {strides}, [&](int64_t i, int64_t off) {
      update(off + wrap_index(idx[static_cast<size_t>(i)], dim) * axis_stride, i, 1);
    });
  });
}

}  // namespace torchless::engine
