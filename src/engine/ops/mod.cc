// Mod: the remainder of a / b with numpy broadcasting (opset 10; 13 adds bfloat16). fmod=0
// (default, integers only): the remainder has the divisor's sign (Python %); fmod=1: the
// dividend's sign (C fmod). Integer remainder by 0 is defined as 0 here (undefined in ONNX).
#include "engine/ops/elementwise.h"

namespace torchless::engine {

void mod_run(Kernel& k) {
  const int64_t fmod = k.node.attr_int("fmod", 0);
  if (fmod != 0 && fmod != 1) fail(Error::Code::kInvalidArgument, "fmod must be 0 or 1, not " + std::to_string(fmod));
  if (fmod == 0 && dtype_is_floating(k.in(0).dtype()))
    fail(Error::Code::kInvalidArgument, "Mod of floating-point values requires fmod=1");
  binary<NumericTypes>(k, [fmod](auto a, auto b) {
    using C = decltype(a);
    if constexpr (std::is_floating_point_v<C>) {
      return std::fmod(a, b);
    } else {
      if (b == C(0)) return C(0);
      if constexpr (std::is_signed_v<C>) {
        if (b == C(-1)) return C(0);  // INT_MIN % -1 overflows in C++
        const C r = static_cast<C>(a % b);
        return fmod == 0 && r != 0 && (r < 0) != (b < 0) ? static_cast<C>(r + b) : r;
      } else {
        return static_cast<C>(a % b);
      }
    }
  });
}

}  // namespace torchless::engine
