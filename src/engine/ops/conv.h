// The convolution loop shared by Conv, ConvInteger and QLinearConv: X [N, C, D1..Dn] and
// W [M, C/group, k1..kn] give Y [N, M, out1..outn], each output channel m reading the input
// channels of its group. Element values come through callbacks so the callers can subtract
// zero points and pick the accumulator type.
#pragma once

#include <utility>
#include <vector>

#include "engine/ops/window.h"

namespace torchless::engine {

struct ConvShape {
  Window w;
  int64_t n = 0, c = 0, m = 0, group = 1;
  std::vector<int64_t> out_shape() const {
    std::vector<int64_t> s{n, m};
    s.insert(s.end(), w.out.begin(), w.out.end());
    return s;
  }
};

inline ConvShape conv_shape(const Node& node, const Tensor& x, const Tensor& w) {
  const auto& xs = x.shape();
  const auto& ws = w.shape();
  if (xs.size() < 3 || ws.size() != xs.size())
    fail(Error::Code::kInvalidArgument,
         "input " + shape_text(xs) + " and weights " + shape_text(ws) + " must have the same rank >= 3");
  ConvShape s;
  s.n = xs[0];
  s.c = xs[1];
  s.m = ws[0];
  s.group = node.attr_int("group", 1);
  if (s.group < 1 || s.c % s.group != 0 || s.m % s.group != 0 || ws[1] != s.c / s.group)
    fail(Error::Code::kInvalidArgument, "group " + std::to_string(s.group) + " does not fit input " + shape_text(xs) +
                                            " and weights " + shape_text(ws));
  s.w = window_of(node, xs, std::vector<int64_t>(ws.begin() + 2, ws.end()), false);
  return s;
}

// For each output element: put(y_index, m, sum of xv(x_index) * wv(w_index)) with an Acc sum.
template <class Acc, class XV, class WV, class Put>
void conv_loop(const ConvShape& s, XV&& xv, WV&& wv, Put&& put) {
  const int64_t is = s.w.in_size(), os = s.w.out_size(), ks = s.w.kernel_size();
  if (numel(s.out_shape()) == 0) return;
  const int64_t cg = s.c / s.group, mg = s.m / s.group;
  std::vector<std::pair<int64_t, int64_t>> taps;  // (kernel tap, input position)
  for (int64_t o = 0; o < os; ++o) {
    taps.clear();
    s.w.taps(o, [&](int64_t t, int64_t xi, const std::vector<int64_t>&) { taps.emplace_back(t, xi); });
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t m = 0; m < s.m; ++m) {
        const int64_t xbase = (n * s.c + (m / mg) * cg) * is;
        Acc acc = 0;
        for (int64_t c = 0; c < cg; ++c)
          for (auto [t, xi] : taps) acc += xv(xbase + c * is + xi) * wv((m * cg + c) * ks + t);
        put((n * s.m + m) * os + o, m, acc);
      }
  }
}

}  // namespace torchless::engine
