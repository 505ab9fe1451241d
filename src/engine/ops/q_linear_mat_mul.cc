// QLinearMatMul (opset 10): MatMul of quantized 8-bit a and b (zero points subtracted, exact
// integer accumulation), requantized to y's type:
// y = saturate(round_half_even(acc * a_scale * b_scale / y_scale) + y_zero_point).
// a's scale / zero point are one value or one per row (M), b's one value or one per column (N).
#include "engine/ops/matmul.h"
#include "engine/ops/quant.h"

namespace torchless::engine {

void q_linear_mat_mul_run(Kernel& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(3);
  const MatMulPlan p = matmul_plan(k.node, a.shape(), b.shape());
  const std::vector<double> as = quant_param(k, 1, p.m, "a_scale"), az = quant_param(k, 2, p.m, "a_zero_point");
  const std::vector<double> bs = quant_param(k, 4, p.n, "b_scale"), bz = quant_param(k, 5, p.n, "b_zero_point");
  const double ys = quant_param(k, 6, 1, "y_scale")[0], yz = quant_param(k, 7, 1, "y_zero_point")[0];
  if (ys == 0) fail(Error::Code::kInvalidArgument, "y_scale is 0");
  const DType yt = k.in(7).dtype();
  dispatch(Types<int8_t, uint8_t>{}, a.dtype(), k.node, [&]<class A>() {
    dispatch(Types<int8_t, uint8_t>{}, b.dtype(), k.node, [&]<class B>() {
      dispatch(Types<int8_t, uint8_t>{}, yt, k.node, [&]<class Y>() {
        const A* pa = data<A>(a);
        const B* pb = data<B>(b);
        Y* py = mut<Y>(k.out(0, yt, p.out));
        const int64_t n = p.n, m = p.m;
        matmul_loop<int64_t>(
            p, [&](int64_t i, int64_t row) { return int64_t{pa[i]} - static_cast<int64_t>(at_or_only(az, row)); },
            [&](int64_t i, int64_t col) { return int64_t{pb[i]} - static_cast<int64_t>(at_or_only(bz, col)); },
            [&](int64_t i, int64_t v) {
              const int64_t col = i % n, row = (i / n) % m;
              const double real = static_cast<double>(v) * at_or_only(as, row) * at_or_only(bs, col);
              py[i] = quantize_value<Y>(real / ys + yz);
            });
      });
    });
  });
}

}  // namespace torchless::engine
