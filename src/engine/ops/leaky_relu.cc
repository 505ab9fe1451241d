// LeakyRelu: x for x >= 0, alpha * x otherwise; alpha defaults to 0.01. Opset 1 has the ignored
// `consumed_inputs` attribute; 16 adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void leaky_relu_run(Kernel& k) {
  const float alpha = k.node.attr_float("alpha", 0.01f);
  unary<FloatTypes>(k, [alpha](auto x) {
    using C = decltype(x);
    return x < C(0) ? C(alpha) * x : x;
  });
}

}  // namespace torchless::engine
