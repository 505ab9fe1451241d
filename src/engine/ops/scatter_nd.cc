// ScatterND: a copy of data where each index tuple of length m = indices.shape[-1] (negative
// entries wrap) addresses a slice data[i_0, ..., i_{m-1}] that becomes the matching slice of
// updates (shape indices.shape[:-1] + data.shape[m:]), or is combined with it under
// `reduction` add/mul (opset 16).
#include "engine/ops/scatter_update.h"

namespace torchless::engine {

void scatter_nd_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& ind = k.in(1);
  const Tensor& upd = k.in(2);
  const std::vector<int64_t> idx = k.ints(1);
  if (ind.ndim() < 1) fail(Error::Code::kInvalidArgument, "indices must have rank >= 1");
  const int64_t m = ind.shape().back();
  if (m < 1 || m > static_cast<int64_t>(x.ndim()))
    fail(Error::Code::kInvalidArgument,
         "index tuples of length " + std::to_string(m) + " do not fit data " + shape_text(x.shape()));
  std::vector<int64_t> want(ind.shape().begin(), ind.shape().end() - 1);
  want.insert(want.end(), x.shape().begin() + m, x.shape().end());
  if (upd.shape() != want)
    fail(Error::Code::kInvalidArgument,
         "updates have shape " + shape_text(upd.shape()) + ", expected " + shape_text(want));
  Tensor& y = k.out(0, x.dtype(), x.shape());
  std::memcpy(bytes(y), x.data(), x.nbytes());
  const std::vector<int64_t> strides = strides_of(x.shape());
  const int64_t slice = span_size(x.shape(), static_cast<size_t>(m), x.ndim());
  const int64_t tuples = static_cast<int64_t>(idx.size()) / m;
  scatter_with(k, y, upd, scatter_reduction(k.node), [&](auto update) {
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = 0;
      for (int64_t j = 0; j < m; ++j) {
        const size_t d = static_cast<size_t>(j);
        off += wrap_index(idx[static_cast<size_t>(t * m + j)], x.shape()[d]) * strides[d];
      }
      update(off, t * slice, slice);
    }
  });
}

}  // namespace torchless::engine
