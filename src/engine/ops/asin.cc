// Asin: arcsine (opset 7).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void asin_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::asin(x); });
}

}  // namespace torchless::engine
