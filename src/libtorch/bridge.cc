// The LibTorch bridge (libtorch.h) in one translation unit (LibTorch headers cost ~30 s each):
// tensor copies, module state in Python's naming, SGD / Adam / AdamW state in Python's
// optimizer.state_dict() layout, and StepLR / CosineAnnealingLR with Python's arithmetic.
#include "torchless/libtorch.h"

#include <cmath>
#include <cstring>
#include <map>

#include "core/check.h"

namespace torchless {
namespace {

// ---- Value helpers ----

const Value& need(const Value& dict, const std::string& key, const std::string& where) {
  if (!dict.is_dict()) fail(Error::Code::kInvalidArgument, where + ": expected a dict, got " + dict.kind_name());
  const Value* v = dict.as_dict().find(key);
  if (!v) fail(Error::Code::kInvalidArgument, where + ": no '" + key + "'");
  return *v;
}

// A Python number (int, float, bool or a 0-dim tensor, as 'step' may be) as a double.
double number(const Value& v, const std::string& what) {
  switch (v.kind()) {
    case Value::Kind::kInt: return static_cast<double>(v.as_int());
    case Value::Kind::kFloat: return v.as_float();
    case Value::Kind::kBool: return v.as_bool() ? 1 : 0;
    case Value::Kind::kTensor: {
      const Tensor& t = v.as_tensor();
      if (t.numel() == 1) return unwrap(to_torch(t)).item<double>();
      break;
    }
    default: break;
  }
  fail(Error::Code::kInvalidArgument, what + ": expected a number, got " + v.kind_name());
}

bool flag(const Value& group, const std::string& key, bool fallback) {
  const Value* v = group.as_dict().find(key);
  return v && v->is_bool() ? v->as_bool() : fallback;
}

double hyper(const Value& group, const std::string& key, const std::string& where) {
  return number(need(group, key, where), where + "." + key);
}

std::string shape_text(c10::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// ---- dtypes ----

std::optional<torch::Dtype> torch_dtype(DType d) {
  switch (d) {
    case DType::kFloat32: return torch::kFloat32;
    case DType::kFloat64: return torch::kFloat64;
    case DType::kFloat16: return torch::kFloat16;
    case DType::kBFloat16: return torch::kBFloat16;
    case DType::kInt8: return torch::kInt8;
    case DType::kUInt8: return torch::kUInt8;
    case DType::kInt16: return torch::kInt16;
    case DType::kInt32: return torch::kInt32;
    case DType::kInt64: return torch::kInt64;
    case DType::kBool: return torch::kBool;
    case DType::kComplex64: return torch::kComplexFloat;
    case DType::kComplex128: return torch::kComplexDouble;
    default: return std::nullopt;
  }
}

std::optional<DType> our_dtype(torch::Dtype d) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const auto ours = static_cast<DType>(i);
    if (torch_dtype(ours) == d) return ours;
  }
  return std::nullopt;
}

// ---- optimizers ----

enum class Kind { kSGD, kAdam, kAdamW };

Kind kind_of(const torch::optim::Optimizer& o) {
  if (dynamic_cast<const torch::optim::SGD*>(&o)) return Kind::kSGD;
  if (dynamic_cast<const torch::optim::AdamW*>(&o)) return Kind::kAdamW;
  if (dynamic_cast<const torch::optim::Adam*>(&o)) return Kind::kAdam;
  fail(Error::Code::kUnsupported, "optimizer state in Python's layout is written for SGD, Adam and AdamW only");
}

std::string state_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

Value tensor_value(const torch::Tensor& t) { return Value::tensor(unwrap(from_torch(t))); }

torch::Tensor like(const Value& v, const torch::Tensor& param, const std::string& what) {
  if (!v.is_tensor()) fail(Error::Code::kInvalidArgument, what + ": expected a tensor, got " + v.kind_name());
  torch::Tensor t = unwrap(to_torch(v.as_tensor()));
  if (!t.sizes().equals(param.sizes()))
    fail(Error::Code::kInvalidArgument, what + ": shape " + shape_text(t.sizes()) + ", the parameter's is " +
                                            shape_text(param.sizes()));
  return t.to(param.dtype());
}

// Python's step: a 0-dim float32 tensor (torch >= 1.12).
Value step_value(int64_t step) { return Value::tensor(unwrap(from_torch(torch::tensor(static_cast<float>(step))))); }

Value group_value(Kind kind, const torch::optim::OptimizerOptions& options, double initial_lr, bool with_initial,
                  std::vector<Value> params) {
  Value g = Value::dict();
  auto betas = [](const std::tuple<double, double>& b) {
    return Value::tuple({Value::floating(std::get<0>(b)), Value::floating(std::get<1>(b))});
  };
  if (kind == Kind::kSGD) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(options);
    g.as_dict().add("lr", Value::floating(o.lr()));
    g.as_dict().add("momentum", Value::floating(o.momentum()));
    g.as_dict().add("dampening", Value::floating(o.dampening()));
    g.as_dict().add("weight_decay", Value::floating(o.weight_decay()));
    g.as_dict().add("nesterov", Value::boolean(o.nesterov()));
    g.as_dict().add("maximize", Value::boolean(false));
    g.as_dict().add("foreach", Value::none());
    g.as_dict().add("differentiable", Value::boolean(false));
  } else if (kind == Kind::kAdam) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(options);
    g.as_dict().add("lr", Value::floating(o.lr()));
    g.as_dict().add("betas", betas(o.betas()));
    g.as_dict().add("eps", Value::floating(o.eps()));
    g.as_dict().add("weight_decay", Value::floating(o.weight_decay()));
    g.as_dict().add("amsgrad", Value::boolean(o.amsgrad()));
    g.as_dict().add("maximize", Value::boolean(false));
    g.as_dict().add("foreach", Value::none());
    g.as_dict().add("capturable", Value::boolean(false));
    g.as_dict().add("differentiable", Value::boolean(false));
    g.as_dict().add("fused", Value::boolean(false));
  } else {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(options);
    g.as_dict().add("lr", Value::floating(o.lr()));
    g.as_dict().add("betas", betas(o.betas()));
    g.as_dict().add("eps", Value::floating(o.eps()));
    g.as_dict().add("weight_decay", Value::floating(o.weight_decay()));
    g.as_dict().add("amsgrad", Value::boolean(o.amsgrad()));
    g.as_dict().add("foreach", Value::none());
    g.as_dict().add("maximize", Value::boolean(false));
    g.as_dict().add("capturable", Value::boolean(false));
  }
  if (with_initial) g.as_dict().add("initial_lr", Value::floating(initial_lr));
  g.as_dict().add("params", Value::list(std::move(params)));
  return g;
}

