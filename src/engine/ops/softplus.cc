// Softplus: log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so that e^ never overflows (opset 1).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void softplus_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) {
    using C = decltype(x);
    return (x > C(0) ? x : C(0)) + std::log1p(std::exp(-std::fabs(x)));
  });
}

}  // namespace torchless::engine
