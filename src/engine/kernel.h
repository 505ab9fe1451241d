// What an op file sees: the Kernel context of one node execution, the op table entry, element
// type dispatch and the shared helpers (broadcasting, axes, element access).
//
// An op file (src/engine/ops/<op>.cc) defines `void <sym>_run(Kernel&)`, the reference kernel:
// plain C++ templated on the element type, no SIMD, no threads. It reads inputs and attributes
// from the Kernel, allocates outputs through it (the run's memory budget is checked there),
// and refuses with fail()/corrupt() from core/check.h; the executor adds the node's name.
// Optimised kernels (next issue) are tested against these.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/check.h"
#include "core/half.h"
#include "engine/ir.h"
#include "engine/value.h"

namespace torchless::engine {

class Kernel;
using KernelFn = void (*)(Kernel&);
// An optimised kernel: computes the outputs and returns true, or returns false before
// producing anything when it does not handle this node's types, attributes or shapes (the
// reference kernel then runs).
using FastFn = bool (*)(Kernel&);

// One line of src/engine/ops/op_table.inc.
struct OpDef {
  const char* name;
  const char* domain;            // "" = ai.onnx
  int min_version, max_version;  // the since_versions of the ONNX schemas implemented
  KernelFn run;
};
// The op implementing (domain, op_type) at a schema since_version, or null.
const OpDef* find_op(std::string_view domain, std::string_view op_type, int version);
std::span<const OpDef> op_table();
// The optimised kernel of an op (src/engine/ops/fast_table.inc), or null.
FastFn find_fast(const OpDef* op);

// Limits of one run (EngineOptions): every allocation is charged before it happens.
struct Budget {
  uint64_t max_tensor_bytes = 0;
  uint64_t max_run_bytes = 0;
  uint64_t used = 0;
  int threads = 1;               // what optimised kernels may use
  bool reference = false;        // EngineOptions::reference_kernels
  void charge(uint64_t bytes);
};

class Executor;

class Kernel {
 public:
  Kernel(const Node& node, std::vector<const Val*> inputs, std::vector<Val>& outputs, Budget& budget,
         const Executor& exec, const std::vector<Val>& env)
      : node(node), inputs_(std::move(inputs)), outputs_(outputs), budget_(budget), exec_(exec), env_(env) {}

  const Node& node;

  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] && inputs_[i]->kind != Val::Kind::kNone; }
  bool wants_output(size_t i) const { return i < node.outputs.size() && node.outputs[i] >= 0; }
  // Input i as a tensor (kInvalidArgument when it is absent or not a tensor).
  const Tensor& in(size_t i) const;
  const Val& in_val(size_t i) const;
  // A new zero-filled contiguous output i, charged to the budget.
  Tensor& out(size_t i, DType dtype, const std::vector<int64_t>& shape);
  // The same without the zero fill, for kernels that write every element (the contents are
  // unspecified until then).
  Tensor& out_uninit(size_t i, DType dtype, const std::vector<int64_t>& shape);
  void set_out(size_t i, Tensor t);  // a view or an existing tensor
  void set_out_val(size_t i, Val v);
  // A zero-filled scratch tensor charged to the budget (not an output); alloc_uninit leaves the
  // contents unspecified. Both are 64-byte aligned.
  Tensor alloc(DType dtype, const std::vector<int64_t>& shape);
  Tensor alloc_uninit(DType dtype, const std::vector<int64_t>& shape);

  // Runs a subgraph (If/Loop/Scan bodies) with the given inputs; captures resolve to the
  // values this node's graph holds.
  std::vector<Val> run_graph(const Graph& g, std::vector<Val> inputs);

  // Input i read as int64 values (any integer type), e.g. shapes, axes, pads.
  std::vector<int64_t> ints(size_t i) const;
  // Input i's single value as double (any numeric type).
  double scalar(size_t i) const;
  // Charges bytes to the run's budget without allocating (work that holds memory elsewhere).
  void charge(uint64_t bytes) { budget_.charge(bytes); }
  // Threads an optimised kernel may use (EngineOptions::threads, resolved).
  int threads() const { return budget_.threads; }

 private:
  Tensor allocate(DType dtype, const std::vector<int64_t>& shape, bool zero);

  std::vector<const Val*> inputs_;
  std::vector<Val>& outputs_;
  Budget& budget_;
  const Executor& exec_;
  const std::vector<Val>& env_;
};

