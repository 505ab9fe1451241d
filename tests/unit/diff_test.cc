// Unit tests for diff(): files from make_diff.py (torch.save, safetensors, a one-ulp change)
// and small in-memory state dicts for the element rules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "formats/convert_internal.h"
#include "torchless/convert.h"

namespace torchless {
namespace {

const std::string kDir = std::string(TL_TESTDATA) + "/diff/";

StateDict load(const std::string& name) {
  auto sd = load_state_dict(kDir + name);
  EXPECT_TRUE(sd) << name << ": " << sd.error().to_string();
  return sd ? *sd : StateDict{};
}

template <class T>
Tensor make(DType dtype, std::vector<T> values) {
  Storage s = *Storage::allocate(values.size() * sizeof(T));
  std::memcpy(s.mutable_data(), values.data(), values.size() * sizeof(T));
  return *Tensor::contiguous_over(s, dtype, {static_cast<int64_t>(values.size())});
}

const TensorDiff* find(const DiffReport& r, const std::string& name) {
  for (const auto& d : r.tensors)
    if (d.name == name) return &d;
  return nullptr;
}

TEST(Diff, IdenticalFileIsEqualAtZeroTolerance) {
  const StateDict a = load("model.pth");
  ASSERT_EQ(a.size(), 6u);
  auto r = diff(a, load("model.pth"), {.rtol = 0, .atol = 0});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->equal);
  ASSERT_EQ(r->tensors.size(), 6u);
  for (const auto& d : r->tensors) EXPECT_EQ(d.status, "equal") << d.name;
}

TEST(Diff, TorchFileEqualsItsSafetensors) {
  const StateDict a = load("model.pth");
  auto r = diff(a, load("model.safetensors"), {.rtol = 0, .atol = 0});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->equal);
  ASSERT_EQ(r->tensors.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(r->tensors[i].name, a[i].first);  // A's order
}

TEST(Diff, OneUlpIsFoundAtZeroTolerance) {
  std::ifstream f(kDir + "ulp.txt");
  double ulp = 0;
  ASSERT_TRUE(f >> ulp);
  const StateDict a = load("model.pth"), b = load("model_ulp.pth");
  auto r = diff(a, b, {.rtol = 0, .atol = 0});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->equal);
  for (const auto& d : r->tensors) EXPECT_EQ(d.status, d.name == "fc.weight" ? "different" : "equal") << d.name;
  const TensorDiff* w = find(*r, "fc.weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->max_abs, ulp);
  EXPECT_GT(w->max_rel, 0);
  auto loose = diff(a, b);  // torch.allclose's defaults forgive one ulp
  ASSERT_TRUE(loose);
  EXPECT_TRUE(loose->equal);
  EXPECT_EQ(find(*loose, "fc.weight")->max_abs, ulp);
}

TEST(Diff, NanInfAndTolerance) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  StateDict a = {{"nan", make<double>(DType::kFloat64, {nan, 1})},
                 {"nan_vs_num", make<double>(DType::kFloat64, {nan})},
                 {"inf", make<double>(DType::kFloat64, {inf, -inf})},
                 {"inf_vs_num", make<double>(DType::kFloat64, {inf})},
                 {"close", make<float>(DType::kFloat32, {100.f})}};
  StateDict b = {{"nan", make<double>(DType::kFloat64, {nan, 1})},
                 {"nan_vs_num", make<double>(DType::kFloat64, {0})},
                 {"inf", make<double>(DType::kFloat64, {inf, -inf})},
                 {"inf_vs_num", make<double>(DType::kFloat64, {1e308})},
                 {"close", make<float>(DType::kFloat32, {100.5f})}};
  auto r = diff(a, b, {.rtol = 0.01, .atol = 0});
  ASSERT_TRUE(r);
  EXPECT_EQ(find(*r, "nan")->status, "equal");
  EXPECT_EQ(find(*r, "nan_vs_num")->status, "different");
  EXPECT_EQ(find(*r, "nan_vs_num")->max_abs, inf);
  EXPECT_EQ(find(*r, "inf")->status, "equal");
  EXPECT_EQ(find(*r, "inf_vs_num")->status, "different");
  EXPECT_EQ(find(*r, "close")->status, "equal");  // 0.5 <= 0.01 * 100.5
  EXPECT_DOUBLE_EQ(find(*r, "close")->max_abs, 0.5);
  EXPECT_DOUBLE_EQ(find(*r, "close")->max_rel, 0.5 / 100.5);
  auto strict = diff(a, b, {.rtol = 0.001, .atol = 0});
  EXPECT_EQ(find(*strict, "close")->status, "different");
}

