// The loop of the optimised float32 binary elementwise kernels (Add, Sub, Mul, Div) with
// numpy broadcasting: the output's dims are merged into as few as possible (adjacent dims
// merge when each input is contiguous across them or constant along both), so the innermost
// run reads each input either contiguously or as one repeated value: same shapes are one
// run, a per-channel bias [C, 1, 1] against [N, C, H, W] is runs of H*W with a constant,
// a scalar is one run. Those runs are vectorised loops; the flat output is split over
// threads when large.
#pragma once

#include <vector>

#include "engine/kernel.h"
#include "engine/ops/parallel.h"

namespace torchless::engine {

// Computes output 0 = f(a, b) broadcast and returns true, or returns false (before writing
// anything) for other types, non-contiguous inputs and the opset < 7 broadcast attributes.
template <class F>
bool binary_fast_f32(Kernel& k, F f) {
  if (k.node.version < 7) return false;
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32 || !a.is_contiguous() || !b.is_contiguous())
    return false;
  const std::vector<int64_t> shape = broadcast_shapes({a.shape(), b.shape()}, k.node);
  const std::vector<int64_t> sa = broadcast_strides(a.shape(), shape), sb = broadcast_strides(b.shape(), shape);
  // Merged dims, outermost first: size and the stride of each input (0 = repeated).
  std::vector<int64_t> dims, da, db;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!dims.empty() && da.back() == sa[d] * shape[d] && db.back() == sb[d] * shape[d]) {
      dims.back() *= shape[d];
      da.back() = sa[d];
      db.back() = sb[d];
      continue;
    }
    dims.push_back(shape[d]);
    da.push_back(sa[d]);
    db.push_back(sb[d]);
  }
  if (dims.empty()) {
    dims = {1};
    da = db = {1};
  }
  const float* pa = data<float>(a);
  const float* pb = data<float>(b);
  float* py = mut<float>(k.out_uninit(0, DType::kFloat32, shape));
  const int64_t n = numel(shape), inner = dims.back(), ia = da.back(), ib = db.back();
  const size_t outer = dims.size() - 1;
  // Output elements [lo, hi): run by run from the multi-index of lo.
  parallel_ranges(n, n, k.threads(), [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> idx(outer);
    int64_t row = lo / inner, oa = 0, ob = 0;
    for (size_t d = outer; d-- > 0;) {
      idx[d] = row % dims[d];
      row /= dims[d];
      oa += idx[d] * da[d];
      ob += idx[d] * db[d];
    }
    int64_t j = lo % inner;
    for (int64_t i = lo; i < hi;) {
      const int64_t len = std::min(inner - j, hi - i);
      const float* xa = pa + oa + j * ia;
      const float* xb = pb + ob + j * ib;
      float* y = py + i;
      if (ia && ib) {
        for (int64_t t = 0; t < len; ++t) y[t] = f(xa[t], xb[t]);
      } else if (ia) {
        const float vb = *xb;
        for (int64_t t = 0; t < len; ++t) y[t] = f(xa[t], vb);
      } else {  // a dim larger than 1 is read by at least one input
        const float va = *xa;
        for (int64_t t = 0; t < len; ++t) y[t] = f(va, xb[t]);
      }
      i += len;
      j = 0;
      for (size_t d = outer; d-- > 0;) {
        oa += da[d];
        ob += db[d];
        if (++idx[d] < dims[d]) break;
        oa -= da[d] * dims[d];
        ob -= db[d] * dims[d];
        idx[d] = 0;
      }
    }
  });
  return true;
}

}  // namespace torchless::engine
