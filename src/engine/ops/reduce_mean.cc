// ReduceMean: the mean over the `axes` attribute (keepdims, default all axes); versions 1, 11
// and 13 compute the same. Accumulates in double; integer results truncate, an empty
// reduction gives NaN (0 for integers).
#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_mean_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    std::vector<double> s =
        reduce_fold(p, x, 0.0, [](double a, auto v, int64_t) { return a + static_cast<double>(v); });
    for (double& v : s) v /= static_cast<double>(p.count);
    return s;
  });
}

}  // namespace torchless::engine
