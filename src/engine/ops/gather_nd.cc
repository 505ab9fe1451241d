// GatherND: with m = indices.shape[-1] and b = batch_dims (opset 12), each index tuple picks
// data[batch..., i_0, ..., i_{m-1}] (negative ones wrap); output shape
// indices.shape[:-1] + data.shape[b+m:]. The first b dims of data and indices must agree.
#include "engine/ops/movement.h"

namespace torchless::engine {

void gather_nd_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& ind = k.in(1);
  const std::vector<int64_t> idx = k.ints(1);
  const int64_t b = k.node.attr_int("batch_dims", 0);
  const int64_t r = static_cast<int64_t>(x.ndim());
  const int64_t q = static_cast<int64_t>(ind.ndim());
  if (q < 1 || r < 1 || b < 0 || b >= std::min(q, r))
    fail(Error::Code::kInvalidArgument, "batch_dims " + std::to_string(b) + " does not fit data rank " +
                                            std::to_string(r) + " and indices rank " + std::to_string(q));
  const int64_t m = ind.shape().back();
  if (m < 1 || m > r - b)
    fail(Error::Code::kInvalidArgument,
         "index tuples of length " + std::to_string(m) + " do not fit data " + shape_text(x.shape()));
  for (int64_t d = 0; d < b; ++d)
    if (x.shape()[static_cast<size_t>(d)] != ind.shape()[static_cast<size_t>(d)])
      fail(Error::Code::kInvalidArgument,
           "batch dims of data " + shape_text(x.shape()) + " and indices " + shape_text(ind.shape()) + " differ");
  std::vector<int64_t> shape(ind.shape().begin(), ind.shape().end() - 1);
  shape.insert(shape.end(), x.shape().begin() + b + m, x.shape().end());
  Tensor& y = k.out(0, x.dtype(), shape);

  const size_t es = elem_size(x);
  const std::vector<int64_t> strides = strides_of(x.shape());
  const size_t slice = static_cast<size_t>(span_size(x.shape(), static_cast<size_t>(b + m), x.ndim())) * es;
  const int64_t batches = span_size(x.shape(), 0, static_cast<size_t>(b));
  const int64_t batch_stride = b > 0 ? strides[static_cast<size_t>(b - 1)] : 0;
  const int64_t tuples = static_cast<int64_t>(idx.size()) / m;
  const int64_t per_batch = tuples / std::max<int64_t>(batches, 1);
  std::byte* dst = bytes(y);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (t / std::max<int64_t>(per_batch, 1)) * batch_stride;
    for (int64_t j = 0; j < m; ++j) {
      const size_t d = static_cast<size_t>(b + j);
      off += wrap_index(idx[static_cast<size_t>(t * m + j)], x.shape()[d]) * strides[d];
    }
    std::memcpy(dst, x.data() + static_cast<size_t>(off) * es, slice);
    dst += slice;
  }
}

}  // namespace torchless::engine
