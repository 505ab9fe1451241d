// RNN (opsets 7, 14): H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb), f from `activations` (Tanh by
// default), per direction; 14 adds `layout`. Shapes, sequence_lens and directions: rnn.h.
#include "engine/ops/rnn.h"

namespace torchless::engine {

void rnn_run(Kernel& k) {
  Rnn m(k, 1, {"Tanh"}, false);
  std::vector<double> gx, gh;
  m.run(k, false, [&](int64_t d, const double* x, std::vector<double>& h, std::vector<double>&) {
    m.matvec(m.w, d, m.input, x, gx);
    m.matvec(m.r, d, m.hidden, h.data(), gh);
    for (int64_t j = 0; j < m.hidden; ++j) {
      const size_t u = static_cast<size_t>(j);
      h[u] = m.act(d, 0)(m.clipped(gx[u] + gh[u] + m.wb(d, j) + m.rb(d, j)));
    }
  });
}

}  // namespace torchless::engine
