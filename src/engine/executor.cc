// The reference executor: nodes in topological order, each through its op's kernel, every
// value freed after its last reader. Also the Kernel methods and the public Engine.
#include "engine/executor.h"

#include <cstring>
#include <fstream>
#include <malloc.h>
#include <iterator>
#include <memory>
#include <new>

#include "core/file.h"
#include "engine/model.h"

namespace torchless::engine {

void Budget::charge(uint64_t bytes) {
  check_limit("engine.max_tensor_bytes", max_tensor_bytes, bytes, "a tensor would exceed the request budget");
  used = add_u64(used, bytes);
  check_limit("engine.max_run_bytes", max_run_bytes, used, "the run would allocate more than its budget");
}

std::vector<Val> Executor::run(const Graph& g, std::vector<Val> inputs, const std::vector<Val>* outer) const {
  std::vector<Val> env(g.values.size());
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].has_constant) env[i] = Val::of(g.values[i].constant);
  for (int c : g.captures) env[c] = (*outer)[g.values[c].capture];
  if (inputs.size() != g.inputs.size())
    fail(Error::Code::kInvalidArgument, "a graph with " + std::to_string(g.inputs.size()) + " inputs was given " +
                                            std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) env[g.inputs[i]] = std::move(inputs[i]);

  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& node = g.nodes[k];
    std::vector<const Val*> ins;
    ins.reserve(node.inputs.size());
    for (int id : node.inputs) ins.push_back(id >= 0 ? &env[id] : nullptr);
    std::vector<Val> outs(node.outputs.size());
    try {
      Kernel kernel(node, std::move(ins), outs, budget_, *this, env);
      if (!(node.fast && !budget_.reference && node.fast(kernel))) node.op->run(kernel);
      for (size_t i = 0; i < node.outputs.size(); ++i)
        if (node.outputs[i] >= 0 && outs[i].kind == Val::Kind::kNone && node.op_type != "Optional" &&
            node.op_type != "If" && node.op_type != "Loop")
          fail(Error::Code::kInternal, "output " + std::to_string(i) + " was not computed");
    } catch (Error& e) {
      throw std::move(e.member("node " + node.name + " (" + node.op_type + "-" + std::to_string(node.version) + ")"));
    }
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (node.outputs[i] >= 0) env[node.outputs[i]] = std::move(outs[i]);
    for (int id : node.inputs)
      if (id >= 0 && g.values[id].last_use == static_cast<int>(k) && !g.values[id].is_output) env[id] = Val{};
  }
  std::vector<Val> result;
  result.reserve(g.outputs.size());
  for (int id : g.outputs) result.push_back(env[id]);
  return result;
}

// ---- Node attributes (typed at import; a wrong type here is the model's error) ----

const Attr* Node::attr(std::string_view name) const {
  for (const Attr& a : attrs)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {
const Attr* typed(const Node& n, std::string_view name, Attr::Type type) {
  const Attr* a = n.attr(name);
  if (a && a->type != type)
    fail(Error::Code::kInvalidArgument, "attribute '" + std::string(name) + "' has the wrong type");
  return a;
}
}  // namespace

int64_t Node::attr_int(std::string_view name, int64_t def) const {
  const Attr* a = typed(*this, name, Attr::Type::kInt);
  return a ? a->i : def;
}
float Node::attr_float(std::string_view name, float def) const {
  const Attr* a = typed(*this, name, Attr::Type::kFloat);
  return a ? a->f : def;
}
std::string Node::attr_string(std::string_view name, std::string def) const {
  const Attr* a = typed(*this, name, Attr::Type::kString);
  return a ? a->s : def;
}
std::vector<int64_t> Node::attr_ints(std::string_view name, std::vector<int64_t> def) const {
  const Attr* a = typed(*this, name, Attr::Type::kInts);
  return a ? a->ints : def;
}
std::vector<float> Node::attr_floats(std::string_view name, std::vector<float> def) const {
  const Attr* a = typed(*this, name, Attr::Type::kFloats);
  return a ? a->floats : def;
}
std::string Node::where() const { return "node '" + name + "' (" + op_type + "-" + std::to_string(version) + ")"; }

// ---- Kernel ----

const Val& Kernel::in_val(size_t i) const {
  if (i >= inputs_.size() || !inputs_[i])
    fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " is missing");
  return *inputs_[i];
}

const Tensor& Kernel::in(size_t i) const {
  const Val& v = in_val(i);
  if (v.kind != Val::Kind::kTensor) fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " is not a tensor");
  return v.tensor;
}

