// Gemm, optimised for float32: Y = alpha * A' * B' + beta * C through sgemm, C (broadcast to
// [M, N]) times beta written into Y first. Declines other types and malformed inputs (the
// reference kernel reports those).
#include "engine/kernel.h"
#include "engine/ops/sgemm.h"

namespace torchless::engine {

bool gemm_fast(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32 || a.ndim() != 2 || b.ndim() != 2) return false;
  const bool ta = k.node.attr_int("transA", 0) != 0, tb = k.node.attr_int("transB", 0) != 0;
  const int64_t m = a.shape()[ta ? 1 : 0], kk = a.shape()[ta ? 0 : 1];
  const int64_t n = b.shape()[tb ? 0 : 1];
  if (b.shape()[tb ? 1 : 0] != kk) return false;
  const std::vector<int64_t> shape{m, n};
  const bool has_c = k.has_input(2);
  if (has_c) {
    const Tensor& c = k.in(2);
    if (c.dtype() != DType::kFloat32 || c.ndim() > 2) return false;
    for (size_t d = 0; d < c.ndim(); ++d) {
      const int64_t cd = c.shape()[d], yd = shape[2 - c.ndim() + d];
      if (cd != 1 && cd != yd) return false;
    }
  }
  const float alpha = k.node.attr_float("alpha", 1.0f), beta = k.node.attr_float("beta", 1.0f);
  float* y = mut<float>(k.out_uninit(0, DType::kFloat32, shape));  // C, or sgemm with beta 0, writes all
  if (m == 0 || n == 0) return true;
  if (has_c) {
    const Tensor& c = k.in(2);
    const std::vector<int64_t> cs = broadcast_strides(c.shape(), shape);
    const float* pc = data<float>(c);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) y[i * n + j] = beta * pc[i * cs[0] + j * cs[1]];
  }
  sgemm(m, n, kk, alpha, data<float>(a), ta ? 1 : kk, ta ? m : 1, data<float>(b), tb ? 1 : n, tb ? kk : 1,
        has_c ? 1.0f : 0.0f, y, n, k.threads());
  return true;
}

}  // namespace torchless::engine
