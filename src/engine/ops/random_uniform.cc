// RandomUniform-1: a tensor of `shape` (required) drawn uniformly from [low, high) (defaults 0,
// 1), type `dtype` (default float32). See random.h for seeding.
#include "engine/ops/random.h"

namespace torchless::engine {

void random_uniform_run(Kernel& k) {
  std::uniform_real_distribution<double> d(k.node.attr_float("low", 0.f), k.node.attr_float("high", 1.f));
  random_fill(k, dtype_attr(k.node, DType::kFloat32), k.node.attr_ints("shape"), [&](auto& rng) { return d(rng); });
}

}  // namespace torchless::engine
