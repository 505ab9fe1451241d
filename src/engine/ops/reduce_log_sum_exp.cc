// ReduceLogSumExp: log(sum(exp(x))) over the `axes` attribute (keepdims, default all axes),
// computed as max + log(sum(exp(x - max))) so large values do not overflow; versions 1, 11
// and 13 compute the same. Accumulates in double.
#include <cmath>
#include <limits>

#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_log_sum_exp_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    const std::vector<double> m =
        reduce_fold(p, x, -std::numeric_limits<double>::infinity(),
                    [](double a, auto v, int64_t) { return std::max(a, static_cast<double>(v)); });
    std::vector<double> s = reduce_fold(
        p, x, 0.0, [&](double a, auto v, int64_t o) { return a + std::exp(static_cast<double>(v) - m[o]); });
    for (size_t o = 0; o < s.size(); ++o) s[o] = std::isinf(m[o]) ? m[o] : m[o] + std::log(s[o]);
    return s;
  });
}

}  // namespace torchless::engine
