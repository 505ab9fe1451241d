// Range: start, start + delta, ... while before limit (all three scalars of one type);
// count = max(ceil((limit - start) / delta), 0). A delta of 0 is an error.
#include <limits>

#include "engine/kernel.h"

namespace torchless::engine {

void range_run(Kernel& k) {
  const Tensor& start = k.in(0);
  const DType t = start.dtype();
  if (k.in(1).dtype() != t || k.in(2).dtype() != t)
    fail(Error::Code::kInvalidArgument, "start, limit and delta differ in type");
  for (size_t i = 0; i < 3; ++i)
    if (k.in(i).numel() != 1) fail(Error::Code::kInvalidArgument, "start, limit and delta must be scalars");
  dispatch(Types<float, double, int16_t, int32_t, int64_t>{}, t, k.node, [&]<class T>() {
    const T a = data<T>(k.in(0))[0], limit = data<T>(k.in(1))[0], delta = data<T>(k.in(2))[0];
    if (delta == T(0)) fail(Error::Code::kInvalidArgument, "delta is 0");
    int64_t n = 0;
    if constexpr (std::is_integral_v<T>) {
      const __int128 span = static_cast<__int128>(limit) - a;
      const __int128 q = span / delta + ((span % delta != 0 && (span < 0) == (delta < 0)) ? 1 : 0);
      if (q > std::numeric_limits<int64_t>::max()) fail(Error::Code::kInvalidArgument, "the range is too long");
      n = static_cast<int64_t>(std::max<__int128>(q, 0));
    } else {
      const double c = std::ceil((static_cast<double>(limit) - a) / delta);
      if (!(c < 9.2e18)) fail(Error::Code::kInvalidArgument, "the range is too long or not finite");
      n = static_cast<int64_t>(std::max(c, 0.0));
    }
    Tensor& y = k.out(0, t, {n});
    T* p = mut<T>(y);
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_integral_v<T>)
        p[i] = static_cast<T>(a + static_cast<__int128>(i) * delta);
      else
        p[i] = static_cast<T>(a + static_cast<T>(i) * delta);
    }
  });
}

}  // namespace torchless::engine
