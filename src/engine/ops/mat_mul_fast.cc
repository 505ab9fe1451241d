// MatMul, optimised for float32: one sgemm per pair of broadcast batch matrices (batches
// spread over threads when each product is small), or a single sgemm over all of A's rows
// when every batch shares one B. Declines other types.
#include "engine/ops/matmul.h"
#include "engine/ops/sgemm.h"

namespace torchless::engine {

bool mat_mul_fast(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32) return false;
  const MatMulPlan p = matmul_plan(k.node, a.shape(), b.shape());
  float* y = mut<float>(k.out_uninit(0, DType::kFloat32, p.out));  // sgemm with beta 0 writes all
  if (p.m == 0 || p.n == 0 || numel(p.batch) == 0) return true;
  const float* pa = data<float>(a);
  const float* pb = data<float>(b);
  std::vector<int64_t> ao, bo;  // matrix offsets of each batch item
  for_each_broadcast<2>(p.batch, {p.a_stride, p.b_stride}, [&](int64_t, int64_t ia, int64_t ib) {
    ao.push_back(ia * p.m * p.k);
    bo.push_back(ib * p.k * p.n);
  });
  const int64_t items = static_cast<int64_t>(ao.size()), mn = p.m * p.n;
  bool one_b = true;
  for (int64_t i = 0; i < items && one_b; ++i) one_b = bo[i] == bo[0] && ao[i] == i * p.m * p.k;
  if (one_b) {
    sgemm(items * p.m, p.n, p.k, 1.0f, pa, p.k, 1, pb + bo[0], p.n, 1, 0.0f, y, p.n, k.threads());
    return true;
  }
  const int t = threads_for(items * mn * p.k, k.threads());
  if (t > 1 && items >= t && mn * p.k < kParallelWork) {
#pragma omp parallel for num_threads(t) schedule(static)
    for (int64_t i = 0; i < items; ++i)
      sgemm(p.m, p.n, p.k, 1.0f, pa + ao[i], p.k, 1, pb + bo[i], p.n, 1, 0.0f, y + i * mn, p.n, 1);
    return true;
  }
  for (int64_t i = 0; i < items; ++i)
    sgemm(p.m, p.n, p.k, 1.0f, pa + ao[i], p.k, 1, pb + bo[i], p.n, 1, 0.0f, y + i * mn, p.n, k.threads());
  return true;
}

}  // namespace torchless::engine
