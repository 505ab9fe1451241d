// Shared machinery of RNN, GRU and LSTM (opsets 7 and 14): shapes and layouts, activations,
// sequence_lens, directions, and the time loop. Values are read into double, computed in double
// and stored in the input type (float, double, float16).
//
// X is [seq, batch, input] (layout 0) or [batch, seq, input] (layout 1, opset 14); W is
// [dirs, G*H, input], R [dirs, G*H, H], B [dirs, 2*G*H] (input then recurrent biases),
// initial_h/initial_c [dirs, batch, H] (layout 1: [batch, dirs, H]). Outputs: Y [seq, dirs,
// batch, H] (layout 1: [batch, seq, dirs, H]), Y_h and Y_c like initial_h. Steps past a batch
// entry's sequence_lens are zeros in Y; Y_h/Y_c hold the state after its last step.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "engine/kernel.h"

namespace torchless::engine {

struct RnnActivation {
  std::string name;
  double alpha = 0, beta = 0;

  double operator()(double x) const {
    if (name == "sigmoid") return 1 / (1 + std::exp(-x));
    if (name == "tanh") return std::tanh(x);
    if (name == "relu") return std::max(x, 0.0);
    if (name == "affine") return alpha * x + beta;
    if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
    if (name == "thresholdedrelu") return x > alpha ? x : 0;
    if (name == "scaledtanh") return alpha * std::tanh(beta * x);
    if (name == "hardsigmoid") return std::clamp(alpha * x + beta, 0.0, 1.0);
    if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
    if (name == "softsign") return x / (1 + std::fabs(x));
    return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);  // softplus
  }
};

inline std::vector<double> rnn_doubles(Kernel& k, const Tensor& t) {
  std::vector<double> r(static_cast<size_t>(t.numel()));
  dispatch(Types<float, double, Half, BF16>{}, t.dtype(), k.node, [&]<class T>() {
    const T* p = data<T>(t);
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<double>(load(p[i]));
  });
  return r;
}

struct Rnn {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1, gates = 1;
  bool layout1 = false, reverse_only = false;
  double clip = 0;  // 0: no clipping
  std::vector<int64_t> lens;
  std::vector<double> x, w, r, b, h0, c0;
  std::vector<RnnActivation> acts;  // per_dir activations for each direction, direction-major
  DType dtype = DType::kFloat32;

  // Reads and checks the inputs (X, W, R, B, sequence_lens, initial_h[, initial_c]).
  Rnn(Kernel& k, int64_t gate_count, std::vector<std::string> default_acts, bool has_c) : gates(gate_count) {
    const Node& n = k.node;
    layout1 = n.version >= 14 && n.attr_int("layout", 0) == 1;
    const std::string dir = n.attr_string("direction", "forward");
    if (dir == "bidirectional")
      dirs = 2;
    else if (dir == "reverse")
      reverse_only = true;
    else if (dir != "forward")
      fail(Error::Code::kInvalidArgument, "unknown direction '" + dir + "'");
    const Tensor& X = k.in(0);
    const Tensor& W = k.in(1);
    const Tensor& R = k.in(2);
    dtype = X.dtype();
    if (W.dtype() != dtype || R.dtype() != dtype) fail(Error::Code::kInvalidArgument, "inputs have different types");
    if (X.ndim() != 3 || W.ndim() != 3 || R.ndim() != 3) fail(Error::Code::kInvalidArgument, "X, W and R must be 3-D");
    seq = X.shape()[layout1 ? 1 : 0];
    batch = X.shape()[layout1 ? 0 : 1];
    input = X.shape()[2];
    hidden = R.shape()[2];
    if (const Attr* hs = n.attr("hidden_size"); hs && hs->i != hidden)
      fail(Error::Code::kInvalidArgument,
           "hidden_size " + std::to_string(hs->i) + " does not match R " + shape_text(R.shape()));
    const std::vector<int64_t> ws{dirs, gates * hidden, input}, rs{dirs, gates * hidden, hidden};
    if (W.shape() != ws || R.shape() != rs)
      fail(Error::Code::kInvalidArgument, "W " + shape_text(W.shape()) + " / R " + shape_text(R.shape()) +
                                              " do not match " + shape_text(ws) + " / " + shape_text(rs));
    x = rnn_doubles(k, X);
    w = rnn_doubles(k, W);
    r = rnn_doubles(k, R);
    b.assign(static_cast<size_t>(dirs * 2 * gates * hidden), 0.0);
    if (k.has_input(3)) b = read(k, 3, {dirs, 2 * gates * hidden});
    lens.assign(static_cast<size_t>(batch), seq);
    if (k.has_input(4)) {
      lens = k.ints(4);
      if (static_cast<int64_t>(lens.size()) != batch)
        fail(Error::Code::kInvalidArgument, "sequence_lens must have one entry per batch");
      for (int64_t l : lens)
        if (l < 0 || l > seq)
          fail(Error::Code::kInvalidArgument, "sequence length " + std::to_string(l) + " is out of range");
    }
    const std::vector<int64_t> hs =
        layout1 ? std::vector<int64_t>{batch, dirs, hidden} : std::vector<int64_t>{dirs, batch, hidden};
    h0.assign(static_cast<size_t>(dirs * batch * hidden), 0.0);
    c0 = h0;
    if (k.has_input(5)) h0 = state(read(k, 5, hs));
    if (has_c && k.has_input(6)) c0 = state(read(k, 6, hs));
    clip = n.attr_float("clip", 0);
    if (clip < 0) fail(Error::Code::kInvalidArgument, "clip must be positive");
    parse_acts(n, std::move(default_acts));
  }