// ---- element types ----

// float16: round to nearest even, overflow to inf; bfloat16: round to nearest even, NaN ->
// 0x7fc0 (later ONNX versions specify both; core/half.h).
inline uint16_t onnx_bf16(float f) { return std::isnan(f) ? uint16_t{0x7fc0} : bf16_round(f); }

template <class T> constexpr bool is_reduced_v = std::is_same_v<T, Half> || std::is_same_v<T, BF16>;
// The type arithmetic happens in: float for float16/bfloat16, the type itself otherwise.
template <class T> using calc_t = std::conditional_t<is_reduced_v<T>, float, T>;
template <class T>
inline calc_t<T> load(T v) {
  if constexpr (std::is_same_v<T, Half>) return half_to_float(v.bits);
  else if constexpr (std::is_same_v<T, BF16>) return bf16_to_float(v.bits);
  else return v;
}
template <class T, class C>
inline T store(C v) {
  if constexpr (std::is_same_v<T, Half>) return Half{half_from_float(static_cast<float>(v))};
  else if constexpr (std::is_same_v<T, BF16>) return BF16{onnx_bf16(static_cast<float>(v))};
  else return static_cast<T>(v);
}
template <class T> constexpr bool is_float_v = std::is_floating_point_v<T> || is_reduced_v<T>;

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <> constexpr DType dtype_of<Half>() { return DType::kFloat16; }
template <> constexpr DType dtype_of<BF16>() { return DType::kBFloat16; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kInt8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::kInt16; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::kUInt16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kInt32; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::kUInt32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::kUInt64; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }

template <class... Ts> struct Types {};
using FloatTypes = Types<float, double, Half, BF16>;
using IntTypes = Types<int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, uint64_t>;
using SignedTypes = Types<float, double, Half, BF16, int8_t, int16_t, int32_t, int64_t>;
using NumericTypes = Types<float, double, Half, BF16, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t,
                           int64_t, uint64_t>;
using AllTypes = Types<float, double, Half, BF16, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t,
                       uint64_t, bool>;

[[noreturn]] void unsupported_dtype(const Node& node, DType t);

// Calls f.template operator()<T>() for the C++ type T of `t`, if T is in the list; refuses
// the dtype (kUnsupported naming the node) otherwise.
template <class... Ts, class F>
void dispatch(Types<Ts...>, DType t, const Node& node, F&& f) {
  const bool hit = ((t == dtype_of<Ts>() ? (f.template operator()<Ts>(), true) : false) || ...);
  if (!hit) unsupported_dtype(node, t);
}

template <class T>
inline const T* data(const Tensor& t) { return reinterpret_cast<const T*>(t.data()); }
template <class T>
inline T* mut(Tensor& t) { return reinterpret_cast<T*>(const_cast<std::byte*>(t.data())); }

// ---- shapes ----

int64_t numel(const std::vector<int64_t>& shape);     // overflow-checked (kInvalidArgument)
// axis in [-rank, rank-1] -> [0, rank-1]; kInvalidArgument otherwise.
int64_t norm_axis(int64_t axis, int64_t rank, const Node& node);
// Row-major strides in elements.
std::vector<int64_t> strides_of(const std::vector<int64_t>& shape);
std::string shape_text(const std::vector<int64_t>& shape);
// Multidirectional (numpy) broadcast of several shapes; kInvalidArgument when incompatible.
std::vector<int64_t> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes, const Node& node);
// Strides of `in` read at each index of `out` (0 along broadcast dims).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out);
// A view with another shape (same element count) or dtype; no copy.
Tensor reshaped(const Tensor& t, std::vector<int64_t> shape);

// Calls f(out_index, off_0, ..., off_{N-1}) for every element of `out` in row-major order,
// where off_k is the element offset into input k broadcast to `out` (strides from
// broadcast_strides).
template <size_t N, class F>
void for_each_broadcast(const std::vector<int64_t>& out, const std::array<std::vector<int64_t>, N>& strides, F&& f) {
  const int64_t n = numel(out);
  if (n == 0) return;
  const size_t rank = out.size();
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, N> off{};
  for (int64_t i = 0; i < n; ++i) {
    std::apply([&](auto... o) { f(i, o...); }, off);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) {
        for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace torchless::engine