std::tuple<double, double> betas_of(const Value& group, const std::string& where) {
  const Value& b = need(group, "betas", where);
  if (!(b.is_tuple() || b.is_list()) || b.items().size() != 2)
    fail(Error::Code::kInvalidArgument, where + ".betas: expected two numbers");
  return {number(b.items()[0], where + ".betas"), number(b.items()[1], where + ".betas")};
}

// Python features the C++ optimizers lack: refused rather than silently ignored.
void refuse_unsupported(const Value& group, const std::string& where) {
  for (const char* key : {"maximize", "capturable", "differentiable"})
    if (flag(group, key, false))
      fail(Error::Code::kUnsupported, where + ": " + key + "=True has no LibTorch equivalent");
}

void set_options(Kind kind, torch::optim::OptimizerOptions& options, const Value& group, const std::string& where) {
  refuse_unsupported(group, where);
  if (kind == Kind::kSGD) {
    auto& o = static_cast<torch::optim::SGDOptions&>(options);
    o.lr(hyper(group, "lr", where)).momentum(hyper(group, "momentum", where));
    o.dampening(hyper(group, "dampening", where)).weight_decay(hyper(group, "weight_decay", where));
    o.nesterov(flag(group, "nesterov", false));
  } else if (kind == Kind::kAdam) {
    auto& o = static_cast<torch::optim::AdamOptions&>(options);
    o.lr(hyper(group, "lr", where)).betas(betas_of(group, where)).eps(hyper(group, "eps", where));
    o.weight_decay(hyper(group, "weight_decay", where)).amsgrad(flag(group, "amsgrad", false));
  } else {
    auto& o = static_cast<torch::optim::AdamWOptions&>(options);
    o.lr(hyper(group, "lr", where)).betas(betas_of(group, where)).eps(hyper(group, "eps", where));
    o.weight_decay(hyper(group, "weight_decay", where)).amsgrad(flag(group, "amsgrad", false));
  }
}

