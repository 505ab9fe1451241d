// Sqrt: square root; negative inputs give NaN. Opset 1 has the ignored `consumed_inputs` attribute; 13
// adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void sqrt_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::sqrt(x); });
}

}  // namespace torchless::engine
