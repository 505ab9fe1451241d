// Core types: Error, DType, Tensor (extent checks, contiguity, strided chunks), Value teardown.
#include <gtest/gtest.h>

#include <cstring>

#include "core/check.h"
#include "torchless/value.h"

using namespace torchless;

TEST(Error, ContextAndEscaping) {
  Error e(Error::Code::kCorrupt, "bad");
  e.member(std::string("a\x01\"b", 4)).offset(0x1f).path("x.pt").reader("zip");
  e.offset(5);  // innermost context wins
  EXPECT_EQ(e.to_string(), "x.pt: zip: \"a\\x01\"b\": bad (at offset 0x1f)");
  EXPECT_STREQ(code_name(Error::Code::kLimitExceeded), "limit_exceeded");
  EXPECT_EQ(escape(std::string(300, 'a')).size(), 259u);
}

TEST(DType, NamesRoundTrip) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const auto t = static_cast<DType>(i);
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  }
  EXPECT_EQ(dtype_from_name("half"), DType::kFloat16);
  EXPECT_EQ(dtype_size(DType::kComplex128), 16u);
  EXPECT_FALSE(dtype_from_name("float33"));
}

namespace {
Storage iota_storage(int n) {
  Storage s = *Storage::allocate(n * 4);
  for (int i = 0; i < n; ++i) {
    float v = static_cast<float>(i);
    std::memcpy(s.mutable_data() + 4 * i, &v, 4);
  }
  return s;
}
std::vector<float> values(const Tensor& t) {
  std::vector<float> out;
  t.for_each_chunk([&](const std::byte* p, size_t n) {
    for (size_t i = 0; i < n; i += 4) {
      float v;
      std::memcpy(&v, p + i, 4);
      out.push_back(v);
    }
  });
  return out;
}
}  // namespace

TEST(Tensor, ExtentChecks) {
  Storage s = iota_storage(12);
  EXPECT_TRUE(Tensor::make(s, DType::kFloat32, {3, 4}, {4, 1}, 0).ok());
  auto past = Tensor::make(s, DType::kFloat32, {3, 4}, {4, 1}, 1);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code(), Error::Code::kCorrupt);
  EXPECT_EQ(Tensor::make(s, DType::kFloat32, {3}, {-1}, 2).error().code(), Error::Code::kCorrupt);
  EXPECT_EQ(Tensor::make(s, DType::kFloat32, {3, 4}, {4}, 0).error().code(), Error::Code::kCorrupt);
  auto overflow = Tensor::make(s, DType::kFloat32, {INT64_MAX, 2}, {0, 0}, 0);
  EXPECT_EQ(overflow.error().code(), Error::Code::kCorrupt);
  auto bomb = Tensor::make(s, DType::kFloat32, {int64_t{1} << 31, int64_t{1} << 31}, {0, 0}, 0);
  EXPECT_EQ(bomb.error().code(), Error::Code::kLimitExceeded);
  EXPECT_TRUE(Tensor::make(s, DType::kFloat32, {0, 100}, {100, 1}, 12).ok());  // empty: no extent
}

TEST(Tensor, StridedViewsReadInCOrder) {
  Storage s = iota_storage(12);
  auto t = *Tensor::make(s, DType::kFloat32, {4, 3}, {1, 4}, 0);  // transpose of 3x4
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(values(t), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  auto c = *t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(values(c), values(t));
  auto col = *Tensor::make(s, DType::kFloat32, {3}, {4}, 2);
  EXPECT_EQ(values(col), (std::vector<float>{2, 6, 10}));
  auto expanded = *Tensor::make(s, DType::kFloat32, {2, 3}, {0, 1}, 1);
  EXPECT_EQ(values(expanded), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  auto scalar = *Tensor::make(s, DType::kFloat32, {}, {}, 5);
  EXPECT_EQ(values(scalar), std::vector<float>{5});
  EXPECT_EQ(sha256_hex(t), sha256_hex(c));
  auto big = Tensor::make(s, DType::kFloat32, {int64_t{1} << 30}, {0}, 0);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->contiguous(1 << 20).error().code(), Error::Code::kLimitExceeded);
}

TEST(Value, DeepTreesTearDownWithoutRecursion) {
  Value root = Value::list();
  Value cur = root;
  for (int i = 0; i < 1000000; ++i) {
    Value next = Value::list();
    cur.items().push_back(next);
    cur = next;
  }
  cur = Value();
  root = Value();  // would overflow the stack if destruction recursed
  SUCCEED();
}

TEST(Value, SharedNodesAlias) {
  Value d = Value::dict(true);
  Value a = d;
  a.as_dict().items.emplace_back(Value::string("k"), Value::integer(1));
  ASSERT_NE(d.as_dict().find("k"), nullptr);
  EXPECT_EQ(d.as_dict().find("k")->as_int(), 1);
  EXPECT_EQ(a.node(), d.node());
}
