// Shared helpers of the control-flow, sequence and optional ops: reading sequence/optional
// inputs, position arguments, and byte-level concatenation, stacking and slicing along an axis
// (dtype-independent, contiguous tensors).
#pragma once

#include <cstring>

#include "engine/kernel.h"

namespace torchless::engine {

inline const Val& seq_in(Kernel& k, size_t i) {
  const Val& v = k.in_val(i);
  if (v.kind != Val::Kind::kSequence)
    fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " is not a sequence");
  return v;
}

// A position input (int32/int64 scalar) in [-n, n - 1] (or [-n, n] with `end_ok`), made non-negative.
inline int64_t seq_position(Kernel& k, size_t i, int64_t n, bool end_ok) {
  const std::vector<int64_t> p = k.ints(i);
  if (p.size() != 1) fail(Error::Code::kInvalidArgument, "the position must hold one value");
  const int64_t hi = end_ok ? n : n - 1;
  if (p[0] < -n || p[0] > hi)
    fail(Error::Code::kInvalidArgument,
         "position " + std::to_string(p[0]) + " is out of range for a sequence of " + std::to_string(n));
  return p[0] < 0 ? p[0] + n : p[0];
}

inline Tensor contiguous_of(const Tensor& t) { return t.is_contiguous() ? t : unwrap(t.contiguous()); }

// Concatenation of `items` (same dtype, same shape except along `axis`) along `axis`.
inline Tensor concat_axis(Kernel& k, const std::vector<Tensor>& items, int64_t axis) {
  if (items.empty()) fail(Error::Code::kInvalidArgument, "nothing to concatenate");
  const Tensor& first = items[0];
  const size_t rank = first.ndim();
  std::vector<int64_t> shape = first.shape();
  shape[static_cast<size_t>(axis)] = 0;
  for (const Tensor& t : items) {
    bool ok = t.dtype() == first.dtype() && t.ndim() == rank;
    for (size_t d = 0; ok && d < rank; ++d) ok = d == static_cast<size_t>(axis) || t.shape()[d] == first.shape()[d];
    if (!ok)
      fail(Error::Code::kInvalidArgument, "cannot concatenate " + shape_text(first.shape()) + " " +
                                              std::string(dtype_name(first.dtype())) + " and " + shape_text(t.shape()) +
                                              " " + std::string(dtype_name(t.dtype())) + " along axis " +
                                              std::to_string(axis));
    shape[static_cast<size_t>(axis)] += t.shape()[static_cast<size_t>(axis)];
  }
  Tensor out = k.alloc(first.dtype(), shape);
  const size_t es = dtype_size(first.dtype());
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  std::byte* dst = const_cast<std::byte*>(out.data());
  if (numel(shape) == 0) return out;
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor& t : items) {
      const Tensor c = contiguous_of(t);
      const size_t chunk = static_cast<size_t>(c.numel() / outer) * es;
      std::memcpy(dst, c.data() + static_cast<size_t>(o) * chunk, chunk);
      dst += chunk;
    }
  return out;
}

// Stacks equally shaped `items` along a new axis `axis` (in [0, rank]).
inline Tensor stack_axis(Kernel& k, const std::vector<Tensor>& items, int64_t axis) {
  std::vector<Tensor> views;
  views.reserve(items.size());
  for (const Tensor& t : items) {
    if (t.shape() != items[0].shape())
      fail(Error::Code::kInvalidArgument,
           "cannot stack shapes " + shape_text(items[0].shape()) + " and " + shape_text(t.shape()));
    std::vector<int64_t> s = t.shape();
    s.insert(s.begin() + axis, 1);
    views.push_back(reshaped(contiguous_of(t), s));
  }
  return concat_axis(k, views, axis);
}