Tensor Kernel::allocate(DType dtype, const std::vector<int64_t>& shape, bool zero) {
  const uint64_t n = static_cast<uint64_t>(numel(shape));
  const uint64_t bytes = mul_u64(n, dtype_size(dtype), "tensor byte size");
  budget_.charge(bytes);
  // 64-byte aligned (whole cache lines and vectors); guard() turns bad_alloc into the same
  // kLimitExceeded "out of memory" as Storage::allocate.
  Storage s = unwrap(guard("tensor", "", [&] {
    constexpr std::align_val_t kAlign{64};
    const size_t size = bytes == 0 ? 1 : static_cast<size_t>(bytes);
    std::shared_ptr<std::byte[]> buf(static_cast<std::byte*>(::operator new[](size, kAlign)),
                                     [](std::byte* p) { ::operator delete[](p, kAlign); });
    if (zero) std::memset(buf.get(), 0, size);
    const std::byte* p = buf.get();
    return Storage::wrap(p, bytes, std::move(buf));
  }));
  return unwrap(Tensor::contiguous_over(std::move(s), dtype, shape));
}

Tensor Kernel::alloc(DType dtype, const std::vector<int64_t>& shape) { return allocate(dtype, shape, true); }
Tensor Kernel::alloc_uninit(DType dtype, const std::vector<int64_t>& shape) { return allocate(dtype, shape, false); }

Tensor& Kernel::out(size_t i, DType dtype, const std::vector<int64_t>& shape) {
  set_out(i, alloc(dtype, shape));
  return outputs_[i].tensor;
}

Tensor& Kernel::out_uninit(size_t i, DType dtype, const std::vector<int64_t>& shape) {
  set_out(i, alloc_uninit(dtype, shape));
  return outputs_[i].tensor;
}

void Kernel::set_out(size_t i, Tensor t) { set_out_val(i, Val::of(std::move(t))); }

void Kernel::set_out_val(size_t i, Val v) {
  if (i >= outputs_.size()) fail(Error::Code::kInternal, "output " + std::to_string(i) + " does not exist");
  outputs_[i] = std::move(v);
}

std::vector<Val> Kernel::run_graph(const Graph& g, std::vector<Val> inputs) {
  return exec_.run(g, std::move(inputs), &env_);
}

std::vector<int64_t> Kernel::ints(size_t i) const {
  const Tensor& t = in(i);
  std::vector<int64_t> r(static_cast<size_t>(t.numel()));
  dispatch(IntTypes{}, t.dtype(), node, [&]<class T>() {
    const T* p = data<T>(t);
    for (size_t k = 0; k < r.size(); ++k) r[k] = static_cast<int64_t>(p[k]);
  });
  return r;
}

double Kernel::scalar(size_t i) const {
  const Tensor& t = in(i);
  if (t.numel() != 1) fail(Error::Code::kInvalidArgument, "input " + std::to_string(i) + " must hold one value");
  double r = 0;
  dispatch(AllTypes{}, t.dtype(), node, [&]<class T>() { r = static_cast<double>(load(data<T>(t)[0])); });
  return r;
}

// ---- helpers ----

void unsupported_dtype(const Node& node, DType t) {
  fail(Error::Code::kUnsupported, node.op_type + "-" + std::to_string(node.version) + " is not implemented for " +
                                      std::string(dtype_name(t)));
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(Error::Code::kInvalidArgument, "negative dimension in shape " + shape_text(shape));
    if (__builtin_mul_overflow(n, d, &n))
      fail(Error::Code::kLimitExceeded, "shape " + shape_text(shape) + " has more than 2^63 elements");
  }
  return n;
}

int64_t norm_axis(int64_t axis, int64_t rank, const Node& node) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    if (!(rank == 0 && (axis == 0 || axis == -1)))
      fail(Error::Code::kInvalidArgument, "axis " + std::to_string(axis) + " is out of range for rank " +
                                              std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    s[d] = acc;
    acc *= std::max<int64_t>(shape[d], 1);
  }
  return s;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<int64_t> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes, const Node& node) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  for (const auto& s : shapes)
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[rank - s.size() + i];
      const int64_t d = s[i];
      if (d == o || d == 1) continue;
      if (o == 1) o = d;
      else {
        std::string all;
        for (const auto& x : shapes) all += (all.empty() ? "" : " and ") + shape_text(x);
        fail(Error::Code::kInvalidArgument, "shapes " + all + " do not broadcast");
      }
    }
  return out;
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> own = strides_of(in);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[off + i] = in[i] == 1 ? 0 : own[i];
  return s;
}

