// Reduction iteration shared by the Reduce* ops, MeanVarianceNormalization and ArgMax/ArgMin:
// which axes are reduced (the `axes` attribute, or from ReduceSum-13 the optional axes input
// with noop_with_empty_axes), the output shape under keepdims, and folding every input
// element into the accumulator of its output element.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

// The accumulator type: double for floats, 64-bit integers (wrapping) for integers.
template <class T>
using acc_t = std::conditional_t<is_float_v<T>, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

struct ReducePlan {
  std::vector<int64_t> in;    // input shape
  std::vector<int64_t> kept;  // input shape with the reduced axes set to 1
  std::vector<int64_t> out;   // kept, or without the reduced axes when keepdims=0
  int64_t count = 1;          // input elements per output element
};

// Axes (negative allowed, no duplicates; empty = all) over an input of `shape`.
inline ReducePlan reduce_plan(const Node& node, const std::vector<int64_t>& shape, const std::vector<int64_t>& axes,
                              bool keepdims) {
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<bool> reduced(shape.size(), axes.empty());
  for (int64_t a : axes) {
    const int64_t d = norm_axis(a, rank, node);
    if (rank == 0) continue;
    if (reduced[d]) fail(Error::Code::kInvalidArgument, "axis " + std::to_string(a) + " is repeated");
    reduced[d] = true;
  }
  ReducePlan p;
  p.in = shape;
  p.kept = shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (reduced[d]) {
      p.count *= shape[d];
      p.kept[d] = 1;
      if (keepdims) p.out.push_back(1);
    } else {
      p.out.push_back(shape[d]);
    }
  }
  return p;
}

// The plan of a Reduce* node over its input 0: axes from the attribute, or (axes_input) from
// the optional input 1 where empty means all axes, or no reduction at all (`noop`) with
// noop_with_empty_axes=1.
struct ReduceSetup {
  ReducePlan plan;
  bool noop = false;
};
inline ReduceSetup reduce_setup(const Kernel& k, bool axes_input) {
  const Tensor& x = k.in(0);
  std::vector<int64_t> axes;
  bool noop = false;
  if (axes_input) {
    if (k.has_input(1)) axes = k.ints(1);
    noop = axes.empty() && k.node.attr_int("noop_with_empty_axes", 0) != 0;
  } else {
    axes = k.node.attr_ints("axes");
  }
  return {reduce_plan(k.node, x.shape(), axes, k.node.attr_int("keepdims", 1) != 0), noop};
}

// acc[o] = step(acc[o], load(x[i]), o) over every input element i of output element o, in
// row-major input order, starting from init.
template <class Acc, class T, class Step>
std::vector<Acc> reduce_fold(const ReducePlan& p, const T* x, Acc init, Step&& step) {
  std::vector<Acc> acc(static_cast<size_t>(numel(p.out)), init);
  for_each_broadcast<1>(p.in, {broadcast_strides(p.kept, p.in)},
                        [&](int64_t i, int64_t o) { acc[o] = step(acc[o], load(x[i]), o); });
  return acc;
}

// v as T; a floating v stored into an integer T saturates and NaN gives 0 (no undefined
// conversions).
template <class T, class V>
T store_value(V v) {
  if constexpr (std::is_integral_v<T> && std::is_floating_point_v<V>) {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<V>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<V>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  }
  return store<T>(v);
}

// A Reduce* kernel: output 0 = f.template operator()<T>(plan, x) (a vector with one value
// per output element, stored as T); the input itself under noop_with_empty_axes.
template <class List, class F>
void reduce_run(Kernel& k, bool axes_input, F&& f) {
  const ReduceSetup s = reduce_setup(k, axes_input);
  const Tensor& x = k.in(0);
  if (s.noop) {
    k.set_out(0, x);
    return;
  }
  dispatch(List{}, x.dtype(), k.node, [&]<class T>() {
    T* y = mut<T>(k.out(0, x.dtype(), s.plan.out));  // charged before the accumulators
    const auto values = f.template operator()<T>(s.plan, data<T>(x));
    for (size_t o = 0; o < values.size(); ++o) y[o] = store_value<T>(values[o]);
  });
}

// ArgMax / ArgMin: int64 index of the first (or with select_last_index, from version 12, the
// last) extreme value along `axis` (default 0), keepdims default 1.
template <bool kMax>
void arg_reduce_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto rank = static_cast<int64_t>(x.ndim());
  if (rank == 0) fail(Error::Code::kInvalidArgument, "input must have rank >= 1");
  const int64_t axis = norm_axis(k.node.attr_int("axis", 0), rank, k.node);
  const bool last = k.node.version >= 12 && k.node.attr_int("select_last_index", 0) != 0;
  const ReducePlan p = reduce_plan(k.node, x.shape(), {axis}, k.node.attr_int("keepdims", 1) != 0);
  const int64_t n = x.shape()[axis];
  if (n == 0) fail(Error::Code::kInvalidArgument, "cannot take an extreme index over an empty axis");
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d) inner *= x.shape()[d];
  dispatch(NumericTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    int64_t* py = mut<int64_t>(k.out(0, DType::kInt64, p.out));
    const int64_t outer = numel(p.out) / std::max<int64_t>(inner, 1);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const T* row = px + o * n * inner + j;
        calc_t<T> best = load(row[0]);
        int64_t arg = 0;
        for (int64_t i = 1; i < n; ++i) {
          const calc_t<T> v = load(row[i * inner]);
          const bool better = kMax ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
          if (better) {
            best = v;
            arg = i;
          }
        }
        py[o * inner + j] = arg;
      }
  });
}

}  // namespace torchless::engine
