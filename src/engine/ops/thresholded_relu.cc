// ThresholdedRelu: x for x > alpha, 0 otherwise; alpha defaults to 1 (opset 10).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void thresholded_relu_run(Kernel& k) {
  const float alpha = k.node.attr_float("alpha", 1.0f);
  unary<FloatTypes>(k, [alpha](auto x) {
    using C = decltype(x);
    return x > C(alpha) ? x : C(0);
  });
}

}  // namespace torchless::engine