template <class State>
std::unique_ptr<torch::optim::OptimizerParamState> adam_state(const Value& s, const torch::Tensor& p, bool amsgrad,
                                                              const std::string& where) {
  auto st = std::make_unique<State>();
  st->step(static_cast<int64_t>(std::llround(number(need(s, "step", where), where + ".step"))));
  st->exp_avg(like(need(s, "exp_avg", where), p, where + ".exp_avg"));
  st->exp_avg_sq(like(need(s, "exp_avg_sq", where), p, where + ".exp_avg_sq"));
  if (amsgrad) st->max_exp_avg_sq(like(need(s, "max_exp_avg_sq", where), p, where + ".max_exp_avg_sq"));
  return st;
}

// Python's % for a positive modulus (the sign of the divisor).
int64_t floor_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

}  // namespace

// ---- tensors ----

Result<torch::Tensor> to_torch(const Tensor& t) {
  return guard("libtorch", "", [&] {
    const auto d = torch_dtype(t.dtype());
    if (!d) fail(Error::Code::kUnsupported, std::string("LibTorch 1.13 has no ") + std::string(dtype_name(t.dtype())));
    const Tensor dense = unwrap(t.contiguous());
    torch::Tensor out = torch::empty(std::vector<int64_t>(dense.shape().begin(), dense.shape().end()), torch::dtype(*d));
    if (dense.nbytes()) std::memcpy(out.data_ptr(), dense.data(), dense.nbytes());
    return out;
  });
}

Result<Tensor> from_torch(const torch::Tensor& t) {
  return guard("libtorch", "", [&] {
    const auto d = our_dtype(t.scalar_type());
    if (!d) fail(Error::Code::kUnsupported, std::string("no torchless dtype for ") + c10::toString(t.scalar_type()));
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    Storage s = unwrap(Storage::allocate(c.nbytes()));
    if (c.nbytes()) std::memcpy(s.mutable_data(), c.data_ptr(), c.nbytes());
    return unwrap(Tensor::contiguous_over(s, *d, std::vector<int64_t>(c.sizes().begin(), c.sizes().end())));
  });
}

// ---- modules ----

namespace {

// (name, tensor) in Python's state_dict order.
std::vector<std::pair<std::string, torch::Tensor>> entries(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_modules("", /*include_self=*/true)) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      if (p.value().defined()) out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false))
      if (b.value().defined()) out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

}  // namespace

StateDict module_state_dict(torch::nn::Module& module) {
  StateDict sd;
  for (const auto& [name, t] : entries(module)) sd.emplace_back(name, unwrap(from_torch(t)));
  return sd;
}

Value module_state(torch::nn::Module& module) {
  Value d = Value::dict(/*ordered=*/true);
  for (auto& [name, t] : module_state_dict(module)) d.as_dict().add(name, Value::tensor(std::move(t)));
  return d;
}

Status save_module(torch::nn::Module& module, const std::string& path, const SaveOptions& options) {
  StateDict sd;
  if (Status st = guard("libtorch", path, [&] { sd = module_state_dict(module); }); !st) return st;
  return save_state_dict(sd, path, options);
}

