// ConvTranspose: the gradient of Conv. X [N, C, D...] and W [C, M/group, k...] (plus optional
// B [M]) give Y [N, M, out...] with y[o] += x[i] * w[t] at o = i*s + t*d - pad_begin.
// Output size: output_shape when given (the pads then follow from it: total =
// s*(in-1) + output_padding + (k-1)*d+1 - out, the odd pixel at the end for SAME_UPPER and at
// the beginning otherwise; a negative total extends the end), in*s under auto_pad SAME_*
// (pads split the same way), else s*(in-1) + output_padding + (k-1)*d+1 - pads. Versions 1 and
// 11 compute the same. Accumulates in double.
#include "engine/ops/window.h"

namespace torchless::engine {

namespace {

int64_t floor_half(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

}  // namespace

void conv_transpose_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& w = k.in(1);
  if (w.dtype() != x.dtype()) fail(Error::Code::kInvalidArgument, "X and W have different types");
  const auto& xs = x.shape();
  const auto& ws = w.shape();
  if (xs.size() < 3 || ws.size() != xs.size())
    fail(Error::Code::kInvalidArgument,
         "input " + shape_text(xs) + " and weights " + shape_text(ws) + " must have the same rank >= 3");
  const size_t r = xs.size() - 2;
  const int64_t n = xs[0], c = xs[1], group = k.node.attr_int("group", 1);
  if (group < 1 || group > kMaxWindowValue || c % group != 0 || ws[0] != c)
    fail(Error::Code::kInvalidArgument,
         "group " + std::to_string(group) + " does not fit input " + shape_text(xs) + " and weights " + shape_text(ws));
  const int64_t cg = c / group, mg = ws[1], m = numel({mg, group});
  Window g;  // pads_end may be negative here: the output extends past the full result
  g.in.assign(xs.begin() + 2, xs.end());
  g.kernel.assign(ws.begin() + 2, ws.end());
  if (const Attr* a = k.node.attr("kernel_shape"); a && a->ints != g.kernel)
    fail(Error::Code::kInvalidArgument,
         "kernel_shape " + shape_text(a->ints) + " differs from the weights' " + shape_text(g.kernel));
  for (int64_t kd : g.kernel)
    if (kd > kMaxWindowValue) fail(Error::Code::kInvalidArgument, "kernel sizes must be at most 2^30");
  g.strides = window_attr(k.node, "strides", r, 1);
  g.dilations = window_attr(k.node, "dilations", r, 1);
  std::vector<int64_t> out_pad = k.node.attr_ints("output_padding", std::vector<int64_t>(r, 0));
  if (out_pad.size() != r) fail(Error::Code::kInvalidArgument, "output_padding needs one value per spatial dim");
  for (int64_t p : out_pad)
    if (p < 0 || p > kMaxWindowValue) fail(Error::Code::kInvalidArgument, "output_padding must be in [0, 2^30]");
  g.pads_begin.assign(r, 0);
  g.pads_end.assign(r, 0);
  g.out.resize(r);
  std::vector<int64_t> full(r);  // s*(in-1) + output_padding + (k-1)*d+1
  for (size_t d = 0; d < r; ++d)
    full[d] = g.strides[d] * (g.in[d] - 1) + out_pad[d] + (g.kernel[d] - 1) * g.dilations[d] + 1;
  const std::string auto_pad = k.node.attr_string("auto_pad", "NOTSET");
  std::vector<int64_t> target = k.node.attr_ints("output_shape");
  if (target.size() == r + 2) target.erase(target.begin(), target.begin() + 2);
  if (!target.empty() && target.size() != r)
    fail(Error::Code::kInvalidArgument, "output_shape needs one value per spatial dim");
  if (target.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER"))
    for (size_t d = 0; d < r; ++d) target.push_back(g.in[d] * g.strides[d]);
  if (!target.empty()) {
    for (size_t d = 0; d < r; ++d) {
      if (target[d] < 0 || target[d] > (int64_t{1} << 40))
        fail(Error::Code::kInvalidArgument, "output_shape values must be in [0, 2^40]");
      const int64_t total = full[d] - target[d];
      g.pads_begin[d] = auto_pad == "SAME_UPPER" ? floor_half(total) : total - floor_half(total);
      g.pads_end[d] = total - g.pads_begin[d];
      g.out[d] = target[d];
    }
  } else {
    if (auto_pad == "NOTSET") {
      const std::vector<int64_t> pads = k.node.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
      if (pads.size() != 2 * r) fail(Error::Code::kInvalidArgument, "pads needs two values per spatial dim");
      for (size_t d = 0; d < r; ++d) {
        if (pads[d] < 0 || pads[d + r] < 0 || pads[d] > kMaxWindowValue || pads[d + r] > kMaxWindowValue)
          fail(Error::Code::kInvalidArgument, "pads must be in [0, 2^30]");
        g.pads_begin[d] = pads[d];
        g.pads_end[d] = pads[d + r];
      }
    } else if (auto_pad != "VALID") {
      fail(Error::Code::kInvalidArgument, "unknown auto_pad '" + auto_pad + "'");
    }
    for (size_t d = 0; d < r; ++d) {
      g.out[d] = full[d] - g.pads_begin[d] - g.pads_end[d];
      if (g.out[d] < 0) fail(Error::Code::kInvalidArgument, "pads exceed the output size");
    }
  }
  const bool has_bias = k.has_input(2);
  if (has_bias && (k.in(2).dtype() != x.dtype() || k.in(2).numel() != m))
    fail(Error::Code::kInvalidArgument, "B must hold " + std::to_string(m) + " values of X's type");
  std::vector<int64_t> yshape{n, m};
  yshape.insert(yshape.end(), g.out.begin(), g.out.end());
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& y = k.out(0, x.dtype(), yshape);
    Tensor acc_t = k.alloc(DType::kFloat64, yshape);
    double* acc = mut<double>(acc_t);
    const T* px = data<T>(x);
    const T* pw = data<T>(w);
    const int64_t is = g.in_size(), os = g.out_size(), ks = g.kernel_size();
    std::vector<int64_t> iidx(r, 0), tidx(r, 0);
    for (int64_t i = 0; i < (x.numel() && w.numel() ? is : 0); ++i) {
      std::fill(tidx.begin(), tidx.end(), 0);
      for (int64_t t = 0; t < ks; ++t) {
        int64_t o = 0;
        bool inside = true;
        for (size_t d = 0; d < r; ++d) {
          const int64_t p = iidx[d] * g.strides[d] + tidx[d] * g.dilations[d] - g.pads_begin[d];
          inside = inside && p >= 0 && p < g.out[d];
          o = o * g.out[d] + p;
        }
        if (inside)
          for (int64_t b = 0; b < n; ++b)
            for (int64_t ci = 0; ci < c; ++ci) {
              const double xv = load(px[(b * c + ci) * is + i]);
              const int64_t grp = ci / cg;
              for (int64_t mi = 0; mi < mg; ++mi)
                acc[(b * m + grp * mg + mi) * os + o] += xv * static_cast<double>(load(pw[(ci * mg + mi) * ks + t]));
            }
        for (size_t d = r; d-- > 0;) {
          if (++tidx[d] < g.kernel[d]) break;
          tidx[d] = 0;
        }
      }
      for (size_t d = r; d-- > 0;) {
        if (++iidx[d] < g.in[d]) break;
        iidx[d] = 0;
      }
    }
    T* py = mut<T>(y);
    const T* pb = has_bias ? data<T>(k.in(2)) : nullptr;
    for (int64_t j = 0; j < numel(yshape); ++j) py[j] = store<T>(acc[j] + (pb ? load(pb[(j / os) % m]) : 0.0));
  });
}

}  // namespace torchless::engine
