// ReduceL1: the sum of absolute values over the `axes` attribute (keepdims, default all
// axes); versions 1, 11 and 13 compute the same. Accumulates in double (64-bit integers for
// integer inputs).
#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_l1_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    using A = acc_t<T>;
    return reduce_fold(p, x, A(0), [](A a, auto v, int64_t) {
      const A b = static_cast<A>(v);
      return a + (b < A(0) ? A(0) - b : b);
    });
  });
}

}  // namespace torchless::engine