Result<ModuleLoadReport> load_module(torch::nn::Module& module, const StateDict& state, const ModuleLoadOptions& options) {
  return guard("libtorch", "", [&] {
    StateDict sd = state;
    if (options.strip_prefix)
      for (const char* p : {"module.", "_orig_mod."}) {
        const std::string prefix = p;
        if (!sd.empty() && std::all_of(sd.begin(), sd.end(), [&](const auto& e) { return e.first.starts_with(prefix); }))
          for (auto& e : sd) e.first.erase(0, prefix.size());
      }
    std::map<std::string, const Tensor*> by_name;
    for (const auto& e : sd) by_name[e.first] = &e.second;
    ModuleLoadReport report;
    const auto targets = entries(module);
    std::map<std::string, bool> known;
    for (const auto& [name, target] : targets) {
      known[name] = true;
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        report.missing_keys.push_back(name);
        continue;
      }
      const Tensor& src = *it->second;
      const auto d = torch_dtype(src.dtype());
      if (!d || !target.sizes().equals(src.shape()))
        fail(Error(Error::Code::kInvalidArgument,
                   "size mismatch: the state dict has " + shape_text(src.shape()) + " " +
                       std::string(dtype_name(src.dtype())) + ", the module has " + shape_text(target.sizes()) + " " +
                       c10::toString(target.scalar_type()))
                 .member(name));
      torch::NoGradGuard no_grad;
      target.copy_(unwrap(to_torch(src)));  // casts the dtype as torch's load_state_dict does
    }
    for (const auto& e : sd)
      if (!known.count(e.first)) report.unexpected_keys.push_back(e.first);
    if (options.strict && (!report.missing_keys.empty() || !report.unexpected_keys.empty())) {
      std::string msg = "the state dict does not match the module (strict):";
      auto list = [&](const char* what, const std::vector<std::string>& keys) {
        if (keys.empty()) return;
        std::vector<std::string> shown;
        for (const std::string& k : keys) shown.push_back(escape(k, 80));
        msg += std::string(" ") + what + ": " + some_of(shown, 10) + ";";
      };
      list("missing", report.missing_keys);
      list("unexpected", report.unexpected_keys);
      fail(Error::Code::kInvalidArgument, msg);
    }
    return report;
  });
}

Result<ModuleLoadReport> load_module(torch::nn::Module& module, const Value& state, const ModuleLoadOptions& options) {
  return guard("libtorch", "", [&] {
    if (!state.is_dict()) fail(Error::Code::kInvalidArgument, std::string("a state dict must be a dict, got ") + state.kind_name());
    StateDict sd;
    for (const auto& [k, v] : state.as_dict().items) {
      if (!k.is_string() || !v.is_tensor())
        fail(Error::Code::kInvalidArgument, "a state dict maps names to tensors; found a " + std::string(k.kind_name()) +
                                                " -> " + v.kind_name() + " entry");
      sd.emplace_back(k.as_string(), v.as_tensor());
    }
    return unwrap(load_module(module, sd, options));
  });
}

Result<ModuleLoadReport> load_module(torch::nn::Module& module, const std::string& path, const ModuleLoadOptions& options,
                                     const LoadOptions& load) {
  auto sd = load_state_dict(path, load);
  if (!sd) return std::move(sd).error();
  auto r = load_module(module, *sd, options);
  if (!r) return std::move(r).error().path(path);
  return r;
}

// ---- optimizers ----

Result<Value> optimizer_state(const torch::optim::Optimizer& optimizer, const std::vector<double>& initial_lr) {
  return guard("libtorch", "", [&] {
    const Kind kind = kind_of(optimizer);
    const auto& groups = optimizer.param_groups();
    if (!initial_lr.empty() && initial_lr.size() != groups.size())
      fail(Error::Code::kInvalidArgument, "initial_lr has " + std::to_string(initial_lr.size()) + " values for " +
                                              std::to_string(groups.size()) + " parameter groups");
    Value state = Value::dict();
    Value param_groups = Value::list();
    int64_t index = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      std::vector<Value> params;
      for (const auto& p : groups[g].params()) {
        params.push_back(Value::integer(index));
        auto it = optimizer.state().find(state_key(p));
        if (it != optimizer.state().end()) {
          Value s = Value::dict();
          if (kind == Kind::kSGD) {
            const auto& st = static_cast<const torch::optim::SGDParamState&>(*it->second);
            s.as_dict().add("momentum_buffer", st.momentum_buffer().defined() ? tensor_value(st.momentum_buffer()) : Value::none());
          } else {
            // AdamParamState and AdamWParamState have the same fields.
            auto fill = [&](const auto& st) {
              s.as_dict().add("step", step_value(st.step()));
              s.as_dict().add("exp_avg", tensor_value(st.exp_avg()));
              s.as_dict().add("exp_avg_sq", tensor_value(st.exp_avg_sq()));
              if (st.max_exp_avg_sq().defined()) s.as_dict().add("max_exp_avg_sq", tensor_value(st.max_exp_avg_sq()));
            };
            if (kind == Kind::kAdam) fill(static_cast<const torch::optim::AdamParamState&>(*it->second));
            else fill(static_cast<const torch::optim::AdamWParamState&>(*it->second));
          }
          state.as_dict().items.emplace_back(Value::integer(index), s);
        }
        ++index;
      }
      param_groups.items().push_back(group_value(kind, groups[g].options(), initial_lr.empty() ? 0 : initial_lr[g],
                                                 !initial_lr.empty(), std::move(params)));
    }
    Value out = Value::dict();
    out.as_dict().add("state", state);
    out.as_dict().add("param_groups", param_groups);
    return out;
  });
}

