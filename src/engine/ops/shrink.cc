// Shrink: x + bias for x < -lambd, x - bias for x > lambd, 0 otherwise; lambd defaults to 0.5,
// bias to 0 (opset 9). All numeric types; computed in double, then converted to the input type
// (cast.h: integers truncate and saturate).
#include "engine/ops/cast.h"
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void shrink_run(Kernel& k) {
  const double lambd = k.node.attr_float("lambd", 0.5f);
  const double bias = k.node.attr_float("bias", 0.0f);
  unary<NumericTypes>(k, [lambd, bias](auto x) {
    using C = decltype(x);
    const double v = static_cast<double>(x);
    return convert<C>(v < -lambd ? v + bias : v > lambd ? v - bias : 0.0);
  });
}

}  // namespace torchless::engine
