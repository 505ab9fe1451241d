// A runtime value: a tensor, a sequence of tensors, or nothing (an absent optional input or
// an empty optional). Values are cheap to copy: tensors share their storage.
#pragma once

#include <vector>

#include "torchless/tensor.h"

namespace torchless::engine {

struct Val {
  enum class Kind : unsigned char { kNone, kTensor, kSequence };
  Kind kind = Kind::kNone;
  Tensor tensor;
  std::vector<Tensor> seq;
  DType elem = DType::kFloat32;  // element type of a sequence (kept when it is empty)

  static Val of(Tensor t) {
    Val v;
    v.kind = Kind::kTensor;
    v.elem = t.dtype();
    v.tensor = std::move(t);
    return v;
  }
  static Val sequence(std::vector<Tensor> s, DType elem) {
    Val v;
    v.kind = Kind::kSequence;
    v.seq = std::move(s);
    v.elem = elem;
    return v;
  }
  bool is_tensor() const { return kind == Kind::kTensor; }
};

}  // namespace torchless::engine
