// ReverseSequence: for each batch entry b (along batch_axis, default 1), the first
// sequence_lens[b] elements along time_axis (default 0) in reverse order, the rest unchanged.
// The two axes are 0 and 1 in some order; each length must lie in [0, time steps].
#include "engine/ops/movement.h"

namespace torchless::engine {

void reverse_sequence_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const std::vector<int64_t> lens = k.ints(1);
  const int64_t batch_axis = k.node.attr_int("batch_axis", 1), time_axis = k.node.attr_int("time_axis", 0);
  if (x.ndim() < 2 || batch_axis < 0 || batch_axis > 1 || time_axis < 0 || time_axis > 1 || batch_axis == time_axis)
    fail(Error::Code::kInvalidArgument, "batch_axis and time_axis must be 0 and 1 of an input of rank >= 2");
  const int64_t batch = x.shape()[static_cast<size_t>(batch_axis)];
  const int64_t steps = x.shape()[static_cast<size_t>(time_axis)];
  if (static_cast<int64_t>(lens.size()) != batch)
    fail(Error::Code::kInvalidArgument,
         "sequence_lens has " + std::to_string(lens.size()) + " entries for a batch of " + std::to_string(batch));
  for (int64_t len : lens)
    if (len < 0 || len > steps)
      fail(Error::Code::kInvalidArgument,
           "sequence length " + std::to_string(len) + " is not in [0, " + std::to_string(steps) + "]");
  Tensor& y = k.out(0, x.dtype(), x.shape());
  const size_t inner = static_cast<size_t>(span_size(x.shape(), 2, x.ndim())) * elem_size(x);
  const std::vector<int64_t> s = strides_of({x.shape()[0], x.shape()[1]});
  const int64_t bs = s[static_cast<size_t>(batch_axis)], ts = s[static_cast<size_t>(time_axis)];
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = lens[static_cast<size_t>(b)];
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t from = t < len ? len - 1 - t : t;
      std::memcpy(bytes(y) + static_cast<size_t>(b * bs + t * ts) * inner,
                  x.data() + static_cast<size_t>(b * bs + from * ts) * inner, inner);
    }
  }
}

}  // namespace torchless::engine
