// Shared helpers of the shape and data movement ops: element copies by byte size (these ops
// move elements without computing on them, so one code path serves every dtype), index
// wrapping and the attribute-or-input forms of integer lists.
#pragma once

#include <string>
#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

inline size_t elem_size(const Tensor& t) { return dtype_size(t.dtype()); }
inline std::byte* bytes(Tensor& t) { return const_cast<std::byte*>(t.data()); }

// An index in [-dim, dim-1] as [0, dim-1]; kInvalidArgument otherwise.
inline int64_t wrap_index(int64_t i, int64_t dim) {
  if (i < -dim || i >= dim)
    fail(Error::Code::kInvalidArgument,
         "index " + std::to_string(i) + " is out of range for a dimension of " + std::to_string(dim));
  return i < 0 ? i + dim : i;
}

// dst[i] = src[sum_d idx_d * src_strides[d]] for every row-major index i of `shape`; strides are
// in elements (of es bytes) and may be zero or negative.
inline void strided_copy(std::byte* dst, const std::byte* src, size_t es, const std::vector<int64_t>& shape,
                         const std::vector<int64_t>& src_strides) {
  for_each_broadcast<1>(shape, {src_strides}, [&](int64_t i, int64_t o) {
    std::memcpy(dst + static_cast<size_t>(i) * es, src + o * static_cast<int64_t>(es), es);
  });
}

// Advances a row-major multi-index over `shape` by one (wrapping to all zeros at the end).
inline void next_index(std::vector<int64_t>& idx, const std::vector<int64_t>& shape) {
  for (size_t d = idx.size(); d-- > 0;) {
    if (++idx[d] < shape[d]) return;
    idx[d] = 0;
  }
}

// An integer list that is the attribute `attr` before opset `since` and input `input` from it.
// `present` tells whether either was given.
inline std::vector<int64_t> attr_or_input(const Kernel& k, const char* attr, size_t input, int since,
                                          bool* present = nullptr) {
  const bool from_attr = k.node.version < since;
  const bool has = from_attr ? k.node.attr(attr) != nullptr : k.has_input(input);
  if (present) *present = has;
  if (!has) return {};
  return from_attr ? k.node.attr_ints(attr) : k.ints(input);
}

// Axes normalized to [0, rank) and checked for repeats.
inline std::vector<int64_t> norm_axes(std::vector<int64_t> axes, int64_t rank, const Node& node) {
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& a : axes) {
    a = norm_axis(a, rank, node);
    if (rank == 0 || seen[static_cast<size_t>(a)])
      fail(Error::Code::kInvalidArgument, "axis " + std::to_string(a) + " is repeated or out of range");
    seen[static_cast<size_t>(a)] = true;
  }
  return axes;
}

// Product of shape[lo, hi).
inline int64_t span_size(const std::vector<int64_t>& shape, size_t lo, size_t hi) {
  return numel(std::vector<int64_t>(shape.begin() + static_cast<std::ptrdiff_t>(lo),
                                    shape.begin() + static_cast<std::ptrdiff_t>(hi)));
}

}  // namespace torchless::engine
