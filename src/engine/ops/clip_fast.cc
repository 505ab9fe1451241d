// Clip, optimised for float32: the reference's two comparisons (v < lo -> lo, then v > hi ->
// hi; NaN passes through) as a vectorised loop, an absent bound being -inf / +inf (which
// never compares true), split over threads when large. Declines other types and bounds that
// are not one float32 value (the reference kernel reports those).
#include <limits>

#include "engine/kernel.h"
#include "engine/ops/parallel.h"

namespace torchless::engine {

bool clip_fast(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.dtype() != DType::kFloat32 || !x.is_contiguous()) return false;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (k.node.version < 11) {
    if (const Attr* a = k.node.attr("min")) lo = a->f;
    if (const Attr* a = k.node.attr("max")) hi = a->f;
  } else {
    for (size_t i : {size_t{1}, size_t{2}}) {
      if (!k.has_input(i)) continue;
      const Tensor& t = k.in(i);
      if (t.dtype() != DType::kFloat32 || t.numel() != 1) return false;
      (i == 1 ? lo : hi) = data<float>(t)[0];
    }
  }
  const float* px = data<float>(x);
  float* py = mut<float>(k.out_uninit(0, DType::kFloat32, x.shape()));
  const int64_t n = x.numel();
  parallel_ranges(n, n, k.threads(), [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) {
      float v = px[i];
      v = v < lo ? lo : v;
      py[i] = v > hi ? hi : v;
    }
  });
  return true;
}

}  // namespace torchless::engine
