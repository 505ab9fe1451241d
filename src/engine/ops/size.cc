// Size: the input's element count as an int64 scalar.
#include "engine/kernel.h"

namespace torchless::engine {

void size_run(Kernel& k) {
  const int64_t n = k.in(0).numel();
  Tensor& y = k.out(0, DType::kInt64, {});
  mut<int64_t>(y)[0] = n;
}

}  // namespace torchless::engine
