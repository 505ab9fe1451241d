// Shape: the input's dimensions as a 1-D int64 tensor; opset 15 keeps dims [start, end)
// (negative values count from the end, both clamped to [0, rank]).
#include "engine/ops/movement.h"

namespace torchless::engine {

void shape_run(Kernel& k) {
  const std::vector<int64_t>& dims = k.in(0).shape();
  const int64_t rank = static_cast<int64_t>(dims.size());
  auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t start = clamp(k.node.attr_int("start", 0));
  const int64_t end = clamp(k.node.attr_int("end", rank));
  const int64_t n = std::max<int64_t>(end - start, 0);
  Tensor& y = k.out(0, DType::kInt64, {n});
  for (int64_t i = 0; i < n; ++i) mut<int64_t>(y)[i] = dims[static_cast<size_t>(start + i)];
}

}  // namespace torchless::engine
