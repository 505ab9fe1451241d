// SoftmaxCrossEntropyLoss (opsets 12, 13): log_softmax of the scores over axis 1 (max-shifted),
// then the negative log-likelihood loss of loss.h; the optional second output is that
// log-probability tensor.
#include "engine/ops/loss.h"

namespace torchless::engine {

void softmax_cross_entropy_loss_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const std::vector<int64_t>& shape = x.shape();
  if (shape.size() < 2) fail(Error::Code::kInvalidArgument, "scores must have at least 2 dimensions [N, C]");
  std::vector<double> v = loss_doubles(k, x);
  const int64_t n = shape[0], c = shape[1];
  const int64_t d = n * c ? static_cast<int64_t>(v.size()) / (n * c) : 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t q = 0; q < c; ++q) mx = std::max(mx, v[static_cast<size_t>((i * c + q) * d + j)]);
      for (int64_t q = 0; q < c; ++q) sum += std::exp(v[static_cast<size_t>((i * c + q) * d + j)] - mx);
      const double lse = mx + std::log(sum);
      for (int64_t q = 0; q < c; ++q) v[static_cast<size_t>((i * c + q) * d + j)] -= lse;
    }
  nll_loss(k, v, shape, x.dtype(), 1, 2);
  if (k.wants_output(1))
    dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
      T* p = mut<T>(k.out(1, x.dtype(), shape));
      for (size_t i = 0; i < v.size(); ++i) p[i] = store<T>(v[i]);
    });
}

}  // namespace torchless::engine