Tensor reshaped(const Tensor& t, std::vector<int64_t> shape) {
  return unwrap(Tensor::make(t.storage(), t.dtype(), shape, strides_of(shape), t.storage_offset()));
}

// ---- Model::run and the public Engine ----

std::vector<Val> Model::run(std::vector<Val> inputs) const {
  // glibc hands blocks above its mmap threshold (128 KiB to 32 MiB) back to the kernel on
  // free and trims the free top of the heap, so every run page-faulted its fresh tensors in
  // again (a tenth of a resnet18 run, a fifth of mobilenet_v2 at batch 8). From the first run
  // on, every block comes from the heap (no mmap) and up to 1 GiB of free heap top is kept for
  // the next run; what is kept never exceeds the peak the process has used.
  [[maybe_unused]] static const bool heap_kept = [] {
    return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  }();
  Budget budget{options.max_tensor_bytes, options.max_run_bytes, 0, threads, options.reference_kernels};
  Executor exec(budget);
  return exec.run(graph, std::move(inputs), nullptr);
}

}  // namespace torchless::engine

namespace torchless {
namespace {

template <class F>
auto guarded(const std::string& path, F&& f) -> Result<decltype(f())> {
  try {
    return f();
  } catch (Error& e) {
    if (!path.empty()) e.path(path);
    return std::move(e.reader("onnx"));
  } catch (const std::bad_alloc&) {
    return Error(Error::Code::kLimitExceeded, "out of memory").path(path);
  }
}

}  // namespace

Result<Engine> Engine::open(const std::string& path, const EngineOptions& options) {
  return guarded(path, [&]() -> Engine {
    auto file = unwrap(MappedFile::open(path, true));
    return Engine(engine::Model::load(reinterpret_cast<const uint8_t*>(file->data()), file->size(), path, options));
  });
}

Result<Engine> Engine::from_bytes(std::span<const std::byte> bytes, const EngineOptions& options,
                                  const std::string& name) {
  return guarded(name, [&]() -> Engine {
    return Engine(engine::Model::load(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "", options));
  });
}

const std::vector<TensorInfo>& Engine::inputs() const { return model_->inputs; }
const std::vector<TensorInfo>& Engine::outputs() const { return model_->outputs; }
int64_t Engine::opset() const { return model_->opset; }
const std::string& Engine::producer() const { return model_->producer; }

Result<std::vector<Tensor>> Engine::run(const std::vector<std::pair<std::string, Tensor>>& inputs) const {
  return guarded(model_->path, [&]() -> std::vector<Tensor> {
    std::vector<engine::Val> vals(model_->inputs.size());
    std::vector<bool> given(model_->inputs.size(), false);
    for (const auto& [name, tensor] : inputs) {
      size_t i = 0;
      while (i < model_->inputs.size() && model_->inputs[i].name != name) ++i;
      if (i == model_->inputs.size()) fail(Error::Code::kInvalidArgument, "the model has no input '" + name + "'");
      if (given[i]) fail(Error::Code::kInvalidArgument, "input '" + name + "' given twice");
      const TensorInfo& info = model_->inputs[i];
      if (info.dtype_known && tensor.dtype() != info.dtype)
        fail(Error::Code::kInvalidArgument, "input '" + name + "' must be " + std::string(dtype_name(info.dtype)) +
                                                ", got " + std::string(dtype_name(tensor.dtype())));
      if (info.rank_known) {
        bool ok = tensor.ndim() == info.shape.size();
        for (size_t d = 0; ok && d < info.shape.size(); ++d) ok = info.shape[d] < 0 || info.shape[d] == tensor.shape()[d];
        if (!ok)
          fail(Error::Code::kInvalidArgument, "input '" + name + "' has shape " + engine::shape_text(tensor.shape()) +
                                                  ", the model declares " + engine::shape_text(info.shape) +
                                                  " (-1: any size)");
      }
      given[i] = true;
      vals[i] = engine::Val::of(unwrap(tensor.contiguous()));
    }
    for (size_t i = 0; i < given.size(); ++i)
      if (!given[i]) fail(Error::Code::kInvalidArgument, "input '" + model_->inputs[i].name + "' is missing");
    std::vector<Tensor> out;
    for (engine::Val& v : model_->run(std::move(vals))) {
      if (v.kind != engine::Val::Kind::kTensor)
        fail(Error::Code::kUnsupported, "a model output is a sequence or an empty optional");
      out.push_back(std::move(v.tensor));
    }
    return out;
  });
}

}  // namespace torchless
