// NonZero: the indices of the non-zero elements as int64 [rank, count], one column per
// element in row-major order.
#include "engine/ops/movement.h"

namespace torchless::engine {

void non_zero_run(Kernel& k) {
  const Tensor& x = k.in(0);
  std::vector<int64_t> hits;
  dispatch(AllTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* p = data<T>(x);
    for (int64_t i = 0; i < x.numel(); ++i)
      if (load(p[i]) != calc_t<T>(0)) hits.push_back(i);
  });
  const size_t rank = x.ndim();
  const int64_t n = static_cast<int64_t>(hits.size());
  Tensor& y = k.out(0, DType::kInt64, {static_cast<int64_t>(rank), n});
  int64_t* out = mut<int64_t>(y);
  for (int64_t j = 0; j < n; ++j) {
    int64_t rest = hits[static_cast<size_t>(j)];
    for (size_t d = rank; d-- > 0;) {
      out[static_cast<int64_t>(d) * n + j] = rest % x.shape()[d];
      rest /= x.shape()[d];
    }
  }
}

}  // namespace torchless::engine
