// HardSigmoid: max(0, min(1, alpha * x + beta)); alpha defaults to 0.2, beta to 0.5. Opset 1 has
// the ignored `consumed_inputs` attribute.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void hard_sigmoid_run(Kernel& k) {
  const float alpha = k.node.attr_float("alpha", 0.2f);
  const float beta = k.node.attr_float("beta", 0.5f);
  unary<FloatTypes>(k, [alpha, beta](auto x) {
    using C = decltype(x);
    return std::max(C(0), std::min(C(1), C(alpha) * x + C(beta)));
  });
}

}  // namespace torchless::engine
