// Numpy matrix product geometry shared by MatMul, MatMulInteger and QLinearMatMul: a 1-D A is
// promoted to [1, K] and a 1-D B to [K, 1] (the added dim is removed from the output), the
// batch dims (all but the last two) broadcast in both directions.
#pragma once

#include <vector>

#include "engine/kernel.h"

namespace torchless::engine {

struct MatMulPlan {
  std::vector<int64_t> out;  // output shape
  int64_t m = 0, k = 0, n = 0;
  std::vector<int64_t> batch;               // broadcast batch shape
  std::vector<int64_t> a_stride, b_stride;  // A's and B's matrix strides along it
};

inline MatMulPlan matmul_plan(const Node& node, std::vector<int64_t> a, std::vector<int64_t> b) {
  if (a.empty() || b.empty()) fail(Error::Code::kInvalidArgument, "MatMul operands must have rank >= 1");
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  MatMulPlan p;
  p.m = a[a.size() - 2];
  p.k = a.back();
  p.n = b.back();
  if (b[b.size() - 2] != p.k)
    fail(Error::Code::kInvalidArgument, "inner dimensions differ: " + shape_text(a) + " x " + shape_text(b));
  const std::vector<int64_t> ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  p.batch = broadcast_shapes({ab, bb}, node);
  p.out = p.batch;
  if (!a_vec) p.out.push_back(p.m);
  if (!b_vec) p.out.push_back(p.n);
  p.a_stride = broadcast_strides(ab, p.batch);
  p.b_stride = broadcast_strides(bb, p.batch);
  return p;
}

// put(y_index, sum over k of av(a_index, row) * bv(b_index, col)) with an Acc sum, for every
// output element in row-major order.
template <class Acc, class AV, class BV, class Put>
void matmul_loop(const MatMulPlan& p, AV&& av, BV&& bv, Put&& put) {
  if (p.m == 0 || p.n == 0) return;
  int64_t y = 0;
  const int64_t a_mat = p.m * p.k, b_mat = p.k * p.n;
  for_each_broadcast<2>(p.batch, {p.a_stride, p.b_stride}, [&](int64_t, int64_t ia, int64_t ib) {
    const int64_t ao = ia * a_mat, bo = ib * b_mat;
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        Acc acc = 0;
        for (int64_t t = 0; t < p.k; ++t) acc += av(ao + i * p.k + t, i) * bv(bo + t * p.n + j, j);
        put(y++, acc);
      }
  });
}

}  // namespace torchless::engine
