// Unit tests for cast(): every result bit-identical to torch's .to() (data: make_cast.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "torchless/convert.h"

namespace torchless {
namespace {

const std::string kDir = std::string(TL_TESTDATA) + "/cast/";

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f) << path;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

Tensor tensor_of(const std::vector<char>& bytes, DType dtype, std::vector<int64_t> shape) {
  Storage s = *Storage::allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(s.mutable_data(), bytes.data(), bytes.size());
  return *Tensor::contiguous_over(s, dtype, std::move(shape));
}

std::string hex(const std::byte* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = n; i-- > 0;) s += digits[int(p[i]) >> 4], s += digits[int(p[i]) & 15];
  return s;
}

TEST(Cast, BitIdenticalToTorch) {
  std::ifstream cases(kDir + "cases.txt");
  ASSERT_TRUE(cases) << "no " << kDir << "cases.txt";
  std::string line;
  int checked = 0;
  while (std::getline(cases, line)) {
    std::istringstream in(line);
    std::string src_name, dst_name, src_file, dst_file;
    int64_t n = 0;
    in >> src_name >> dst_name >> n >> src_file >> dst_file;
    const DType src = *dtype_from_name(src_name), dst = *dtype_from_name(dst_name);
    const Tensor t = tensor_of(read_bytes(kDir + src_file), src, {n});
    const std::vector<char> want = read_bytes(kDir + dst_file);
    auto got = cast(t, dst);
    ASSERT_TRUE(got) << line << ": " << got.error().to_string();
    ASSERT_EQ(got->dtype(), dst);
    ASSERT_EQ(got->shape(), t.shape());
    ASSERT_EQ(got->nbytes(), want.size()) << line;
    const size_t es = dtype_size(dst);
    int shown = 0, bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      const std::byte* g = got->data() + i * es;
      const auto* w = reinterpret_cast<const std::byte*>(want.data()) + i * es;
      if (std::memcmp(g, w, es) == 0) continue;
      ++bad;
      if (shown++ < 5)
        ADD_FAILURE() << line << ": element " << i << " source 0x"
                      << hex(t.data() + i * dtype_size(src), dtype_size(src)) << " gives 0x" << hex(g, es)
                      << ", torch 0x" << hex(w, es);
    }
    EXPECT_EQ(bad, 0) << line;
    ++checked;
  }
  EXPECT_GT(checked, 90);
}

TEST(Cast, StridedSourceEqualsContiguous) {
  std::vector<char> bytes(6 * sizeof(float));
  const float v[6] = {1.5f, -2.25f, 65520.f, 1e-7f, 3.f, -0.f};
  std::memcpy(bytes.data(), v, sizeof v);
  const Tensor base = tensor_of(bytes, DType::kFloat32, {2, 3});
  const Tensor transposed = *Tensor::make(base.storage(), DType::kFloat32, {3, 2}, {1, 3}, 0);
  auto got = cast(transposed, DType::kFloat16);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->shape(), (std::vector<int64_t>{3, 2}));
  auto dense = cast(*transposed.contiguous(), DType::kFloat16);
  ASSERT_TRUE(dense);
  EXPECT_EQ(std::memcmp(got->data(), dense->data(), got->nbytes()), 0);
  uint16_t h[6];  // transposed = [[1.5, 1e-7], [-2.25, 3], [65520, -0]]
  std::memcpy(h, got->data(), sizeof h);
  EXPECT_EQ(h[1], 0x0002);  // 1e-7: a float16 subnormal
  EXPECT_EQ(h[3], 0x4200);  // 3.0
  EXPECT_EQ(h[4], 0x7C00);  // 65520 rounds to inf
  EXPECT_EQ(h[5], 0x8000);
}

TEST(Cast, ZeroStrideBroadcastOverBudgetIsRefused) {
  std::vector<char> bytes(4);
  const Tensor one = tensor_of(bytes, DType::kFloat32, {1});
  const Tensor huge = *Tensor::make(one.storage(), DType::kFloat32, {int64_t{1} << 30, int64_t{1} << 10}, {0, 0}, 0);
  auto got = cast(huge, DType::kFloat64);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), Error::Code::kLimitExceeded);
}

TEST(Cast, EmptyAndScalar) {
  const Tensor empty = tensor_of({}, DType::kFloat32, {0, 3});
  auto e = cast(empty, DType::kBFloat16);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->numel(), 0);
  EXPECT_EQ(e->shape(), (std::vector<int64_t>{0, 3}));
  std::vector<char> bytes(8);
  const double v = -3.99;
  std::memcpy(bytes.data(), &v, 8);
  auto s = cast(tensor_of(bytes, DType::kFloat64, {}), DType::kInt32);
  ASSERT_TRUE(s);
  int32_t i;
  std::memcpy(&i, s->data(), 4);
  EXPECT_EQ(i, -3);
}

TEST(Cast, ComplexOnlyToComplexAndNoFloat8Arithmetic) {
  std::vector<char> bytes(8);
  const Tensor c = tensor_of(bytes, DType::kComplex64, {1});
  EXPECT_EQ(cast(c, DType::kFloat32).error().code(), Error::Code::kUnsupported);
  EXPECT_EQ(cast(tensor_of(bytes, DType::kFloat64, {1}), DType::kComplex128).error().code(),
            Error::Code::kUnsupported);
  EXPECT_EQ(cast(tensor_of(bytes, DType::kFloat8E4M3FN, {8}), DType::kFloat32).error().code(),
            Error::Code::kUnsupported);
  EXPECT_TRUE(cast(c, DType::kComplex128));
}

TEST(Cast, OutOfRangeFloatToIntIsDefined) {  // torch: undefined; here: truncate, saturate at int64, wrap
  std::vector<char> bytes(4 * sizeof(float));
  const float v[4] = {NAN, INFINITY, -1e30f, 300.7f};
  std::memcpy(bytes.data(), v, sizeof v);
  auto got = cast(tensor_of(bytes, DType::kFloat32, {4}), DType::kInt8);
  ASSERT_TRUE(got);
  int8_t r[4];
  std::memcpy(r, got->data(), 4);
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[1], -1);  // INT64_MAX mod 2^8
  EXPECT_EQ(r[2], 0);   // INT64_MIN mod 2^8
  EXPECT_EQ(r[3], 44);  // 300 mod 256
}

}  // namespace
}  // namespace torchless
