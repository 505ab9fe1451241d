// BatchNormalization: y = (x - mean) / sqrt(var + epsilon) * scale + B per channel of
// X [N, C, ...]. Versions 1/6/7 have `spatial` (0: the parameters hold one value per element
// of X[n], shape [C, D...]) and 1/6 `is_test`; inference is computed for every version.
// From 14, training_mode=1 uses the batch mean and (biased) variance over all axes but 1 and
// returns running_mean = mean * momentum + batch_mean * (1 - momentum) and likewise
// running_var; 15 lets mean/var have their own float type. Training outputs of versions
// before 14 are refused (kUnsupported). Accumulates in double.
#include "engine/ops/norm.h"

namespace torchless::engine {

void batch_normalization_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  if (xs.size() < 2) fail(Error::Code::kInvalidArgument, "X must have rank >= 2, got " + shape_text(xs));
  const int v = k.node.version;
  const int64_t c = xs[1], inner = numel(std::vector<int64_t>(xs.begin() + 2, xs.end()));
  const bool per_element = v < 9 && k.node.attr_int("spatial", 1) == 0;
  const int64_t count = per_element ? numel({c, inner}) : c;
  const bool training = v >= 14 && k.node.attr_int("training_mode", 0) != 0;
  if (v < 14)
    for (size_t i = 1; i < k.num_outputs(); ++i)
      if (k.wants_output(i))
        fail(Error::Code::kUnsupported, "training outputs of BatchNormalization-" + std::to_string(v));
  const double eps = k.node.attr_float("epsilon", 1e-5f);
  const double momentum = k.node.attr_float("momentum", 0.9f);
  const std::vector<double> scale = doubles_of(k, 1, count, "scale");
  const std::vector<double> bias = doubles_of(k, 2, count, "B");
  std::vector<double> mean = doubles_of(k, 3, count, "input_mean");
  std::vector<double> var = doubles_of(k, 4, count, "input_var");
  std::vector<double> xv(static_cast<size_t>(x.numel()));
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = load(data<T>(x)[i]);
  });
  const auto total = static_cast<int64_t>(xv.size());
  auto channel = [&](int64_t i) { return (i / inner) % c; };
  // Parameter index of element i.
  auto param = [&](int64_t i) { return per_element ? i % (c * inner) : channel(i); };
  if (training) {
    std::vector<double> bmean(c, 0), bvar(c, 0);
    const double m = static_cast<double>(total) / static_cast<double>(c);
    for (int64_t i = 0; i < total; ++i) bmean[channel(i)] += xv[i];
    for (auto& s : bmean) s /= m;
    for (int64_t i = 0; i < total; ++i) bvar[channel(i)] += (xv[i] - bmean[channel(i)]) * (xv[i] - bmean[channel(i)]);
    for (auto& s : bvar) s /= m;
    std::vector<double> run_mean(c), run_var(c);
    for (int64_t ch = 0; ch < c; ++ch) {
      run_mean[ch] = mean[ch] * momentum + bmean[ch] * (1 - momentum);
      run_var[ch] = var[ch] * momentum + bvar[ch] * (1 - momentum);
    }
    if (k.wants_output(1)) out_doubles(k, 1, k.in(3).dtype(), k.in(3).shape(), run_mean);
    if (k.wants_output(2)) out_doubles(k, 2, k.in(4).dtype(), k.in(4).shape(), run_var);
    mean = bmean;
    var = bvar;
  }
  std::vector<double> y(xv.size());
  for (int64_t i = 0; i < total; ++i) {
    const int64_t p = param(i);
    y[i] = (xv[i] - mean[p]) / std::sqrt(var[p] + eps) * scale[p] + bias[p];
  }
  out_doubles(k, 0, x.dtype(), xs, y);
}

}  // namespace torchless::engine
