// BitShift: a << b or a >> b by the `direction` attribute ("LEFT"/"RIGHT"), numpy broadcasting,
// unsigned integers only (opset 11). A shift by the bit width or more gives 0 (undefined in C++).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void bit_shift_run(Kernel& k) {
  const std::string direction = k.node.attr_string("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    fail(Error::Code::kInvalidArgument, "direction must be LEFT or RIGHT, not '" + direction + "'");
  const bool left = direction == "LEFT";
  binary<Types<uint8_t, uint16_t, uint32_t, uint64_t>>(k, [left](auto a, auto b) {
    using C = decltype(a);
    if (b >= sizeof(C) * 8) return C(0);
    return static_cast<C>(left ? a << b : a >> b);
  });
}

}  // namespace torchless::engine
