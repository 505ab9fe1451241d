// GRU (opsets 7, 14): gates z, r, h stacked in W/R/B in that order;
//   z = f(X W_z + H R_z + Wb_z + Rb_z), r = f(X W_r + H R_r + Wb_r + Rb_r),
//   linear_before_reset=0: h~ = g(X W_h + (r . H) R_h + Rb_h + Wb_h),
//   linear_before_reset=1: h~ = g(X W_h + r . (H R_h + Rb_h) + Wb_h),
//   H' = (1 - z) . h~ + z . H; f, g default Sigmoid, Tanh. 14 adds `layout`. Shapes: rnn.h.
#include "engine/ops/rnn.h"

namespace torchless::engine {

void gru_run(Kernel& k) {
  Rnn m(k, 3, {"Sigmoid", "Tanh"}, false);
  const bool lbr = k.node.attr_int("linear_before_reset", 0) != 0;
  const int64_t H = m.hidden;
  std::vector<double> gx, gh, rh(static_cast<size_t>(H)), hr;
  m.run(k, false, [&](int64_t d, const double* x, std::vector<double>& h, std::vector<double>&) {
    m.matvec(m.w, d, m.input, x, gx);
    m.matvec(m.r, d, m.hidden, h.data(), gh);
    std::vector<double> z(static_cast<size_t>(H)), r(static_cast<size_t>(H));
    for (int64_t j = 0; j < H; ++j) {
      const size_t u = static_cast<size_t>(j), ur = static_cast<size_t>(H + j);
      z[u] = m.act(d, 0)(m.clipped(gx[u] + gh[u] + m.wb(d, j) + m.rb(d, j)));
      r[u] = m.act(d, 0)(m.clipped(gx[ur] + gh[ur] + m.wb(d, H + j) + m.rb(d, H + j)));
    }
    if (!lbr) {
      for (int64_t j = 0; j < H; ++j)
        rh[static_cast<size_t>(j)] = r[static_cast<size_t>(j)] * h[static_cast<size_t>(j)];
      m.matvec(m.r, d, m.hidden, rh.data(), hr);  // rows 2H..3H are the h gate
    }
    for (int64_t j = 0; j < H; ++j) {
      const size_t u = static_cast<size_t>(j), uh = static_cast<size_t>(2 * H + j);
      const double pre = lbr ? gx[uh] + m.wb(d, 2 * H + j) + r[u] * (gh[uh] + m.rb(d, 2 * H + j))
                             : gx[uh] + hr[uh] + m.rb(d, 2 * H + j) + m.wb(d, 2 * H + j);
      const double cand = m.act(d, 1)(m.clipped(pre));
      h[u] = (1 - z[u]) * cand + z[u] * h[u];
    }
  });
}

}  // namespace torchless::engine
