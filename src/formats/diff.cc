// diff(): element-by-element comparison of two state dicts, as torch.allclose(equal_nan=True).
//
// Floating tensors are compared in double (float16/bfloat16/float32 widen exactly), blocks of
// elements at a time; integer and bool tensors exactly (differences in 128 bits); complex
// tensors by the modulus of the difference. An element is within tolerance when both are NaN,
// when they are equal (same-signed infinities included), or when both are finite and
// |a - b| <= atol + rtol * |b|. A NaN against a number, or an infinity against anything else,
// counts as an infinite difference. Types without arithmetic here (float8, quantized) are
// equal only when their bytes are.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/check.h"
#include "torchless/convert.h"

namespace torchless {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kBlock = int64_t{1} << 20;  // elements widened to double at a time

// Accumulates one tensor's comparison.
struct Tally {
  const DiffOptions& o;
  double max_abs = 0, max_rel = 0;
  bool equal = true;

  // d = |a - b| (inf for a NaN against a number), mag_b = |b|, finite: both finite.
  void add(double d, double mag_b, bool finite) {
    if (d == 0) return;
    max_abs = std::max(max_abs, d);
    max_rel = std::max(max_rel, mag_b == 0 ? kInf : d / mag_b);
    if (!finite || !(d <= o.atol + o.rtol * mag_b)) equal = false;
  }
  void real(double a, double b) {
    if (std::isnan(a) && std::isnan(b)) return;
    if (std::isnan(a) || std::isnan(b)) return add(kInf, std::fabs(b), false);
    if (a == b) return;
    add(std::fabs(a - b), std::fabs(b), std::isfinite(a) && std::isfinite(b));
  }
  void complex(std::complex<double> a, std::complex<double> b) {
    const bool na = std::isnan(a.real()) || std::isnan(a.imag());
    const bool nb = std::isnan(b.real()) || std::isnan(b.imag());
    if (na && nb) return;
    if (na || nb) return add(kInf, std::abs(b), false);
    if (a == b) return;
    const bool finite = std::isfinite(a.real()) && std::isfinite(a.imag()) && std::isfinite(b.real()) &&
                        std::isfinite(b.imag());
    add(finite ? std::abs(a - b) : kInf, std::abs(b), finite);
  }
  void integer(__int128 a, __int128 b) {
    if (a == b) return;
    const __int128 d = a > b ? a - b : b - a;
    add(static_cast<double>(d), static_cast<double>(b < 0 ? -b : b), true);
  }
};

// Elements [start, start + n) of a contiguous tensor, as a 1-d view.
Tensor block(const Tensor& t, int64_t start, int64_t n) {
  return unwrap(Tensor::make(t.storage(), t.dtype(), {n}, {1}, t.storage_offset() + start));
}

// Calls fn(const T* a, const T* b, n) over aligned blocks of both tensors cast to `as`.
template <class T, class F>
void blocks_as(const Tensor& a, const Tensor& b, DType as, F&& fn) {
  const int64_t n = a.numel();
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t len = std::min(kBlock, n - start);
    const Tensor x = unwrap(cast(block(a, start, len), as));
    const Tensor y = unwrap(cast(block(b, start, len), as));
    fn(reinterpret_cast<const T*>(x.data()), reinterpret_cast<const T*>(y.data()), len);
  }
}

// Integer elements of a contiguous tensor, read as T (the storage may be unaligned).
template <class T>
void compare_ints(const Tensor& a, const Tensor& b, Tally& tally) {
  for (int64_t i = 0, n = a.numel(); i < n; ++i) {
    T x, y;
    std::memcpy(&x, a.data() + i * sizeof(T), sizeof(T));
    std::memcpy(&y, b.data() + i * sizeof(T), sizeof(T));
    tally.integer(x, y);
  }
}

void compare(const Tensor& ta, const Tensor& tb, Tally& tally) {
  const Tensor a = unwrap(ta.contiguous()), b = unwrap(tb.contiguous());
  switch (a.dtype()) {
    case DType::kFloat32: case DType::kFloat64: case DType::kFloat16: case DType::kBFloat16:
      return blocks_as<double>(a, b, DType::kFloat64, [&](const double* x, const double* y, int64_t n) {
        for (int64_t i = 0; i < n; ++i) tally.real(x[i], y[i]);
      });
    case DType::kComplex64: case DType::kComplex128:
      return blocks_as<std::complex<double>>(a, b, DType::kComplex128, [&](auto* x, auto* y, int64_t n) {
        for (int64_t i = 0; i < n; ++i) tally.complex(x[i], y[i]);
      });
    case DType::kBool: case DType::kUInt8: return compare_ints<uint8_t>(a, b, tally);
    case DType::kInt8: return compare_ints<int8_t>(a, b, tally);
    case DType::kInt16: return compare_ints<int16_t>(a, b, tally);
    case DType::kUInt16: return compare_ints<uint16_t>(a, b, tally);
    case DType::kInt32: return compare_ints<int32_t>(a, b, tally);
    case DType::kUInt32: return compare_ints<uint32_t>(a, b, tally);
    case DType::kInt64: return compare_ints<int64_t>(a, b, tally);
    case DType::kUInt64: return compare_ints<uint64_t>(a, b, tally);
    default:  // no arithmetic: the bytes decide
      if (a.nbytes() != 0 && std::memcmp(a.data(), b.data(), a.nbytes()) != 0) tally.add(kInf, 0, false);
  }
}

}  // namespace

Result<DiffReport> diff(const StateDict& a, const StateDict& b, const DiffOptions& options) {
  return guard("diff", "", [&] {
    if (!(options.rtol >= 0) || !(options.atol >= 0))
      fail(Error::Code::kInvalidArgument, "rtol and atol must be non-negative numbers");
    std::unordered_map<std::string, size_t> in_b, in_a;
    for (size_t i = 0; i < b.size(); ++i) in_b.emplace(b[i].first, i);
    DiffReport report;
    for (const auto& [name, ta] : a) {
      if (!in_a.emplace(name, 0).second) continue;  // a repeated name: its first tensor counts
      TensorDiff d{name, "equal"};
      const auto it = in_b.find(name);
      if (it == in_b.end()) {
        d.status = "only_a";
      } else if (const Tensor& tb = b[it->second].second; tb.dtype() != ta.dtype()) {
        d.status = "dtype";
      } else if (tb.shape() != ta.shape()) {
        d.status = "shape";
      } else {
        Tally tally{options};
        try {
          compare(ta, tb, tally);
        } catch (Error& e) {
          throw e.member(name);
        }
        d.max_abs = tally.max_abs;
        d.max_rel = tally.max_rel;
        if (!tally.equal) d.status = "different";
      }
      report.tensors.push_back(std::move(d));
    }
    for (const auto& [name, tb] : b)
      if (!in_a.count(name) && in_a.emplace(name, 0).second) report.tensors.push_back({name, "only_b"});
    for (const TensorDiff& d : report.tensors) report.equal = report.equal && d.status == "equal";
    return report;
  });
}

}  // namespace torchless
