// LSTM (opsets 7, 14): gates i, o, f, c stacked in W/R/B in that order, peepholes P = [P_i, P_o,
// P_f] per direction;
//   i = f(X W_i + H R_i + P_i . C + b_i), f = f(X W_f + H R_f + P_f . C + b_f) (1 - i with
//   input_forget=1), c~ = g(X W_c + H R_c + b_c), C' = f . C + i . c~,
//   o = f(X W_o + H R_o + P_o . C' + b_o), H' = o . h(C');
// f, g, h default Sigmoid, Tanh, Tanh; b = Wb + Rb. 14 adds `layout`. Shapes: rnn.h.
#include "engine/ops/rnn.h"

namespace torchless::engine {

void lstm_run(Kernel& k) {
  Rnn m(k, 4, {"Sigmoid", "Tanh", "Tanh"}, true);
  const int64_t H = m.hidden;
  std::vector<double> p(static_cast<size_t>(m.dirs * 3 * H), 0.0);
  if (k.has_input(7)) {
    const Tensor& pt = k.in(7);
    if (pt.dtype() != m.dtype || pt.shape() != std::vector<int64_t>{m.dirs, 3 * H})
      fail(Error::Code::kInvalidArgument,
           "P has shape " + shape_text(pt.shape()) + ", expected " + shape_text({m.dirs, 3 * H}));
    p = rnn_doubles(k, pt);
  }
  const bool couple = k.node.attr_int("input_forget", 0) != 0;
  std::vector<double> gx, gh;
  m.run(k, true, [&](int64_t d, const double* x, std::vector<double>& h, std::vector<double>& c) {
    m.matvec(m.w, d, m.input, x, gx);
    m.matvec(m.r, d, m.hidden, h.data(), gh);
    const double* pd = p.data() + d * 3 * H;
    auto pre = [&](int64_t gate, int64_t j) {
      const int64_t row = gate * H + j;
      return gx[static_cast<size_t>(row)] + gh[static_cast<size_t>(row)] + m.wb(d, row) + m.rb(d, row);
    };
    for (int64_t j = 0; j < H; ++j) {
      const size_t u = static_cast<size_t>(j);
      const double i = m.act(d, 0)(m.clipped(pre(0, j) + pd[j] * c[u]));
      const double f = couple ? 1 - i : m.act(d, 0)(m.clipped(pre(2, j) + pd[2 * H + j] * c[u]));
      const double cand = m.act(d, 1)(m.clipped(pre(3, j)));
      c[u] = f * c[u] + i * cand;
      const double o = m.act(d, 0)(m.clipped(pre(1, j) + pd[H + j] * c[u]));
      h[u] = o * m.act(d, 2)(c[u]);
    }
  });
}

}  // namespace torchless::engine
