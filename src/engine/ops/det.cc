// Det (opset 11): the determinant of each square matrix in the last two dims of X
// [*, M, M] -> [*], by LU decomposition with partial pivoting in double.
#include <cmath>
#include <utility>

#include "engine/kernel.h"

namespace torchless::engine {

void det_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  if (xs.size() < 2 || xs[xs.size() - 1] != xs[xs.size() - 2])
    fail(Error::Code::kInvalidArgument, "input " + shape_text(xs) + " is not a batch of square matrices");
  const int64_t m = xs.back();
  const std::vector<int64_t> shape(xs.begin(), xs.end() - 2);
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    T* py = mut<T>(k.out(0, x.dtype(), shape));
    if (x.numel() == 0 && m > 0) return;  // no matrices
    std::vector<double> a(static_cast<size_t>(m * m));
    for (int64_t b = 0; b < numel(shape); ++b) {
      for (int64_t i = 0; i < m * m; ++i) a[i] = load(px[b * m * m + i]);
      double det = 1;
      for (int64_t c = 0; c < m && det != 0; ++c) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < m; ++r)
          if (std::abs(a[r * m + c]) > std::abs(a[piv * m + c])) piv = r;
        if (a[piv * m + c] == 0) {
          det = 0;
          break;
        }
        if (piv != c) {
          for (int64_t j = 0; j < m; ++j) std::swap(a[c * m + j], a[piv * m + j]);
          det = -det;
        }
        det *= a[c * m + c];
        for (int64_t r = c + 1; r < m; ++r) {
          const double f = a[r * m + c] / a[c * m + c];
          for (int64_t j = c; j < m; ++j) a[r * m + j] -= f * a[c * m + j];
        }
      }
      py[b] = store<T>(det);
    }
  });
}

}  // namespace torchless::engine