Status load_optimizer(torch::optim::Optimizer& optimizer, const Value& state) {
  return guard("libtorch", "", [&] {
    const Kind kind = kind_of(optimizer);
    const Value& groups = need(state, "param_groups", "optimizer state");
    const Value& per_param = need(state, "state", "optimizer state");
    if (!groups.is_list() || !per_param.is_dict())
      fail(Error::Code::kInvalidArgument, "optimizer state: 'param_groups' must be a list and 'state' a dict");
    auto& ours = optimizer.param_groups();
    if (groups.items().size() != ours.size())
      fail(Error::Code::kInvalidArgument, "optimizer state has " + std::to_string(groups.items().size()) +
                                              " parameter groups, the optimizer " + std::to_string(ours.size()));
    // Check everything first, then change the optimizer.
    std::vector<std::pair<std::string, std::unique_ptr<torch::optim::OptimizerParamState>>> states;
    std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options;
    for (size_t g = 0; g < ours.size(); ++g) {
      const std::string where = "param_groups." + std::to_string(g);
      const Value& group = groups.items()[g];
      const Value& ids = need(group, "params", where);
      if (!ids.is_list() || ids.items().size() != ours[g].params().size())
        fail(Error::Code::kInvalidArgument, where + ": " + std::to_string(ids.is_list() ? ids.items().size() : 0) +
                                                " parameters, the optimizer's group has " +
                                                std::to_string(ours[g].params().size()));
      auto o = ours[g].options().clone();
      set_options(kind, *o, group, where);
      const bool amsgrad = kind != Kind::kSGD && flag(group, "amsgrad", false);
      for (size_t i = 0; i < ids.items().size(); ++i) {
        const Value& id = ids.items()[i];
        if (!id.is_int()) fail(Error::Code::kInvalidArgument, where + ".params: expected integers");
        const torch::Tensor& p = ours[g].params()[i];
        const Value* s = nullptr;
        for (const auto& [k, v] : per_param.as_dict().items)
          if (k.is_int() && k.as_int() == id.as_int()) s = &v;
        if (!s) continue;  // no state yet (the parameter never had a gradient)
        const std::string sw = "state." + std::to_string(id.as_int());
        if (kind == Kind::kSGD) {
          auto st = std::make_unique<torch::optim::SGDParamState>();
          const Value& buf = need(*s, "momentum_buffer", sw);
          if (!buf.is_none()) st->momentum_buffer(like(buf, p, sw + ".momentum_buffer"));
          states.emplace_back(state_key(p), std::move(st));
        } else if (kind == Kind::kAdam) {
          states.emplace_back(state_key(p), adam_state<torch::optim::AdamParamState>(*s, p, amsgrad, sw));
        } else {
          states.emplace_back(state_key(p), adam_state<torch::optim::AdamWParamState>(*s, p, amsgrad, sw));
        }
      }
      options.push_back(std::move(o));
    }
    optimizer.state().clear();
    for (auto& [k, st] : states) optimizer.state()[k] = std::move(st);
    for (size_t g = 0; g < ours.size(); ++g) ours[g].set_options(std::move(options[g]));
  });
}

// ---- schedulers ----

LRScheduler::LRScheduler(torch::optim::Optimizer& optimizer) : optimizer_(optimizer) {
  base_lrs_ = group_lrs();  // Python: group.setdefault('initial_lr', group['lr'])
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> lrs;
  for (const auto& g : optimizer_.param_groups()) lrs.push_back(g.options().get_lr());
  return lrs;
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  const std::vector<double> lrs = get_lr();
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size() && i < lrs.size(); ++i) groups[i].options().set_lr(lrs[i]);
  last_lr_ = group_lrs();
}

