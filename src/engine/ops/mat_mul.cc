// MatMul: numpy matrix product (matmul.h: 1-D operands promoted then squeezed, batch dims
// broadcast). Versions 1, 9 and 13 differ only in the types allowed. Accumulates in double
// (64-bit integers for integer inputs, wrapping).
#include "engine/ops/matmul.h"
#include "engine/ops/reduce.h"

namespace torchless::engine {

void mat_mul_run(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  if (a.dtype() != b.dtype()) fail(Error::Code::kInvalidArgument, "A and B have different types");
  const MatMulPlan p = matmul_plan(k.node, a.shape(), b.shape());
  dispatch(Types<float, double, Half, BF16, int32_t, uint32_t, int64_t, uint64_t>{}, a.dtype(), k.node, [&]<class T>() {
    using A = acc_t<T>;
    const T* pa = data<T>(a);
    const T* pb = data<T>(b);
    T* py = mut<T>(k.out(0, a.dtype(), p.out));
    matmul_loop<A>(
        p, [&](int64_t i, int64_t) { return static_cast<A>(load(pa[i])); },
        [&](int64_t i, int64_t) { return static_cast<A>(load(pb[i])); }, [&](int64_t i, A v) { py[i] = store<T>(v); });
  });
}

}  // namespace torchless::engine
