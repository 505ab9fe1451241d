// NegativeLogLikelihoodLoss (opsets 12, 13): loss[n, d...] = -input[n, target[n, d...], d...] *
// weight[target], reduced by `reduction` (none / sum / mean over the applied weights);
// positions whose target equals ignore_index count for nothing. See loss.h.
#include "engine/ops/loss.h"

namespace torchless::engine {

void negative_log_likelihood_loss_run(Kernel& k) {
  const Tensor& x = k.in(0);
  nll_loss(k, loss_doubles(k, x), x.shape(), x.dtype(), 1, 2);
}

}  // namespace torchless::engine
