// torchless/libtorch.h — the LibTorch bridge (library torchless::torchless_torch, built when
// LibTorch is found). Moves a C++ training run's state to and from PyTorch's own layout:
//
//   torch::nn::Sequential net(torch::nn::Linear(10, 32), torch::nn::ReLU(), torch::nn::Linear(32, 1));
//   torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
//   torchless::StepLR sched(opt, /*step_size=*/2, /*gamma=*/0.5);
//   Value ckpt = *torchless::load("python_checkpoint.pt");      // written by torch.save
//   auto& d = ckpt.as_dict();
//   torchless::load_module(*net, *d.find("model_state_dict"));  // names as model.state_dict()
//   torchless::load_optimizer(opt, *d.find("optimizer_state_dict"));
//   sched.load_state_dict(*d.find("scheduler_state_dict"));
//   ...  // train; then the same three as Values Python's load_state_dict() accepts:
//   module_state(*net); optimizer_state(opt, sched.base_lrs()); sched.state_dict();
//
// Optimizers: torch::optim::SGD, Adam and AdamW (Python's per-parameter state keyed by the
// parameter's index across groups, 'step' a 0-dim float32 tensor, 'param_groups' with every
// hyper-parameter key torch 1.13 writes). Schedulers: StepLR and CosineAnnealingLR, computing
// the learning rates with Python's own formulas. Errors come back as Result / Status.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "torchless/error.h"
#include "torchless/load.h"
#include "torchless/save.h"
#include "torchless/tensor.h"
#include "torchless/value.h"

namespace torchless {

// A CPU torch tensor holding a copy of `t`'s values (C-contiguous), and the reverse.
Result<torch::Tensor> to_torch(const Tensor& t);
Result<Tensor> from_torch(const torch::Tensor& t);

// ---- modules ----

// The module's parameters and buffers under Python's model.state_dict() names and order
// (each module's parameters, then its buffers, then its children's, depth first).
StateDict module_state_dict(torch::nn::Module& module);
// The same as an OrderedDict Value, as a checkpoint's "model_state_dict".
Value module_state(torch::nn::Module& module);
// Writes module_state_dict() to `path`: a torch file (model.load_state_dict(torch.load(path))
// in Python), or safetensors / shards as `options` say.
Status save_module(torch::nn::Module& module, const std::string& path, const SaveOptions& options = {});

struct ModuleLoadOptions {
  bool strict = true;         // every module entry must be present and nothing else
  bool strip_prefix = false;  // remove a module. / _orig_mod. prefix shared by every name
};
struct ModuleLoadReport {
  std::vector<std::string> missing_keys;     // in the module, not in the state dict
  std::vector<std::string> unexpected_keys;  // in the state dict, not in the module
};
// Copies the tensors of `state` (an OrderedDict / dict name -> tensor Value) into the module.
// A shape or dtype mismatch is kInvalidArgument naming the key and both shapes and dtypes;
// with strict, missing or unexpected keys are too.
Result<ModuleLoadReport> load_module(torch::nn::Module& module, const Value& state, const ModuleLoadOptions& options = {});
Result<ModuleLoadReport> load_module(torch::nn::Module& module, const StateDict& state,
                                     const ModuleLoadOptions& options = {});
// From any file the readers accept (a state dict, a checkpoint, safetensors, ...).
Result<ModuleLoadReport> load_module(torch::nn::Module& module, const std::string& path,
                                     const ModuleLoadOptions& options = {}, const LoadOptions& load = {});

// ---- optimizers ----

// optimizer.state_dict() as Python writes it for the same optimizer (SGD, Adam, AdamW).
// `initial_lr`: per group, the value an LR scheduler records (Python's schedulers add it to
// every group); empty = not written.
Result<Value> optimizer_state(const torch::optim::Optimizer& optimizer, const std::vector<double>& initial_lr = {});
// Python's optimizer.load_state_dict(): the groups' hyper-parameters and each parameter's
// state, parameters matched by index. Group and parameter counts must agree (kInvalidArgument).
Status load_optimizer(torch::optim::Optimizer& optimizer, const Value& state);

// ---- LR schedulers (torch.optim.lr_scheduler's arithmetic and state_dict layout) ----

class LRScheduler {
 public:
  explicit LRScheduler(torch::optim::Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  void step();  // once per epoch, after the optimizer steps, as in Python
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  const std::vector<double>& last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  Value state_dict() const;
  Status load_state_dict(const Value& state);

 protected:
  void initial_step();  // Python's _initial_step(): called by the derived constructor
  virtual std::vector<double> get_lr() const = 0;
  virtual void save_own(Value& dict) const = 0;    // the class's own fields, first
  virtual void load_own(const Value& dict) = 0;
  std::vector<double> group_lrs() const;

  torch::optim::Optimizer& optimizer_;
  std::vector<double> base_lrs_, last_lr_;
  int64_t last_epoch_ = -1, step_count_ = 0;
};

// lr *= gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(torch::optim::Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 private:
  std::vector<double> get_lr() const override;
  void save_own(Value& dict) const override;
  void load_own(const Value& dict) override;
  int64_t step_size_;
  double gamma_;
};

// Cosine from the base lr down to eta_min over T_max epochs (Python's recursive form).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(torch::optim::Optimizer& optimizer, int64_t t_max, double eta_min = 0);

 private:
  std::vector<double> get_lr() const override;
  void save_own(Value& dict) const override;
  void load_own(const Value& dict) override;
  int64_t t_max_;
  double eta_min_;
};

}  // namespace torchless
