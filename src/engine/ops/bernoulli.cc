// Bernoulli-15: y[i] = 1 with probability p[i] (a float tensor, values in [0, 1]), else 0, of type
// `dtype` (default the input's; any numeric type or bool). See random.h for seeding.
#include "engine/ops/random.h"

namespace torchless::engine {

void bernoulli_run(Kernel& k) {
  const Tensor& p = k.in(0);
  const DType out = dtype_attr(k.node, p.dtype());
  std::vector<double> probs(static_cast<size_t>(p.numel()));
  dispatch(FloatTypes{}, p.dtype(), k.node, [&]<class T>() {
    for (size_t i = 0; i < probs.size(); ++i) probs[i] = load(data<T>(p)[i]);
  });
  for (double v : probs)
    if (!(v >= 0 && v <= 1)) fail(Error::Code::kInvalidArgument, "a probability outside [0, 1]: " + std::to_string(v));
  std::mt19937_64 rng = random_engine(k.node);
  std::uniform_real_distribution<double> u(0, 1);
  dispatch(AllTypes{}, out, k.node, [&]<class T>() {
    T* y = mut<T>(k.out(0, out, p.shape()));
    for (size_t i = 0; i < probs.size(); ++i) y[i] = store<T>(u(rng) < probs[i] ? 1 : 0);
  });
}

}  // namespace torchless::engine
