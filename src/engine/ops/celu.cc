// Celu: max(0, x) + min(0, alpha * (e^(x / alpha) - 1)); alpha defaults to 1 (opset 12).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void celu_run(Kernel& k) {
  const float alpha = k.node.attr_float("alpha", 1.0f);
  if (alpha == 0) fail(Error::Code::kInvalidArgument, "alpha must not be 0");
  unary<FloatTypes>(k, [alpha](auto x) {
    using C = decltype(x);
    const C a = C(alpha);
    return std::max(C(0), x) + std::min(C(0), a * (std::exp(x / a) - C(1)));
  });
}

}  // namespace torchless::engine
