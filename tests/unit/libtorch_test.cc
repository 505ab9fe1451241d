// The LibTorch bridge (libtorch.h): tensor copies for every shared dtype, module state in
// Python's naming and order (buffers included), strict and non-strict loading with errors that
// name the key, both shapes and dtypes, optimizer state round trips and refusals, and the
// schedulers' learning rates against Python's closed forms. (Python interop: run_train_demo.py.)
#include <gtest/gtest.h>

#include <cmath>

#include "torchless/libtorch.h"

namespace {

using namespace torchless;

torch::nn::Sequential net() {
  torch::manual_seed(0);
  return torch::nn::Sequential(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4), torch::nn::ReLU(),
                               torch::nn::Linear(4, 2));
}

std::vector<std::string> names(const StateDict& sd) {
  std::vector<std::string> out;
  for (const auto& e : sd) out.push_back(e.first);
  return out;
}

}  // namespace

TEST(LibTorch, TensorsRoundTripEveryDtype) {
  for (auto d : {torch::kFloat32, torch::kFloat64, torch::kFloat16, torch::kBFloat16, torch::kInt8, torch::kUInt8,
                 torch::kInt16, torch::kInt32, torch::kInt64, torch::kBool, torch::kComplexFloat, torch::kComplexDouble}) {
    SCOPED_TRACE(c10::toString(d));
    const torch::Tensor t = (torch::arange(24).reshape({2, 3, 4}) % 7).to(d).transpose(0, 2);  // not contiguous
    auto ours = from_torch(t);
    ASSERT_TRUE(ours.ok()) << ours.error().to_string();
    EXPECT_EQ(ours->shape(), (std::vector<int64_t>{4, 3, 2}));
    auto back = to_torch(*ours);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(torch::equal(*back, t));
  }
  EXPECT_EQ(to_torch(*Tensor::contiguous_over(*Storage::allocate(2), DType::kUInt16, {1})).error().code(),
            Error::Code::kUnsupported);
}

TEST(LibTorch, ModuleStateHasPythonsNamesAndOrder) {
  auto m = net();
  const StateDict sd = module_state_dict(*m);
  // Python: [k for k in nn.Sequential(nn.Linear(3,4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4,2)).state_dict()]
  EXPECT_EQ(names(sd), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                                 "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"}));
  EXPECT_EQ(sd[6].second.dtype(), DType::kInt64);
  EXPECT_TRUE(module_state(*m).as_dict().ordered);
  // Saved and read back: the same names, in order, and bytes.
  const std::string path = ::testing::TempDir() + "/libtorch_module.pt";
  ASSERT_TRUE(save_module(*m, path).ok());
  auto back = load_state_dict(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(names(*back), names(sd));
  for (size_t i = 0; i < sd.size(); ++i) EXPECT_EQ(sha256_hex((*back)[i].second), sha256_hex(sd[i].second));
}

TEST(LibTorch, LoadModuleStrictAndNonStrict) {
  auto src = net();
  torch::manual_seed(1);
  auto dst = net();
  {
    torch::NoGradGuard g;
    for (auto& p : dst->parameters()) p.add_(1.0);
  }
  StateDict sd = module_state_dict(*src);
  // A DataParallel-style prefix, stripped on request.
  for (auto& e : sd) e.first = "module." + e.first;
  auto r = load_module(*dst, sd, {.strip_prefix = true});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->missing_keys.empty() && r->unexpected_keys.empty());
  for (const auto& [name, t] : module_state_dict(*dst)) {
    const auto& want = *std::find_if(sd.begin(), sd.end(), [&](const auto& e) { return e.first == "module." + name; });
    EXPECT_EQ(sha256_hex(t), sha256_hex(want.second)) << name;
  }

  // Missing and unexpected keys: refused when strict (both named), reported otherwise.
  StateDict partial = module_state_dict(*src);
  partial.erase(partial.begin() + 1);                       // 0.bias
  const Tensor extra = partial[0].second;
  partial.emplace_back("head.extra", extra);                // unknown
  auto strict = load_module(*dst, partial);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().code(), Error::Code::kInvalidArgument);
  EXPECT_NE(strict.error().message().find("missing: 0.bias;"), std::string::npos) << strict.error().message();
  EXPECT_NE(strict.error().message().find("unexpected: head.extra;"), std::string::npos) << strict.error().message();
  auto loose = load_module(*dst, partial, {.strict = false});
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ(loose->missing_keys, std::vector<std::string>{"0.bias"});
  EXPECT_EQ(loose->unexpected_keys, std::vector<std::string>{"head.extra"});

  // A shape mismatch names the key, both shapes and dtypes.
  StateDict wrong = module_state_dict(*src);
  wrong[0].second = *from_torch(torch::zeros({4, 5}, torch::kFloat64));
  auto bad = load_module(*dst, wrong);
  ASSERT_FALSE(bad.ok());
  const std::string msg = bad.error().to_string();
  EXPECT_NE(msg.find("0.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 5] float64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 3] Float"), std::string::npos) << msg;
}

