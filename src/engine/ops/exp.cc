// Exp: e^x. Opset 1 has the ignored `consumed_inputs` attribute; 13 adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void exp_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return std::exp(x); });
}

}  // namespace torchless::engine
