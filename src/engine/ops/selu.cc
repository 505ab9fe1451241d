// Selu: gamma * x for x > 0, gamma * (alpha * e^x - alpha) otherwise; alpha defaults to
// 1.67326319..., gamma to 1.05070102... Opset 1 has the ignored `consumed_inputs` attribute.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void selu_run(Kernel& k) {
  const float alpha = k.node.attr_float("alpha", 1.67326319217681884765625f);
  const float gamma = k.node.attr_float("gamma", 1.05070102214813232421875f);
  unary<FloatTypes>(k, [alpha, gamma](auto x) {
    using C = decltype(x);
    return x > C(0) ? C(gamma) * x : C(gamma) * (C(alpha) * std::exp(x) - C(alpha));
  });
}

}  // namespace torchless::engine
