// Shared by NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opsets 12, 13): the
// negative log-likelihood of log-probabilities [N, C, d1...] at integer targets [N, d1...],
// with optional class weights [C], ignore_index (its positions weigh 0) and reduction
// none / sum / mean (mean divides by the sum of the applied weights: the count of
// non-ignored positions without weights; 0/0 gives NaN).
#pragma once

#include <cmath>
#include <limits>

#include "engine/kernel.h"

namespace torchless::engine {

inline std::vector<double> loss_doubles(Kernel& k, const Tensor& t) {
  std::vector<double> r(static_cast<size_t>(t.numel()));
  dispatch(FloatTypes{}, t.dtype(), k.node, [&]<class T>() {
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<double>(load(data<T>(t)[i]));
  });
  return r;
}

// logp: [N, C, D] row-major as doubles; `shape` the input's shape; target input `ti`, weight input `wi`.
inline void nll_loss(Kernel& k, const std::vector<double>& logp, const std::vector<int64_t>& shape, DType dtype,
                     size_t ti, size_t wi) {
  if (shape.size() < 2) fail(Error::Code::kInvalidArgument, "the input must have at least 2 dimensions [N, C]");
  const Tensor& target = k.in(ti);
  const int64_t n = shape[0], c = shape[1];
  std::vector<int64_t> tshape = shape;
  tshape.erase(tshape.begin() + 1);
  if (target.shape() != tshape)
    fail(Error::Code::kInvalidArgument,
         "target shape " + shape_text(target.shape()) + ", expected " + shape_text(tshape));
  const std::vector<int64_t> t = k.ints(ti);
  const int64_t d = n ? static_cast<int64_t>(t.size()) / n : 0;
  std::vector<double> w;
  if (k.has_input(wi)) {
    if (k.in(wi).shape() != std::vector<int64_t>{c})
      fail(Error::Code::kInvalidArgument, "weights must have shape [" + std::to_string(c) + "]");
    w = loss_doubles(k, k.in(wi));
  }
  const Attr* ii_attr = k.node.attr("ignore_index");
  const std::string reduction = k.node.attr_string("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    fail(Error::Code::kInvalidArgument, "unknown reduction '" + reduction + "'");
  std::vector<double> loss(t.size(), 0.0);
  double wsum = 0, lsum = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const size_t at = static_cast<size_t>(i * d + j);
      const int64_t cls = t[at];
      if (ii_attr && cls == ii_attr->i) continue;
      if (cls < 0 || cls >= c)
        fail(Error::Code::kInvalidArgument,
             "target " + std::to_string(cls) + " is out of range for " + std::to_string(c) + " classes");
      const double wt = w.empty() ? 1.0 : w[static_cast<size_t>(cls)];
      loss[at] = -logp[static_cast<size_t>((i * c + cls) * d + j)] * wt;
      wsum += wt;
      lsum += loss[at];
    }
  dispatch(FloatTypes{}, dtype, k.node, [&]<class T>() {
    if (reduction == "none") {
      T* p = mut<T>(k.out(0, dtype, tshape));
      for (size_t i = 0; i < loss.size(); ++i) p[i] = store<T>(loss[i]);
      return;
    }
    double r = lsum;
    if (reduction == "mean") r = (w.empty() && !ii_attr) ? lsum / static_cast<double>(loss.size()) : lsum / wsum;
    *mut<T>(k.out(0, dtype, {})) = store<T>(r);
  });
}

}  // namespace torchless::engine