// A copy of t[..., start:start+len, ...] along `axis`.
inline Tensor narrow_axis(Kernel& k, const Tensor& t, int64_t axis, int64_t start, int64_t len) {
  const Tensor c = contiguous_of(t);
  std::vector<int64_t> shape = c.shape();
  const int64_t n = shape[static_cast<size_t>(axis)];
  shape[static_cast<size_t>(axis)] = len;
  Tensor out = k.alloc(c.dtype(), shape);
  if (numel(shape) == 0) return out;
  const size_t es = dtype_size(c.dtype());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= c.shape()[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < c.ndim(); ++d) inner *= c.shape()[d];
  const size_t row = static_cast<size_t>(inner) * es;
  std::byte* dst = const_cast<std::byte*>(out.data());
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + static_cast<size_t>(o * len) * row, c.data() + static_cast<size_t>(o * n + start) * row,
                static_cast<size_t>(len) * row);
  return out;
}

// A copy of t[..., i, ...] (index i along `axis`, which is removed).
inline Tensor take_axis(Kernel& k, const Tensor& t, int64_t axis, int64_t i) {
  std::vector<int64_t> shape = t.shape();
  shape.erase(shape.begin() + axis);
  return reshaped(narrow_axis(k, t, axis, i, 1), shape);
}

// The subgraph attribute `name` of the node (kInvalidArgument when missing).
inline const Graph& graph_attr(Kernel& k, std::string_view name) {
  const Attr* a = k.node.attr(name);
  if (!a || !a->g) fail(Error::Code::kInvalidArgument, "the " + std::string(name) + " subgraph is missing");
  return *a->g;
}

inline Tensor scalar_tensor_i64(Kernel& k, int64_t v) {
  Tensor t = k.alloc(DType::kInt64, {});
  *mut<int64_t>(t) = v;
  return t;
}

inline Tensor scalar_tensor_bool(Kernel& k, bool v) {
  Tensor t = k.alloc(DType::kBool, {});
  *mut<bool>(t) = v;
  return t;
}

// Stacks tensors of one shape along a new axis 0 as they arrive (Loop scan outputs, whose count
// is not known in advance): a buffer charged to the budget that doubles when full.
class Stacker {
 public:
  void push(Kernel& k, const Tensor& t) {
    const Tensor c = contiguous_of(t);
    if (count_ == 0 && cap_ == 0) {
      dtype_ = c.dtype();
      elem_ = c.shape();
    } else if (c.dtype() != dtype_ || c.shape() != elem_) {
      fail(Error::Code::kInvalidArgument, "a scan output changed from " + shape_text(elem_) + " " +
                                              std::string(dtype_name(dtype_)) + " to " + shape_text(c.shape()) + " " +
                                              std::string(dtype_name(c.dtype())));
    }
    const size_t bytes = c.nbytes();
    if (count_ == cap_) {
      const int64_t cap = std::max<int64_t>(4, cap_ * 2);
      std::vector<int64_t> shape = elem_;
      shape.insert(shape.begin(), cap);
      Tensor grown = k.alloc(dtype_, shape);
      if (count_ > 0)
        std::memcpy(const_cast<std::byte*>(grown.data()), buf_.data(), static_cast<size_t>(count_) * bytes);
      buf_ = std::move(grown);
      cap_ = cap;
    }
    if (bytes) std::memcpy(const_cast<std::byte*>(buf_.data()) + static_cast<size_t>(count_) * bytes, c.data(), bytes);
    ++count_;
  }
  // The stacked [count, elem...] tensor; float [0] when nothing was pushed (the type is unknown).
  Tensor finish(Kernel& k) const {
    if (cap_ == 0) return k.alloc(DType::kFloat32, {0});
    std::vector<int64_t> shape = elem_;
    shape.insert(shape.begin(), count_);
    return unwrap(Tensor::make(buf_.storage(), dtype_, shape, strides_of(shape), buf_.storage_offset()));
  }

 private:
  DType dtype_ = DType::kFloat32;
  std::vector<int64_t> elem_;
  int64_t count_ = 0, cap_ = 0;
  Tensor buf_;
};

}  // namespace torchless::engine
