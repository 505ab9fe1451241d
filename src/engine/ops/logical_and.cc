// And: logical conjunction of bool tensors. Opset 7 broadcasts numpy-style; opset 1 uses the
// `broadcast` and `axis` attributes (elementwise_legacy.h).
#include "engine/ops/elementwise_legacy.h"

namespace torchless::engine {

void logical_and_run(Kernel& k) {
  binary_any_opset<Types<bool>, true>(k, [](bool a, bool b) { return a && b; });
}

}  // namespace torchless::engine
