// Multinomial-7: for each row of input [batch, class_size] (unnormalised log-probabilities),
// `sample_size` (default 1) class indices drawn from softmax(row), output [batch, sample_size]
// of type `dtype` (int32 default, or int64). See random.h for seeding.
#include <cmath>

#include "engine/ops/random.h"

namespace torchless::engine {

void multinomial_run(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.ndim() != 2) fail(Error::Code::kInvalidArgument, "input must be [batch, class_size], got " + shape_text(x.shape()));
  const int64_t batch = x.shape()[0], classes = x.shape()[1];
  const int64_t samples = k.node.attr_int("sample_size", 1);
  if (samples < 1) fail(Error::Code::kInvalidArgument, "sample_size must be positive");
  if (classes < 1) fail(Error::Code::kInvalidArgument, "class_size must be positive");
  const DType out = dtype_attr(k.node, DType::kInt32);
  std::vector<double> logits(static_cast<size_t>(x.numel()));
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = load(data<T>(x)[i]);
  });
  std::mt19937_64 rng = random_engine(k.node);
  dispatch(Types<int32_t, int64_t>{}, out, k.node, [&]<class T>() {
    T* y = mut<T>(k.out(0, out, {batch, samples}));
    std::vector<double> w(static_cast<size_t>(classes));
    for (int64_t b = 0; b < batch; ++b) {
      const double* row = logits.data() + b * classes;
      const double m = *std::max_element(row, row + classes);
      for (int64_t c = 0; c < classes; ++c) w[c] = std::isfinite(m) ? std::exp(row[c] - m) : 1.0;
      std::discrete_distribution<int64_t> d(w.begin(), w.end());
      for (int64_t s = 0; s < samples; ++s) y[b * samples + s] = static_cast<T>(d(rng));
    }
  });
}

}  // namespace torchless::engine
