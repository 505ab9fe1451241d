// .npy writer (formats.md 10 [rule] Writer): version 1.0, little-endian, C order, the header
// byte for byte as NumPy 1.24's numpy.save writes it:
//   "\x93NUMPY" 01 00 <u16 LE HEADER_LEN> "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
//   + NumPy's growth-axis spare spaces (21 - digits of shape[0]) + spaces + "\n"
// so that the data starts at a multiple of 64. bfloat16 and float8 have no NumPy dtype: their
// values are widened exactly to float32 ('<f4'). Written atomically.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/check.h"
#include "formats/writers.h"

namespace torchless {
namespace formats {
namespace {

const char* npy_descr(DType d) {
  switch (d) {
    case DType::kFloat32: return "<f4";
    case DType::kFloat64: return "<f8";
    case DType::kFloat16: return "<f2";
    case DType::kInt8: return "|i1";
    case DType::kUInt8: return "|u1";
    case DType::kInt16: return "<i2";
    case DType::kInt32: return "<i4";
    case DType::kInt64: return "<i8";
    case DType::kUInt16: return "<u2";
    case DType::kUInt32: return "<u4";
    case DType::kUInt64: return "<u8";
    case DType::kBool: return "|b1";
    case DType::kComplex64: return "<c8";
    case DType::kComplex128: return "<c16";
    default: return nullptr;
  }
}

// Exact float32 value of a bfloat16 / float8 element (formats: sign, exponent and mantissa
// bits, bias; "fn" types have no infinity and one NaN pattern per sign, "fnuz" types use 0x80
// as their only NaN, e8m0 is an unsigned power of two with 0xff as NaN).
float widen(DType d, const std::byte* p) {
  if (d == DType::kBFloat16) {
    uint32_t bits = (static_cast<uint32_t>(p[1]) << 24) | (static_cast<uint32_t>(p[0]) << 16);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  const unsigned b = static_cast<uint8_t>(*p);
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  if (d == DType::kFloat8E8M0FNU) return b == 0xff ? kNaN : std::ldexp(1.0f, static_cast<int>(b) - 127);
  int ebits = 4, mbits = 3, bias = 7;
  if (d == DType::kFloat8E5M2 || d == DType::kFloat8E5M2FNUZ) ebits = 5, mbits = 2, bias = 15;
  if (d == DType::kFloat8E4M3FNUZ || d == DType::kFloat8E5M2FNUZ) {
    ++bias;
    if (b == 0x80) return kNaN;
  }
  const unsigned emax = (1u << ebits) - 1, mmax = (1u << mbits) - 1;
  const unsigned e = (b >> mbits) & emax, m = b & mmax;
  const bool neg = b & 0x80;
  if (d == DType::kFloat8E5M2 && e == emax)
    return m ? kNaN : (neg ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
  if (d == DType::kFloat8E4M3FN && e == emax && m == mmax) return kNaN;
  const float v = e == 0 ? std::ldexp(static_cast<float>(m), 1 - bias - mbits)
                         : std::ldexp(static_cast<float>((1u << mbits) | m), static_cast<int>(e) - bias - mbits);
  return neg ? -v : v;
}

bool widened(DType d) {
  return d == DType::kBFloat16 || d == DType::kFloat8E4M3FN || d == DType::kFloat8E5M2 ||
         d == DType::kFloat8E4M3FNUZ || d == DType::kFloat8E5M2FNUZ || d == DType::kFloat8E8M0FNU;
}

std::string npy_header(const char* descr, const std::vector<int64_t>& shape) {
  std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) h += (i ? ", " : "") + std::to_string(shape[i]);
  h += shape.size() == 1 ? ",), }" : "), }";
  if (!shape.empty()) h.append(21 - std::to_string(shape[0]).size(), ' ');  // GROWTH_AXIS_MAX_DIGITS
  const size_t hlen = h.size() + 1;  // + '\n'
  h.append(64 - (6 + 2 + 2 + hlen) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY\x01";
  out.push_back('\0');
  out.push_back(static_cast<char>(h.size() & 0xff));
  out.push_back(static_cast<char>(h.size() >> 8));
  return out + h;
}

}  // namespace
}  // namespace formats

Status save_npy(const Tensor& tensor, const std::string& path) {
  return guard("npy writer", path, [&] {
    using namespace formats;
    const DType d = tensor.dtype();
    const bool widen_f32 = widened(d);
    const char* descr = widen_f32 ? "<f4" : npy_descr(d);
    if (!descr)
      fail(Error::Code::kUnsupported, "NumPy has no dtype for " + std::string(dtype_name(d)));
    const std::string header = npy_header(descr, tensor.shape());
    if (header.size() > 65535 + 10) fail(Error::Code::kUnsupported, "npy header too long for version 1.0");
    check_materialisable("", tensor);
    AtomicFile file(path);
    BufferedSink sink(file);
    sink.write(header.data(), header.size());
    if (!widen_f32) {
      sink.write_tensor(tensor);
    } else {
      const size_t es = dtype_size(d);
      std::vector<float> buf(size_t{1} << 16);
      tensor.for_each_chunk([&](const std::byte* p, size_t n) {
        for (size_t done = 0; done < n / es;) {
          const size_t k = std::min(buf.size(), n / es - done);
          for (size_t i = 0; i < k; ++i) buf[i] = widen(d, p + (done + i) * es);
          sink.write(buf.data(), k * sizeof(float));
          done += k;
        }
      });
    }
    sink.flush();
    file.commit();
  });
}

}  // namespace torchless
