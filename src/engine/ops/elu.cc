// Elu: x for x >= 0, alpha * (e^x - 1) otherwise; alpha defaults to 1. Opset 1 has the ignored
// `consumed_inputs` attribute.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void elu_run(Kernel& k) {
  const float alpha = k.node.attr_float("alpha", 1.0f);
  unary<FloatTypes>(k, [alpha](auto x) {
    using C = decltype(x);
    return x < C(0) ? C(alpha) * (std::exp(x) - C(1)) : x;
  });
}

}  // namespace torchless::engine
