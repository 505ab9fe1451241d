// Relu: max(x, 0).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void relu_run(Kernel& k) {
  unary<SignedTypes>(k, [](auto x) { return x < decltype(x)(0) ? decltype(x)(0) : x; });
}

}  // namespace torchless::engine
