// MatMulInteger (opset 10): MatMul of 8-bit integers after subtracting zero points, int32
// output. a_zero_point is one value or one per row of A (M values); b_zero_point one value or
// one per column of B (N values).
#include "engine/ops/matmul.h"
#include "engine/ops/quant.h"

namespace torchless::engine {

void mat_mul_integer_run(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  const MatMulPlan p = matmul_plan(k.node, a.shape(), b.shape());
  const std::vector<double> az = k.has_input(2) ? quant_param(k, 2, p.m, "a_zero_point") : std::vector<double>{0};
  const std::vector<double> bz = k.has_input(3) ? quant_param(k, 3, p.n, "b_zero_point") : std::vector<double>{0};
  dispatch(Types<int8_t, uint8_t>{}, a.dtype(), k.node, [&]<class A>() {
    dispatch(Types<int8_t, uint8_t>{}, b.dtype(), k.node, [&]<class B>() {
      const A* pa = data<A>(a);
      const B* pb = data<B>(b);
      int32_t* py = mut<int32_t>(k.out(0, DType::kInt32, p.out));
      matmul_loop<int64_t>(
          p, [&](int64_t i, int64_t row) { return int64_t{pa[i]} - static_cast<int64_t>(at_or_only(az, row)); },
          [&](int64_t i, int64_t col) { return int64_t{pb[i]} - static_cast<int64_t>(at_or_only(bz, col)); },
          [&](int64_t i, int64_t v) { py[i] = static_cast<int32_t>(v); });
    });
  });
}

}  // namespace torchless::engine