  double clipped(double v) const { return clip > 0 ? std::clamp(v, -clip, clip) : v; }
  const RnnActivation& act(int64_t d, size_t i) const { return acts[static_cast<size_t>(d) * per_dir_ + i]; }

  // Runs every direction and batch entry; `step(d, x_t, h, c)` updates h (and c) in place.
  // Writes the outputs Y (0), Y_h (1) and, when `has_c`, Y_c (2).
  void run(Kernel& k, bool has_c,
           const std::function<void(int64_t, const double*, std::vector<double>&, std::vector<double>&)>& step) {
    const size_t H = static_cast<size_t>(hidden);
    std::vector<double> y(static_cast<size_t>(seq * dirs * batch * hidden), 0.0), yh(h0.size()), yc(c0.size());
    std::vector<double> xt(static_cast<size_t>(input));
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t bi = 0; bi < batch; ++bi) {
        const size_t so = static_cast<size_t>((d * batch + bi) * hidden);
        std::vector<double> h(h0.begin() + so, h0.begin() + so + H), c(c0.begin() + so, c0.begin() + so + H);
        const int64_t len = lens[static_cast<size_t>(bi)];
        const bool rev = reverse_only || d == 1;
        for (int64_t s = 0; s < len; ++s) {
          const int64_t t = rev ? len - 1 - s : s;
          const int64_t xo = layout1 ? (bi * seq + t) * input : (t * batch + bi) * input;
          std::copy(x.begin() + xo, x.begin() + xo + input, xt.begin());
          step(d, xt.data(), h, c);
          const int64_t yo = layout1 ? ((bi * seq + t) * dirs + d) * hidden : ((t * dirs + d) * batch + bi) * hidden;
          std::copy(h.begin(), h.end(), y.begin() + yo);
        }
        const size_t ho = static_cast<size_t>(layout1 ? (bi * dirs + d) * hidden : (d * batch + bi) * hidden);
        std::copy(h.begin(), h.end(), yh.begin() + static_cast<std::ptrdiff_t>(ho));
        std::copy(c.begin(), c.end(), yc.begin() + static_cast<std::ptrdiff_t>(ho));
      }
    const std::vector<int64_t> hs =
        layout1 ? std::vector<int64_t>{batch, dirs, hidden} : std::vector<int64_t>{dirs, batch, hidden};
    const std::vector<int64_t> ys =
        layout1 ? std::vector<int64_t>{batch, seq, dirs, hidden} : std::vector<int64_t>{seq, dirs, batch, hidden};
    emit(k, 0, ys, y);
    emit(k, 1, hs, yh);
    if (has_c) emit(k, 2, hs, yc);
  }

  // out[g*H + j] = sum_i M[d][(g*H + j)][i] * v[i] for all rows of direction d of W (cols = input) or R.
  void matvec(const std::vector<double>& m, int64_t d, int64_t cols, const double* v, std::vector<double>& out) const {
    const int64_t rows = gates * hidden;
    out.assign(static_cast<size_t>(rows), 0.0);
    const double* base = m.data() + d * rows * cols;
    for (int64_t row = 0; row < rows; ++row) {
      double acc = 0;
      for (int64_t i = 0; i < cols; ++i) acc += base[row * cols + i] * v[i];
      out[static_cast<size_t>(row)] = acc;
    }
  }
  // Input bias (wb) and recurrent bias (rb) of direction d, gate row `row`.
  double wb(int64_t d, int64_t row) const { return b[static_cast<size_t>(d * 2 * gates * hidden + row)]; }
  double rb(int64_t d, int64_t row) const { return b[static_cast<size_t>((d * 2 + 1) * gates * hidden + row)]; }

 private:
  size_t per_dir_ = 0;

  std::vector<double> read(Kernel& k, size_t i, const std::vector<int64_t>& shape) const {
    const Tensor& t = k.in(i);
    if (t.dtype() != dtype) fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " has another type");
    if (t.shape() != shape)
      fail(Error::Code::kInvalidArgument,
           "input " + std::to_string(i) + " has shape " + shape_text(t.shape()) + ", expected " + shape_text(shape));
    return rnn_doubles(k, t);
  }
  // A state input as [dirs, batch, H].
  std::vector<double> state(const std::vector<double>& v) const {
    if (!layout1) return v;
    std::vector<double> s(v.size());
    for (int64_t bi = 0; bi < batch; ++bi)
      for (int64_t d = 0; d < dirs; ++d)
        std::copy_n(v.begin() + (bi * dirs + d) * hidden, hidden, s.begin() + (d * batch + bi) * hidden);
    return s;
  }
  void emit(Kernel& k, size_t i, const std::vector<int64_t>& shape, const std::vector<double>& v) const {
    if (!k.wants_output(i)) return;
    Tensor& t = k.out(i, dtype, shape);
    dispatch(Types<float, double, Half, BF16>{}, dtype, k.node, [&]<class T>() {
      T* p = mut<T>(t);
      for (size_t j = 0; j < v.size(); ++j) p[j] = store<T>(v[j]);
    });
  }
  void parse_acts(const Node& n, std::vector<std::string> defaults) {
    per_dir_ = defaults.size();
    std::vector<std::string> names;
    if (const Attr* a = n.attr("activations")) names = a->strings;
    if (names.empty())
      for (int64_t d = 0; d < dirs; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
    if (names.size() == per_dir_ && dirs == 2) {
      const std::vector<std::string> one = names;
      names.insert(names.end(), one.begin(), one.end());
    }
    if (names.size() != per_dir_ * static_cast<size_t>(dirs))
      fail(Error::Code::kInvalidArgument, "expected " + std::to_string(per_dir_ * static_cast<size_t>(dirs)) +
                                              " activations, got " + std::to_string(names.size()));
    const std::vector<float> alphas = n.attr_floats("activation_alpha"), betas = n.attr_floats("activation_beta");
    size_t ai = 0, bi = 0;
    for (std::string s : names) {
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      RnnActivation a{s};
      double da = 0, db = 0;
      bool need_a = true, need_b = false;
      if (s == "affine")
        da = 1, need_b = true;
      else if (s == "leakyrelu")
        da = 0.01;
      else if (s == "thresholdedrelu" || s == "elu")
        da = 1;
      else if (s == "scaledtanh")
        da = 1, db = 1, need_b = true;
      else if (s == "hardsigmoid")
        da = 0.2, db = 0.5, need_b = true;
      else if (s == "sigmoid" || s == "tanh" || s == "relu" || s == "softsign" || s == "softplus")
        need_a = false;
      else
        fail(Error::Code::kUnsupported, "RNN activation '" + s + "'");
      a.alpha = need_a && ai < alphas.size() ? alphas[ai++] : da;
      a.beta = need_b && bi < betas.size() ? betas[bi++] : db;
      acts.push_back(a);
    }
  }
};

}  // namespace torchless::engine