Value LRScheduler::state_dict() const {
  auto floats = [](const std::vector<double>& xs) {
    std::vector<Value> v;
    for (double x : xs) v.push_back(Value::floating(x));
    return Value::list(std::move(v));
  };
  Value d = Value::dict();
  save_own(d);
  d.as_dict().add("base_lrs", floats(base_lrs_));
  d.as_dict().add("last_epoch", Value::integer(last_epoch_));
  d.as_dict().add("verbose", Value::boolean(false));
  d.as_dict().add("_step_count", Value::integer(step_count_));
  d.as_dict().add("_get_lr_called_within_step", Value::boolean(false));
  d.as_dict().add("_last_lr", floats(last_lr_));
  return d;
}

Status LRScheduler::load_state_dict(const Value& state) {
  return guard("libtorch", "", [&] {
    auto numbers = [&](const std::string& key) {
      const Value& v = need(state, key, "scheduler state");
      if (!v.is_list()) fail(Error::Code::kInvalidArgument, "scheduler state." + key + ": expected a list");
      std::vector<double> out;
      for (const Value& x : v.items()) out.push_back(number(x, "scheduler state." + key));
      if (out.size() != optimizer_.param_groups().size())
        fail(Error::Code::kInvalidArgument, "scheduler state." + key + " has " + std::to_string(out.size()) +
                                                " values for " + std::to_string(optimizer_.param_groups().size()) +
                                                " parameter groups");
      return out;
    };
    const auto base = numbers("base_lrs");
    const auto last = numbers("_last_lr");
    const int64_t epoch = static_cast<int64_t>(number(need(state, "last_epoch", "scheduler state"), "last_epoch"));
    const int64_t count = static_cast<int64_t>(number(need(state, "_step_count", "scheduler state"), "_step_count"));
    load_own(state);
    base_lrs_ = base;
    last_lr_ = last;
    last_epoch_ = epoch;
    step_count_ = count;
  });
}

StepLR::StepLR(torch::optim::Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  initial_step();
}

std::vector<double> StepLR::get_lr() const {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

void StepLR::save_own(Value& d) const {
  d.as_dict().add("step_size", Value::integer(step_size_));
  d.as_dict().add("gamma", Value::floating(gamma_));
}

void StepLR::load_own(const Value& d) {
  step_size_ = static_cast<int64_t>(number(need(d, "step_size", "scheduler state"), "step_size"));
  gamma_ = number(need(d, "gamma", "scheduler state"), "gamma");
  if (step_size_ <= 0) fail(Error::Code::kInvalidArgument, "scheduler state.step_size must be positive");
}

CosineAnnealingLR::CosineAnnealingLR(torch::optim::Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() const {
  const double pi = M_PI, t = static_cast<double>(t_max_), e = static_cast<double>(last_epoch_);
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  for (size_t i = 0; i < lrs.size(); ++i) {
    const double base = base_lrs_[i];
    if (step_count_ == 1 && last_epoch_ > 0)
      lrs[i] = eta_min_ + (base - eta_min_) * (1 + std::cos(e * pi / t)) / 2;
    else if (floor_mod(last_epoch_ - 1 - t_max_, 2 * t_max_) == 0)
      lrs[i] = lrs[i] + (base - eta_min_) * (1 - std::cos(pi / t)) / 2;
    else
      lrs[i] = (1 + std::cos(pi * e / t)) / (1 + std::cos(pi * (e - 1) / t)) * (lrs[i] - eta_min_) + eta_min_;
  }
  return lrs;
}

void CosineAnnealingLR::save_own(Value& d) const {
  d.as_dict().add("T_max", Value::integer(t_max_));
  d.as_dict().add("eta_min", Value::floating(eta_min_));
}

void CosineAnnealingLR::load_own(const Value& d) {
  t_max_ = static_cast<int64_t>(number(need(d, "T_max", "scheduler state"), "T_max"));
  eta_min_ = number(need(d, "eta_min", "scheduler state"), "eta_min");
  if (t_max_ <= 0) fail(Error::Code::kInvalidArgument, "scheduler state.T_max must be positive");
}

}  // namespace torchless
