// Reciprocal: 1 / x. Opset 1 has the ignored `consumed_inputs` attribute; 13 adds bfloat16.
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void reciprocal_run(Kernel& k) {
  unary<FloatTypes>(k, [](auto x) { return decltype(x)(1) / x; });
}

}  // namespace torchless::engine
