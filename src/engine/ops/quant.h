// Quantization helpers shared by QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// QLinearConv and QLinearMatMul: round half to even then saturate (specs 2.4), and reading
// scales / zero points that are one value or one value per index along an axis.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

// saturate(round_half_even(v)) into Q; NaN gives 0.
template <class Q, class F>
Q quantize_value(F v) {
  if (std::isnan(v)) return Q(0);
  const F r = std::nearbyint(v);  // the default rounding mode: to nearest, ties to even
  if (r <= static_cast<F>(std::numeric_limits<Q>::lowest())) return std::numeric_limits<Q>::lowest();
  if (r >= static_cast<F>(std::numeric_limits<Q>::max())) return std::numeric_limits<Q>::max();
  return static_cast<Q>(r);
}

// Input i (a scale or zero point) as doubles: one value, or `count` values (per axis / row /
// column); kInvalidArgument otherwise.
inline std::vector<double> quant_param(const Kernel& k, size_t i, int64_t count, const char* what) {
  const Tensor& t = k.in(i);
  if (t.numel() != 1 && (t.ndim() != 1 || t.numel() != count))
    fail(Error::Code::kInvalidArgument, std::string(what) + " " + shape_text(t.shape()) + " must be a scalar or hold " +
                                            std::to_string(count) + " values");
  std::vector<double> v(static_cast<size_t>(t.numel()));
  dispatch(Types<float, double, Half, BF16, int8_t, uint8_t, int32_t>{}, t.dtype(), k.node, [&]<class T>() {
    for (size_t j = 0; j < v.size(); ++j) v[j] = static_cast<double>(load(data<T>(t)[j]));
  });
  return v;
}

// The per-axis layout of Quantize/DequantizeLinear's scale and zero point: `dim` values along
// `axis` (default 1) with `inner` elements between consecutive ones; one value (dim 1) for
// scalar parameters and before opset 13.
struct QuantAxis {
  int64_t dim = 1, inner = 1;
  int64_t index(int64_t i) const { return (i / inner) % dim; }
};
inline QuantAxis quant_axis(const Kernel& k, const std::vector<int64_t>& xs) {
  QuantAxis q;
  if (k.node.version >= 13 && k.in(1).numel() != 1) {
    const int64_t axis = norm_axis(k.node.attr_int("axis", 1), static_cast<int64_t>(xs.size()), k.node);
    q.dim = xs.empty() ? 1 : xs[axis];
    for (size_t d = axis + 1; d < xs.size(); ++d) q.inner *= xs[d];
  }
  return q;
}

// v[j] or the single value.
inline double at_or_only(const std::vector<double>& v, int64_t j) { return v.size() == 1 ? v[0] : v[j]; }

}  // namespace torchless::engine
