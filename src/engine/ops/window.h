// Sliding-window geometry shared by Conv, ConvInteger, QLinearConv and the pooling ops: the
// spatial sizes, kernel, strides, dilations and begin/end pads of an [N, C, D1, ..., Dn] input,
// from the kernel_shape/strides/dilations/pads/auto_pad attributes (specs 2.4):
//   out = floor((in + pb + pe - ((k-1)*d+1)) / s) + 1 (ceil under ceil_mode);
//   SAME_UPPER/SAME_LOWER: out = ceil(in / s), total pad = max((out-1)*s + (k-1)*d+1 - in, 0),
//   the odd pixel at the end (UPPER) or the beginning (LOWER); VALID: no pads.
#pragma once

#include <string>
#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

// Bound on kernel sizes, strides, dilations and pads, so that geometry never overflows.
constexpr int64_t kMaxWindowValue = int64_t{1} << 30;

struct Window {
  std::vector<int64_t> in, kernel, strides, dilations, pads_begin, pads_end, out;

  size_t rank() const { return in.size(); }
  int64_t in_size() const { return numel(in); }
  int64_t out_size() const { return numel(out); }
  int64_t kernel_size() const { return numel(kernel); }

  // Calls f(tap, x, pos) for every kernel tap (flat index into the kernel) of output position
  // o (flat index into out) that falls inside the input: x is the flat input index, pos the
  // input multi-index.
  template <class F>
  void taps(int64_t o, F&& f) const {
    const size_t r = rank();
    std::vector<int64_t> start(r), pos(r), kidx(r, 0);
    for (size_t d = r; d-- > 0;) {
      start[d] = (o % out[d]) * strides[d] - pads_begin[d];
      o /= out[d];
    }
    const int64_t n = kernel_size();
    for (int64_t t = 0; t < n; ++t) {
      bool inside = true;
      int64_t x = 0;
      for (size_t d = 0; d < r; ++d) {
        pos[d] = start[d] + kidx[d] * dilations[d];
        inside = inside && pos[d] >= 0 && pos[d] < in[d];
        x = x * in[d] + pos[d];
      }
      if (inside) f(t, x, pos);
      for (size_t d = r; d-- > 0;) {
        if (++kidx[d] < kernel[d]) break;
        kidx[d] = 0;
      }
    }
  }

  // The number of taps of output position o inside the padded input [-pb, in + pe).
  int64_t padded_taps(int64_t o) const {
    int64_t count = 1;
    for (size_t d = rank(); d-- > 0;) {
      const int64_t start = (o % out[d]) * strides[d] - pads_begin[d];
      o /= out[d];
      int64_t c = 0;
      for (int64_t k = 0; k < kernel[d]; ++k) {
        const int64_t p = start + k * dilations[d];
        c += p >= -pads_begin[d] && p < in[d] + pads_end[d];
      }
      count *= c;
    }
    return count;
  }
};

// An attribute list of `rank` positive values, or `def` repeated when absent.
inline std::vector<int64_t> window_attr(const Node& node, const char* name, size_t rank, int64_t def) {
  std::vector<int64_t> v = node.attr_ints(name, std::vector<int64_t>(rank, def));
  if (v.size() != rank)
    fail(Error::Code::kInvalidArgument, std::string(name) + " has " + std::to_string(v.size()) + " values for " +
                                            std::to_string(rank) + " spatial dimensions");
  for (int64_t x : v)
    if (x < 1 || x > kMaxWindowValue)
      fail(Error::Code::kInvalidArgument, std::string(name) + " values must be in [1, 2^30]");
  return v;
}

// The geometry of a window over input shape x ([N, C, spatial...]). `kernel` is the spatial
// kernel (from W for convolutions, empty to read the kernel_shape attribute); dilations only
// where the op has them.
inline Window window_of(const Node& node, const std::vector<int64_t>& x, std::vector<int64_t> kernel, bool ceil_mode,
                        bool has_dilations = true) {
  if (x.size() < 3) fail(Error::Code::kInvalidArgument, "input must have rank >= 3, got " + shape_text(x));
  const size_t r = x.size() - 2;
  Window w;
  w.in.assign(x.begin() + 2, x.end());
  if (kernel.empty()) {
    if (!node.attr("kernel_shape")) fail(Error::Code::kInvalidArgument, "kernel_shape is required");
    kernel = window_attr(node, "kernel_shape", r, 1);
  } else if (const Attr* a = node.attr("kernel_shape"); a && a->ints != kernel) {
    fail(Error::Code::kInvalidArgument,
         "kernel_shape " + shape_text(a->ints) + " differs from the weights' " + shape_text(kernel));
  }
  w.kernel = kernel;
  for (int64_t k : kernel)
    if (k < 1 || k > kMaxWindowValue) fail(Error::Code::kInvalidArgument, "kernel sizes must be in [1, 2^30]");
  w.strides = window_attr(node, "strides", r, 1);
  w.dilations = has_dilations ? window_attr(node, "dilations", r, 1) : std::vector<int64_t>(r, 1);
  w.pads_begin.assign(r, 0);
  w.pads_end.assign(r, 0);
  w.out.resize(r);
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t d = 0; d < r; ++d) {
      const int64_t ek = (w.kernel[d] - 1) * w.dilations[d] + 1;
      w.out[d] = (w.in[d] + w.strides[d] - 1) / w.strides[d];
      const int64_t total = std::max<int64_t>((w.out[d] - 1) * w.strides[d] + ek - w.in[d], 0);
      w.pads_begin[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pads_end[d] = total - w.pads_begin[d];
    }
    return w;
  }
  if (auto_pad == "NOTSET") {
    const std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
    if (pads.size() != 2 * r)
      fail(Error::Code::kInvalidArgument,
           "pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * r));
    for (size_t d = 0; d < r; ++d) {
      if (pads[d] < 0 || pads[d + r] < 0 || pads[d] > kMaxWindowValue || pads[d + r] > kMaxWindowValue)
        fail(Error::Code::kInvalidArgument, "pads must be in [0, 2^30]");
      w.pads_begin[d] = pads[d];
      w.pads_end[d] = pads[d + r];
    }
  } else if (auto_pad != "VALID") {
    fail(Error::Code::kInvalidArgument, "unknown auto_pad '" + auto_pad + "'");
  }
  for (size_t d = 0; d < r; ++d) {
    const int64_t ek = (w.kernel[d] - 1) * w.dilations[d] + 1;
    const int64_t span = w.in[d] + w.pads_begin[d] + w.pads_end[d] - ek;
    if (span < 0)
      fail(Error::Code::kInvalidArgument, "kernel extent " + std::to_string(ek) + " exceeds the padded input " +
                                              std::to_string(w.in[d] + w.pads_begin[d] + w.pads_end[d]));
    w.out[d] = (ceil_mode ? (span + w.strides[d] - 1) / w.strides[d] : span / w.strides[d]) + 1;
  }
  return w;
}

}  // namespace torchless::engine
