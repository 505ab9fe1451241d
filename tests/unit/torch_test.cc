// load() / open() / load_state_dict() on files written by python3-torch (make_torch.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

#include "torchless/load.h"

using namespace torchless;

namespace {

const std::string kDir = std::string(TL_TESTDATA) + "/torch/";

nlohmann::json expected() {
  std::ifstream f(kDir + "expected.json");
  return nlohmann::json::parse(f);
}

std::vector<std::string> names(const StateDict& sd) {
  std::vector<std::string> n;
  for (const auto& e : sd) n.push_back(e.first);
  return n;
}

void expect_state_dict(const std::string& file, const LoadOptions& o = {}, const char* key = "names") {
  SCOPED_TRACE(file);
  auto sd = load_state_dict(kDir + file, o);
  ASSERT_TRUE(sd.ok()) << sd.error().to_string();
  const auto e = expected()[file];
  EXPECT_EQ(names(*sd), e[key].get<std::vector<std::string>>());
  const Tensor& first = sd->front().second;
  ASSERT_EQ(first.dtype(), DType::kFloat32);
  auto c = first.contiguous();
  ASSERT_TRUE(c.ok());
  const auto want = e["first"].get<std::vector<float>>();
  for (size_t i = 0; i < want.size(); ++i) {
    float v;
    std::memcpy(&v, c->data() + 4 * i, 4);
    EXPECT_EQ(v, want[i]) << "element " << i;
  }
}

}  // namespace

TEST(Torch, PlainStateDict) { expect_state_dict("state_dict.pt"); }
TEST(Torch, CheckpointFindsModelStateDict) { expect_state_dict("checkpoint.ckpt"); }
TEST(Torch, CheckpointUnderModelKey) { expect_state_dict("under_model.bin"); }
TEST(Torch, WholeModelPickle) { expect_state_dict("whole_model.pt"); }
TEST(Torch, Legacy) { expect_state_dict("legacy.pt"); }
TEST(Torch, LegacyWholeModel) { expect_state_dict("legacy_whole_model.pt"); }
TEST(Torch, TorchScript) { expect_state_dict("traced.ts.pt"); }

TEST(Torch, DataParallelPrefixKeptUnlessStripped) {
  expect_state_dict("data_parallel.pth", {}, "prefixed");
  LoadOptions o;
  o.strip_prefix = true;
  expect_state_dict("data_parallel.pth", o);
  auto f = open(kDir + "data_parallel.pth");
  ASSERT_TRUE(f.ok());
  bool warned = false;
  for (const auto& w : f->warnings) warned |= w.find("'module.'") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Torch, ExplicitKey) {
  LoadOptions o;
  o.key = "model_state_dict";
  expect_state_dict("checkpoint.ckpt", o);
  o.key = "epoch";
  auto sd = load_state_dict(kDir + "checkpoint.ckpt", o);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().code(), Error::Code::kInvalidArgument);
  o.key = "nope";
  sd = load_state_dict(kDir + "checkpoint.ckpt", o);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().code(), Error::Code::kNotFound);
}

TEST(Torch, NoStateDictListsCandidates) {
  auto sd = load_state_dict(kDir + "no_tensors.pt");
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().code(), Error::Code::kNotFound);
  EXPECT_NE(sd.error().message().find("top-level keys: a (dict), c (list)"), std::string::npos) << sd.error().message();
}

TEST(Torch, FormatDetection) {
  EXPECT_EQ(*detect_format(kDir + "state_dict.pt"), Format::kTorchZip);
  EXPECT_EQ(*detect_format(kDir + "legacy.pt"), Format::kTorchLegacy);
  auto f = open(kDir + "traced.ts.pt");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->format, Format::kTorchScript);
}

TEST(Torch, CheckpointValuesAndNames) {
  auto f = open(kDir + "checkpoint.ckpt");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  bool epoch = false, loss = false, exp_avg = false;
  for (const auto& [n, v] : f->values) {
    if (n == "epoch") epoch = v.is_int() && v.as_int() == 3;
    if (n == "loss") loss = v.is_float() && v.as_float() == 0.25;
  }
  for (const auto& [n, t] : f->tensors) exp_avg |= n == "optimizer_state_dict.state.0.exp_avg";
  EXPECT_TRUE(epoch);
  EXPECT_TRUE(loss);
  EXPECT_TRUE(exp_avg);
}

TEST(Torch, CopyModeMatchesMapMode) {
  LoadOptions copy;
  copy.map = false;
  auto a = load_state_dict(kDir + "state_dict.pt");
  auto b = load_state_dict(kDir + "state_dict.pt", copy);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ(sha256_hex((*a)[i].second), sha256_hex((*b)[i].second));
}