TEST(LibTorch, OptimizerStateRoundTripsAndRefusesMismatches) {
  auto m = net();
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(0.01).amsgrad(true).weight_decay(0.1));
  auto x = torch::randn({8, 3});
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    m->forward(x).pow(2).mean().backward();
    opt.step();
  }
  auto state = optimizer_state(opt, {0.01});
  ASSERT_TRUE(state.ok()) << state.error().to_string();
  const ValueDict& d = state->as_dict();
  const Value& g = d.find("param_groups")->items()[0];
  EXPECT_EQ(g.as_dict().items[0].first.as_string(), "lr");
  EXPECT_EQ(g.as_dict().find("params")->items().size(), 6u);  // Linear, BatchNorm, Linear
  EXPECT_EQ(g.as_dict().find("initial_lr")->as_float(), 0.01);
  const Value& s0 = d.find("state")->as_dict().items[0].second;
  EXPECT_EQ(s0.as_dict().find("step")->as_tensor().dtype(), DType::kFloat32);
  EXPECT_TRUE(s0.as_dict().find("max_exp_avg_sq"));

  // Into a fresh optimizer: the same next step.
  auto m2 = net();
  {
    torch::NoGradGuard no;
    for (size_t i = 0; i < m2->parameters().size(); ++i) m2->parameters()[i].copy_(m->parameters()[i]);
  }
  torch::optim::Adam opt2(m2->parameters(), torch::optim::AdamOptions(0.5));
  ASSERT_TRUE(load_optimizer(opt2, *state).ok());
  for (auto* o : {&opt, &opt2}) {
    auto& mm = o == &opt ? m : m2;
    o->zero_grad();
    mm->forward(x).pow(2).mean().backward();
    o->step();
  }
  for (size_t i = 0; i < m->parameters().size(); ++i) EXPECT_TRUE(torch::equal(m->parameters()[i], m2->parameters()[i]));

  // Fewer parameters than the state names: refused, the optimizer unchanged.
  torch::optim::Adam small({m->parameters()[0]}, torch::optim::AdamOptions(0.5));
  auto st = load_optimizer(small, *state);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("6 parameters"), std::string::npos) << st.error().message();
  EXPECT_EQ(small.param_groups()[0].options().get_lr(), 0.5);
  // A different optimizer kind's state lacks its keys.
  torch::optim::SGD sgd(m->parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_EQ(load_optimizer(sgd, *state).error().code(), Error::Code::kInvalidArgument);
}

TEST(LibTorch, SchedulersFollowPythonsLearningRates) {
  auto m = net();
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.1));
  CosineAnnealingLR cos(opt, 4, 0.01);
  for (int e = 1; e <= 12; ++e) {
    cos.step();
    // Python's closed form, valid for every epoch: eta_min + (base - eta_min)(1 + cos(pi e / T))/2
    const double want = 0.01 + 0.09 * (1 + std::cos(M_PI * e / 4)) / 2;
    EXPECT_NEAR(cos.last_lr()[0], want, 1e-12) << e;
  }
  torch::optim::SGD opt2(m->parameters(), torch::optim::SGDOptions(0.1));
  StepLR step(opt2, 3, 0.5);
  for (int e = 1; e <= 7; ++e) step.step();
  EXPECT_DOUBLE_EQ(opt2.param_groups()[0].options().get_lr(), 0.1 * 0.25);
  const Value s = step.state_dict();
  std::vector<std::string> keys;
  for (const auto& kv : s.as_dict().items) keys.push_back(kv.first.as_string());
  EXPECT_EQ(keys, (std::vector<std::string>{"step_size", "gamma", "base_lrs", "last_epoch", "verbose", "_step_count",
                                            "_get_lr_called_within_step", "_last_lr"}));
  EXPECT_EQ(s.as_dict().find("last_epoch")->as_int(), 7);
  EXPECT_EQ(s.as_dict().find("_step_count")->as_int(), 8);
}
