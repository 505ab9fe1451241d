// Shared parts of the random operators (RandomNormal, RandomUniform, their *Like forms,
// Bernoulli, Multinomial): the generator and the `dtype` attribute. With a `seed` attribute the
// generator (mt19937_64) starts from it on every run, so a seeded model gives the same numbers
// each time; without one each run draws a fresh seed. (ONNX fixes no algorithm: no engine
// reproduces another's numbers, only their distribution.)
#pragma once

#include <bit>
#include <random>

#include "engine/kernel.h"
#include "engine/proto.h"

namespace torchless::engine {

inline std::mt19937_64 random_engine(const Node& node) {
  if (const Attr* a = node.attr("seed")) return std::mt19937_64(std::bit_cast<uint32_t>(a->f));
  std::random_device rd;
  return std::mt19937_64((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

// The `dtype` attribute (an ONNX TensorProto type code), or `def` when absent.
inline DType dtype_attr(const Node& node, DType def) {
  if (!node.attr("dtype")) return def;
  return onnx_dtype(static_cast<int>(node.attr_int("dtype", 1)));
}

// Fills a new output 0 of `shape` and type `t` (a float type) with f(rng) values.
template <class F>
void random_fill(Kernel& k, DType t, const std::vector<int64_t>& shape, F&& draw) {
  std::mt19937_64 rng = random_engine(k.node);
  dispatch(FloatTypes{}, t, k.node, [&]<class T>() {
    Tensor& y = k.out(0, t, shape);
    T* p = mut<T>(y);
    for (int64_t i = 0, n = y.numel(); i < n; ++i) p[i] = store<T>(draw(rng));
  });
}

}  // namespace torchless::engine
