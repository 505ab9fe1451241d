// torchless-train-demo: the PyTorch tutorial's training loop in C++ with LibTorch, checkpointed
// by CheckpointManager in PyTorch's own layout, so a run can move between Python and C++.
//
//   torchless-train-demo --data DATA.npy --epochs N --checkpoint-dir DIR [--resume] [--seed S]
//                        [--keep N] [--optimizer adam|adamw|sgd] [--scheduler step|cosine]
//
// Model Linear(10,32)-ReLU-Linear(32,1), MSE loss, mini-batches of 32 rows in file order (the
// .npy holds [N, 11] float32: ten inputs, then the target), the optimizer stepped per batch
// (adam: Adam(lr 1e-2); adamw: AdamW(lr 1e-2, weight_decay 1e-2, amsgrad); sgd: SGD(lr 1e-2,
// momentum 0.9, nesterov, weight_decay 1e-4)), the scheduler per epoch (step: StepLR(2, 0.5);
// cosine: CosineAnnealingLR(T_max 5)). After every epoch a checkpoint {epoch, model_state_dict,
// optimizer_state_dict, scheduler_state_dict, loss} is committed as step = epoch.
// tests/interop/train_mlp.py is the same loop in Python. --resume continues from the newest
// checkpoint in DIR (written by this program or by Python in the same layout).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "torchless/checkpoint.h"
#include "torchless/libtorch.h"

namespace {

using torchless::Value;

constexpr int64_t kBatch = 32;


template <class T>
T check(torchless::Result<T> r) {
  if (!r) throw r.error();
  return std::move(*r);
}
void check(const torchless::Status& s) {
  if (!s) throw s.error();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& name, std::vector<torch::Tensor> params) {
  if (name == "adamw")
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(1e-2).weight_decay(1e-2).amsgrad(true));
  if (name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(1e-2).momentum(0.9).nesterov(true).weight_decay(1e-4));
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(1e-2));
}

std::unique_ptr<torchless::LRScheduler> make_scheduler(const std::string& name, torch::optim::Optimizer& opt) {
  if (name == "cosine") return std::make_unique<torchless::CosineAnnealingLR>(opt, 5);
  return std::make_unique<torchless::StepLR>(opt, 2, 0.5);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"torchless-train-demo: train the tutorial MLP with LibTorch, checkpointing in PyTorch's layout"};
  std::string data, dir, optimizer_name = "adam", scheduler_name = "step";
  int64_t epochs = 0, seed = 0;
  size_t keep = 0;
  bool resume = false;
  app.add_option("--data", data, ".npy of [N, 11] float32: ten inputs, then the target")->required();
  app.add_option("--epochs", epochs, "train until this many epochs are complete")->required()->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-dir", dir, "CheckpointManager directory")->required();
  app.add_flag("--resume", resume, "continue from the newest checkpoint in the directory");
  app.add_option("--seed", seed, "torch::manual_seed for the initial weights");
  app.add_option("--keep", keep, "keep the N newest checkpoints (default: all)");
  app.add_option("--optimizer", optimizer_name, "adam, adamw or sgd")->check(CLI::IsMember({"adam", "adamw", "sgd"}));
  app.add_option("--scheduler", scheduler_name, "step or cosine")->check(CLI::IsMember({"step", "cosine"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    // Data: [N, 11] float32.
    const auto sd = check(torchless::load_state_dict(data));
    if (sd.size() != 1) throw torchless::Error(torchless::Error::Code::kInvalidArgument, "expected one array").path(data);
    const torch::Tensor table = check(torchless::to_torch(sd[0].second)).to(torch::kFloat32);
    if (table.dim() != 2 || table.size(1) != 11)
      throw torchless::Error(torchless::Error::Code::kInvalidArgument, "expected an array of shape [N, 11]").path(data);
    const torch::Tensor x = table.narrow(1, 0, 10), y = table.narrow(1, 10, 1);

    torch::manual_seed(seed);
    torch::nn::Sequential net(torch::nn::Linear(10, 32), torch::nn::ReLU(), torch::nn::Linear(32, 1));
    auto opt = make_optimizer(optimizer_name, net->parameters());
    auto sched = make_scheduler(scheduler_name, *opt);

    torchless::CheckpointOptions options;
    options.retention.keep_last = keep;
    auto manager = check(torchless::CheckpointManager::open(dir, options));
    int64_t epoch = 0;
    if (resume) {
      if (auto latest = check(manager->latest())) {
        const Value ckpt = check(torchless::load(latest->path));
        const auto& d = ckpt.as_dict();
        auto need = [&](const char* key) -> const Value& {
          const Value* v = d.find(key);
          if (!v) throw torchless::Error(torchless::Error::Code::kInvalidArgument, std::string("no '") + key + "'").path(latest->path);
          return *v;
        };
        check(torchless::load_module(*net, need("model_state_dict")));
        check(torchless::load_optimizer(*opt, need("optimizer_state_dict")));
        check(sched->load_state_dict(need("scheduler_state_dict")));
        epoch = need("epoch").as_int();
        std::printf("resumed from %s (epoch %lld)\n", latest->path.c_str(), static_cast<long long>(epoch));
      }
    }

    const int64_t rows = x.size(0);
    for (; epoch < epochs;) {
      double total = 0;
      for (int64_t i = 0; i < rows; i += kBatch) {
        const int64_t n = std::min(kBatch, rows - i);
        opt->zero_grad();
        const torch::Tensor loss = torch::mse_loss(net->forward(x.narrow(0, i, n)), y.narrow(0, i, n));
        loss.backward();
        opt->step();
        total += loss.item<double>() * static_cast<double>(n);
      }
      sched->step();
      ++epoch;
      const double loss = total / static_cast<double>(rows);
      Value ckpt = Value::dict();
      ckpt.as_dict().add("epoch", Value::integer(epoch));
      ckpt.as_dict().add("model_state_dict", torchless::module_state(*net));
      ckpt.as_dict().add("optimizer_state_dict", check(torchless::optimizer_state(*opt, sched->base_lrs())));
      ckpt.as_dict().add("scheduler_state_dict", sched->state_dict());
      ckpt.as_dict().add("loss", Value::floating(loss));
      check(manager->save(ckpt, {.step = epoch, .epoch = epoch, .metrics = {{"loss", loss}}}));
      std::printf("epoch %lld loss %.6f lr %.6g\n", static_cast<long long>(epoch), loss, sched->last_lr()[0]);
      std::fflush(stdout);
    }
    check(manager->wait());
  } catch (const torchless::Error& e) {
    std::cerr << "torchless-train-demo: error [" << torchless::code_name(e.code()) << "]: " << e.to_string() << "\n";
    return 1;
  }
  return 0;
}
