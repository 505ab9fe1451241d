// Pad: pads = [begin_0.., end_0..] elements added around each axis (negative ones crop), filled
// by mode constant (the value), edge (nearest border element) or reflect (mirrored without
// repeating the border). Opset 1: attributes paddings/value; 2: pads/value; 11+: inputs pads
// and optional constant_value.
#include "engine/ops/movement.h"

namespace torchless::engine {

namespace {

// The source coordinate along an axis of n elements of output coordinate i with `begin`
// elements padded before it (negative: cropped), or -1 for the constant fill. 128-bit: i - begin
// may leave int64 for extreme pads.
int64_t source(int64_t i, int64_t begin, int64_t n, const std::string& mode) {
  __int128 p = static_cast<__int128>(i) - begin;
  if (p >= 0 && p < n) return static_cast<int64_t>(p);
  if (mode == "constant") return -1;
  if (mode == "edge") return p < 0 ? 0 : n - 1;
  if (n == 1) return 0;
  const __int128 period = 2 * static_cast<__int128>(n - 1);
  p %= period;
  if (p < 0) p += period;
  return static_cast<int64_t>(p < n ? p : period - p);
}

}  // namespace

void pad_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const size_t rank = x.ndim();
  const bool attrs = k.node.version < 11;
  const std::vector<int64_t> pads = attrs ? k.node.attr_ints(k.node.version < 2 ? "paddings" : "pads") : k.ints(1);
  const std::string mode = k.node.attr_string("mode", "constant");
  if (mode != "constant" && mode != "edge" && mode != "reflect")
    fail(Error::Code::kUnsupported, "mode '" + mode + "' is not implemented (constant, edge, reflect are)");
  if (pads.size() != 2 * rank)
    fail(Error::Code::kInvalidArgument,
         "pads has " + std::to_string(pads.size()) + " entries for rank " + std::to_string(rank));
  std::vector<int64_t> shape(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t n = x.shape()[d];
    if (__builtin_add_overflow(n, pads[d], &shape[d]) || __builtin_add_overflow(shape[d], pads[d + rank], &shape[d]) ||
        shape[d] < 0)
      fail(Error::Code::kInvalidArgument, "pads " + shape_text(pads) + " do not fit " + shape_text(x.shape()));
    if (n == 0 && shape[d] > 0 && mode != "constant")
      fail(Error::Code::kInvalidArgument, "mode '" + mode + "' cannot pad an empty axis");
  }
  Tensor& y = k.out(0, x.dtype(), shape);
  const size_t es = elem_size(x);
  std::vector<std::byte> fill(es);
  if (!attrs && k.has_input(2)) {
    const Tensor& v = k.in(2);
    if (v.dtype() != x.dtype() || v.numel() != 1)
      fail(Error::Code::kInvalidArgument, "constant_value must be one value of the data's type");
    std::memcpy(fill.data(), v.data(), es);
  } else {
    const float value = attrs ? k.node.attr_float("value", 0.0f) : 0.0f;
    dispatch(AllTypes{}, x.dtype(), k.node, [&]<class T>() {
      const T t = store<T>(value);
      std::memcpy(fill.data(), &t, es);
    });
  }
  const int64_t n = y.numel();
  const std::vector<int64_t> strides = strides_of(x.shape());
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < rank && off >= 0; ++d) {
      const int64_t s = source(idx[d], pads[d], x.shape()[d], mode);
      off = s < 0 ? -1 : off + s * strides[d];
    }
    std::memcpy(bytes(y) + static_cast<size_t>(i) * es,
                off < 0 ? fill.data() : x.data() + off * static_cast<int64_t>(es), es);
    next_index(idx, shape);
  }
}

}  // namespace torchless::engine
