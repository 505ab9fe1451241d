// Sigmoid: 1 / (1 + e^-x), written so that e^ never overflows. Opset 1 has the ignored
// `consumed_inputs` attribute; 13 adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void sigmoid_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) {
    using C = decltype(x);
    if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
    const C e = std::exp(x);
    return e / (C(1) + e);
  });
}

}  // namespace torchless::engine
