// Relu, optimised for float32: the reference's x < 0 ? 0 : x (NaN and -0 pass through) as a
// vectorised loop, split over threads when large. Declines other types.
#include "engine/kernel.h"
#include "engine/ops/parallel.h"

namespace torchless::engine {

bool relu_fast(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.dtype() != DType::kFloat32 || !x.is_contiguous()) return false;
  const float* px = data<float>(x);
  float* py = mut<float>(k.out_uninit(0, DType::kFloat32, x.shape()));
  const int64_t n = x.numel();
  parallel_ranges(n, n, k.threads(), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) py[i] = px[i] < 0.0f ? 0.0f : px[i];
  });
  return true;
}

}  // namespace torchless::engine
