// The element update shared by ScatterElements/Scatter and ScatterND: a copy (reduction
// "none") or an in-place add/mul (opset 16 `reduction`), by index into data-shaped buffers.
#pragma once

#include <string>

#include "engine/ops/movement.h"

namespace torchless::engine {

enum class ScatterReduction { kNone, kAdd, kMul };

inline ScatterReduction scatter_reduction(const Node& node) {
  const std::string r = node.attr_string("reduction", "none");
  if (r == "none") return ScatterReduction::kNone;
  if (r == "add") return ScatterReduction::kAdd;
  if (r == "mul") return ScatterReduction::kMul;
  fail(Error::Code::kUnsupported, "reduction '" + r + "' is not implemented (none, add, mul are)");
}

// Calls each(update) with update(dst_elem, src_elem, count) that combines `count` elements of
// `src` (updates) into y (a copy of data) at element offsets, for the dtype of y.
template <class F>
void scatter_with(Kernel& k, Tensor& y, const Tensor& updates, ScatterReduction red, F&& each) {
  if (updates.dtype() != y.dtype()) fail(Error::Code::kInvalidArgument, "updates and data differ in type");
  if (red == ScatterReduction::kNone) {
    const size_t es = elem_size(y);
    each([&](int64_t dst, int64_t src, int64_t n) {
      std::memcpy(bytes(y) + static_cast<size_t>(dst) * es, updates.data() + static_cast<size_t>(src) * es,
                  static_cast<size_t>(n) * es);
    });
    return;
  }
  dispatch(NumericTypes{}, y.dtype(), k.node, [&]<class T>() {
    T* out = mut<T>(y);
    const T* in = data<T>(updates);
    each([&](int64_t dst, int64_t src, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const auto a = load(out[dst + i]);
        const auto b = load(in[src + i]);
        out[dst + i] = store<T>(red == ScatterReduction::kAdd ? a + b : a * b);
      }
    });
  });
}

}  // namespace torchless::engine
