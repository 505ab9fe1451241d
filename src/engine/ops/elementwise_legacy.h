// Binary elementwise ops before opset 7 (Add/Sub/Mul/Div 1 and 6, And/Or/Xor/Equal/Greater/
// Less/Pow 1): no numpy broadcasting, but attributes `broadcast` (default 0: equal shapes) and
// `axis`. With broadcast=1, B is broadcast to A: B has one element, or B's shape equals the run
// of A's dims starting at `axis` (default: the trailing ones), size-1 dims of B repeating.
#pragma once

#include "engine/ops/elementwise.h"

namespace torchless::engine {

// Input 1 as a view of A's rank that numpy broadcasting expands to exactly A's shape.
inline Tensor legacy_rhs(const Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  if (!k.node.attr_int("broadcast", 0)) {
    if (a.shape() != b.shape())
      fail(Error::Code::kInvalidArgument,
           "shapes " + shape_text(a.shape()) + " and " + shape_text(b.shape()) + " differ and broadcast is 0");
    return b;
  }
  if (b.numel() == 1) return reshaped(b, {});
  const int64_t ra = static_cast<int64_t>(a.ndim());
  const int64_t rb = static_cast<int64_t>(b.ndim());
  if (rb > ra)
    fail(Error::Code::kInvalidArgument,
         "shape " + shape_text(b.shape()) + " has more dims than " + shape_text(a.shape()) + " to broadcast to");
  const int64_t given = k.node.attr_int("axis", ra - rb);
  const int64_t axis = given < 0 ? given + ra : given;
  if (axis < 0 || axis + rb > ra)
    fail(Error::Code::kInvalidArgument, "shape " + shape_text(b.shape()) + " at axis " + std::to_string(given) +
                                            " does not fit in shape " + shape_text(a.shape()));
  std::vector<int64_t> shape(static_cast<size_t>(ra), 1);
  for (int64_t i = 0; i < rb; ++i) {
    const int64_t d = b.shape()[static_cast<size_t>(i)];
    if (d != 1 && d != a.shape()[static_cast<size_t>(axis + i)])
      fail(Error::Code::kInvalidArgument, "shape " + shape_text(b.shape()) + " does not broadcast to " +
                                              shape_text(a.shape()) + " at axis " + std::to_string(axis));
    shape[static_cast<size_t>(axis + i)] = d;
  }
  return reshaped(b, shape);
}

// binary() with the broadcasting of the node's opset: the attributes above below 7, numpy from 7.
template <class List, bool kBoolOut = false, class F>
void binary_any_opset(Kernel& k, F f) {
  if (k.node.version < 7)
    binary<List, kBoolOut>(k, k.in(0), legacy_rhs(k), f);
  else
    binary<List, kBoolOut>(k, f);
}

}  // namespace torchless::engine
