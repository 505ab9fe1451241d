// Dropout at inference: the input unchanged, and the optional mask all true (bool from
// version 10, X's type holding 1 before). Versions 1/6 (is_test) and 7/10 (ratio attribute)
// are always computed as inference, as runtimes do. From 12 the optional inputs ratio and
// training_mode select training; training with ratio 0 is still the identity, training with
// ratio > 0 is random and refused (kUnsupported).
#include "engine/kernel.h"

namespace torchless::engine {

void dropout_run(Kernel& k) {
  const Tensor& x = k.in(0);
  if (k.node.version >= 12 && k.has_input(2) && k.scalar(2) != 0) {
    const double ratio = k.has_input(1) ? k.scalar(1) : 0.5;
    if (ratio < 0 || ratio >= 1) fail(Error::Code::kInvalidArgument, "ratio must be in [0, 1)");
    if (ratio > 0) fail(Error::Code::kUnsupported, "training-mode Dropout with ratio > 0 (random)");
  }
  k.set_out(0, x);
  if (!k.wants_output(1)) return;
  if (k.node.version >= 10) {
    Tensor& mask = k.out(1, DType::kBool, x.shape());
    bool* p = mut<bool>(mask);
    for (int64_t i = 0; i < mask.numel(); ++i) p[i] = true;
    return;
  }
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& mask = k.out(1, x.dtype(), x.shape());
    T* p = mut<T>(mask);
    for (int64_t i = 0; i < mask.numel(); ++i) p[i] = store<T>(1.0f);
  });
}

}  // namespace torchless::engine
