// Relu: max(x, 0). Opset 1 has the ignored `consumed_inputs` attribute; 13 adds bfloat16, 14 the
// signed integers.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void relu_run(Kernel& k) {
  unary<SignedTypes>(k, [](auto x) { return x < decltype(x)(0) ? decltype(x)(0) : x; });
}

}  // namespace torchless::engine
