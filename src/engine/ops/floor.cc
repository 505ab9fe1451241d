// Floor: round toward -inf. Opset 1 has the ignored `consumed_inputs` attribute; 13 adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void floor_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::floor(x); });
}

}  // namespace torchless::engine
