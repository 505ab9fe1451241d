// Sub, optimised for float32 (opset 7+ broadcasting): a - b through binary_fast.h. Declines
// other types and the opset 1/6 broadcast attributes (the reference kernel runs).
#include "engine/ops/binary_fast.h"

namespace torchless::engine {

bool sub_fast(Kernel& k) {
  return binary_fast_f32(k, [](float a, float b) { return a - b; });
}

}  // namespace torchless::engine
