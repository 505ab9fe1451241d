// src/serve/postprocess.h — class scores of one output row: softmax and the top k (the
// `argmax` / `top_k` postprocessing of /predict and the OIP classification extension).
#pragma once

#include <cstdint>
#include <vector>

#include "torchless/tensor.h"

namespace torchless::serve {

struct ClassScore {
  int64_t index;
  float score;
};

// The k best classes of row `row` of `output` (dimension 0 = rows, the other dimensions
// flattened into classes), highest score first, ties to the lower index (as torch.topk on
// CPU). With `softmax` the scores are probabilities (computed in double, as float32 results).
// Outputs that are not floating point are read as their values.
std::vector<ClassScore> top_classes(const Tensor& output, int64_t row, int k, bool softmax);

}  // namespace torchless::serve
