// Log: natural logarithm; log(0) = -inf, log(x < 0) = NaN. Opset 1 has the ignored `consumed_inputs`
// attribute; 13 adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void log_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::log(x); });
}

}  // namespace torchless::engine
