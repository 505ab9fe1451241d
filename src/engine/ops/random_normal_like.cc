// RandomNormalLike-1: RandomNormal with the input's shape, and its type unless `dtype` is given.
#include "engine/ops/random.h"

namespace torchless::engine {

void random_normal_like_run(Kernel& k) {
  std::normal_distribution<double> d(k.node.attr_float("mean", 0.f), k.node.attr_float("scale", 1.f));
  random_fill(k, dtype_attr(k.node, k.in(0).dtype()), k.in(0).shape(), [&](auto& rng) { return d(rng); });
}

}  // namespace torchless::engine