TEST(Diff, IntegersExactMissingDtypeShape) {
  StateDict a = {{"big", make<int64_t>(DType::kInt64, {INT64_MAX, 5})},
                 {"same", make<int64_t>(DType::kInt64, {INT64_MIN})},
                 {"dt", make<int32_t>(DType::kInt32, {1})},
                 {"sh", make<int32_t>(DType::kInt32, {1, 2})},
                 {"gone", make<uint8_t>(DType::kBool, {1})}};
  StateDict b = {{"extra", make<uint8_t>(DType::kUInt8, {1})},
                 {"sh", make<int32_t>(DType::kInt32, {1})},
                 {"dt", make<int64_t>(DType::kInt64, {1})},
                 {"same", make<int64_t>(DType::kInt64, {INT64_MIN})},
                 {"big", make<int64_t>(DType::kInt64, {INT64_MAX - 1, 5})}};
  auto r = diff(a, b, {.rtol = 0, .atol = 0});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->equal);
  std::vector<std::string> names, statuses;
  for (const auto& d : r->tensors) names.push_back(d.name), statuses.push_back(d.status);
  EXPECT_EQ(names, (std::vector<std::string>{"big", "same", "dt", "sh", "gone", "extra"}));
  EXPECT_EQ(statuses, (std::vector<std::string>{"different", "equal", "dtype", "shape", "only_a", "only_b"}));
  EXPECT_EQ(r->tensors[0].max_abs, 1);  // exact although 2^63 - 1 is not a double
  auto loose = diff({a[0]}, {b[4]}, {.rtol = 0, .atol = 1});
  ASSERT_TRUE(loose);
  EXPECT_TRUE(loose->equal);
}

TEST(Diff, StridedViewEqualsItsContiguousCopy) {
  const Tensor base = make<float>(DType::kFloat32, {1, 2, 3, 4, 5, 6});
  const Tensor t = *Tensor::make(base.storage(), DType::kFloat32, {3, 2}, {1, 3}, 0);
  auto r = diff({{"w", t}}, {{"w", *t.contiguous()}}, {.rtol = 0, .atol = 0});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->equal);
  auto other = diff({{"w", t}}, {{"w", *Tensor::contiguous_over(base.storage(), DType::kFloat32, {3, 2})}});
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->equal);
}

// convert's transform step (the writing half is tested with the writers).
TEST(ConvertPrepare, StripSelectCast) {
  ConvertOptions o;
  o.strip_prefix = "fc.";
  o.only = "^(weight|bias|steps)$";
  o.cast_floats = true;
  o.dtype = DType::kFloat16;
  auto sd = prepare(kDir + "model.pth", o);
  ASSERT_TRUE(sd) << sd.error().to_string();
  std::vector<std::string> names;
  for (const auto& [n, t] : *sd) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias", "steps"}));
  EXPECT_EQ((*sd)[0].second.dtype(), DType::kFloat16);
  EXPECT_EQ((*sd)[2].second.dtype(), DType::kInt64);  // not floating: kept
  const StateDict src = load("model.pth");
  auto back = diff({{"w", *cast((*sd)[0].second, DType::kFloat32)}}, {{"w", *cast(*cast(src[0].second, DType::kFloat16), DType::kFloat32)}},
                   {.rtol = 0, .atol = 0});
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->equal);
  o.only = "(";
  EXPECT_EQ(prepare(kDir + "model.pth", o).error().code(), Error::Code::kInvalidArgument);
  o.only = "";
  o.strip_prefix = "";
  EXPECT_EQ(prepare(kDir + "missing.pth", o).error().code(), Error::Code::kNotFound);
}

TEST(Diff, NegativeToleranceIsRefused) {
  auto r = diff({}, {}, {.rtol = -1, .atol = 0});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Error::Code::kInvalidArgument);
}

}  // namespace
}  // namespace torchless
