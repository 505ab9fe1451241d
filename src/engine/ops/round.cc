// Round: to the nearest integer, halves to even (opset 11); std::nearbyint in the default rounding mode.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void round_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::nearbyint(x); });
}

}  // namespace torchless::engine
