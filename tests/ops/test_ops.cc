// torchless-test-ops: each optimised kernel (src/engine/ops/fast_table.inc) against its
// reference kernel on the same random inputs, over a table of shapes and attributes per op.
// A case passes when the outputs have the same shape, the normalised squared error
// sum((fast - ref)^2) / sum(ref^2) over the finite elements is at most 1e-10, every finite
// element is within 1e-4 * max(1, max finite |ref|) and the non-finite ones are the same
// (infinities equal, NaN where the reference has NaN). Some inputs hold NaN, infinities and
// signed zeros. The fast kernels run with 1 and 2 threads. Prints one line per
// failure, then "test_ops: N passed, N failed" (exit 1 on any failure). The ISA the kernels
// use can be capped with TORCHLESS_MAX_ISA=avx2|default.
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/check.h"
#include "engine/executor.h"
#include "engine/kernel.h"
#include "engine/ops/sgemm.h"

namespace torchless::engine {
#define FAST(Name, sym) \
  void sym##_run(Kernel&); \
  bool sym##_fast(Kernel&);
#include "engine/ops/fast_table.inc"
#undef FAST
}  // namespace torchless::engine

using namespace torchless;
using namespace torchless::engine;

namespace {

using Shape = std::vector<int64_t>;
int passed = 0, failed = 0;
std::mt19937 rng(12345);

Tensor random_tensor(const Shape& shape, DType dtype = DType::kFloat32) {
  const int64_t n = numel(shape);
  Tensor t = unwrap(Tensor::contiguous_over(unwrap(Storage::allocate(n * dtype_size(dtype))), dtype, shape));
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == DType::kFloat32)
      mut<float>(t)[i] = d(rng);
    else
      mut<double>(t)[i] = d(rng);
  }
  return t;
}

// random_tensor() with every `every`-th element replaced by NaN, +-inf, -0 or +0 in turn.
Tensor special_tensor(const Shape& shape, int64_t every) {
  Tensor t = random_tensor(shape);
  const float specials[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f};
  for (int64_t i = 0, s = 0; i < t.numel(); i += every, ++s) mut<float>(t)[i] = specials[s % 5];
  return t;
}

// An input to run(): a tensor, or absent (an omitted optional input).
using Input = std::optional<Tensor>;

Attr ints_attr(const std::string& name, std::vector<int64_t> v) {
  return {.name = name, .type = Attr::Type::kInts, .ints = std::move(v)};
}
Attr int_attr(const std::string& name, int64_t v) { return {.name = name, .type = Attr::Type::kInt, .i = v}; }
Attr float_attr(const std::string& name, float v) { return {.name = name, .type = Attr::Type::kFloat, .f = v}; }
Attr string_attr(const std::string& name, std::string v) {
  return {.name = name, .type = Attr::Type::kString, .s = std::move(v)};
}

// A node reading inputs 0..n_inputs-1 and writing output 0.
Node single_output_node(const char* name, const char* op_type, int version, int n_inputs) {
  Node node;
  node.name = name;
  node.op_type = op_type;
  node.version = version;
  for (int i = 0; i < n_inputs; ++i) node.inputs.push_back(i);
  node.outputs = {0};
  return node;
}

// Runs one kernel on the inputs; the output, or a message when it throws or declines.
struct Outcome {
  bool ok = false;
  Tensor y;
  std::string error;
};

template <class F>
Outcome run(const Node& node, const std::vector<Input>& inputs, int threads, F&& kernel) {
  std::vector<Val> vals;
  for (const Input& t : inputs) vals.push_back(t ? Val::of(*t) : Val{});
  std::vector<const Val*> ptrs;
  for (const Val& v : vals) ptrs.push_back(&v);
  std::vector<Val> outputs(1);
  Budget budget{uint64_t{1} << 40, uint64_t{1} << 40, 0, threads, false};
  Executor exec(budget);
  std::vector<Val> env;
  Kernel k(node, ptrs, outputs, budget, exec, env);
  Outcome o;
  try {
    if (!kernel(k)) {
      o.error = "declined";
      return o;
    }
  } catch (const std::exception& e) {
    o.error = e.what();
    return o;
  }
  o.ok = outputs[0].is_tensor();
  if (o.ok)
    o.y = outputs[0].tensor;
  else
    o.error = "no output";
  return o;
}

void check(const std::string& name, const Node& node, const std::vector<Input>& inputs, void (*ref)(Kernel&),
           bool (*fast)(Kernel&)) {
  const Outcome r = run(node, inputs, 1, [&](Kernel& k) {
    ref(k);
    return true;
  });
  if (!r.ok) {
    ++failed;
    std::printf("FAIL %s: reference: %s\n", name.c_str(), r.error.c_str());
    return;
  }
  for (int threads : {1, 2}) {
    const std::string label = name + " threads=" + std::to_string(threads);
    const Outcome f = run(node, inputs, threads, fast);
    if (!f.ok) {
      ++failed;
      std::printf("FAIL %s: fast: %s\n", label.c_str(), f.error.c_str());
      continue;
    }
    if (f.y.shape() != r.y.shape() || f.y.dtype() != r.y.dtype()) {
      ++failed;
      std::printf("FAIL %s: shape %s, reference %s\n", label.c_str(), shape_text(f.y.shape()).c_str(),
                  shape_text(r.y.shape()).c_str());
      continue;
    }
    const float* a = data<float>(f.y);
    const float* b = data<float>(r.y);
    const int64_t n = f.y.numel();
    double err = 0, ref2 = 0, amax = 1, worst = 0;
    int64_t mismatched = 0;  // non-finite elements that differ
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(b[i])) amax = std::max(amax, std::fabs(double(b[i])));
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(b[i]) || !std::isfinite(a[i])) {
        mismatched += !(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])));
        continue;
      }
      const double d = double(a[i]) - double(b[i]);
      err += d * d;
      ref2 += double(b[i]) * b[i];
      worst = std::max(worst, std::fabs(d));
    }
    const double nmse = ref2 > 0 ? err / ref2 : err;
    if (!(nmse <= 1e-10) || !(worst <= 1e-4 * amax) || mismatched) {
      ++failed;
      std::printf("FAIL %s: nmse %.3g, max abs error %.3g (max |ref| %.3g), %lld non-finite mismatches\n",
                  label.c_str(), nmse, worst, amax, static_cast<long long>(mismatched));
      continue;
    }
    ++passed;
  }
}

// ---- Conv ----

struct ConvCase {
  int64_t n, c, m, group;
  Shape in, kernel, strides, dilations, pads;  // pads: begin..., end...
  bool bias = true;
  std::string auto_pad = "";
};

void conv_case(const ConvCase& cc) {
  Node node = single_output_node("conv", "Conv", 11, cc.bias ? 3 : 2);
  if (!cc.strides.empty()) node.attrs.push_back(ints_attr("strides", cc.strides));
  if (!cc.dilations.empty()) node.attrs.push_back(ints_attr("dilations", cc.dilations));
  if (!cc.pads.empty()) node.attrs.push_back(ints_attr("pads", cc.pads));
  if (!cc.auto_pad.empty()) node.attrs.push_back(string_attr("auto_pad", cc.auto_pad));
  node.attrs.push_back(int_attr("group", cc.group));
  Shape xs{cc.n, cc.c}, ws{cc.m, cc.c / cc.group};
  xs.insert(xs.end(), cc.in.begin(), cc.in.end());
  ws.insert(ws.end(), cc.kernel.begin(), cc.kernel.end());
  std::vector<Input> inputs{random_tensor(xs), random_tensor(ws)};
  if (cc.bias) inputs.push_back(random_tensor({cc.m}));
  std::string name = "Conv x" + shape_text(xs) + " w" + shape_text(ws) + " group " + std::to_string(cc.group);
  if (!cc.strides.empty()) name += " strides " + shape_text(cc.strides);
  if (!cc.dilations.empty()) name += " dilations " + shape_text(cc.dilations);
  if (!cc.pads.empty()) name += " pads " + shape_text(cc.pads);
  if (!cc.auto_pad.empty()) name += " " + cc.auto_pad;
  if (!cc.bias) name += " no bias";
  check(name, node, inputs, conv_run, conv_fast);
}

void conv_cases() {
  const std::vector<ConvCase> cases = {
      // 2-D, group 1
      {1, 1, 1, 1, {1, 1}, {1, 1}, {}, {}, {}},
      {1, 1, 32, 1, {28, 28}, {3, 3}, {}, {}, {}},
      {1, 32, 64, 1, {26, 26}, {3, 3}, {}, {}, {}},
      {2, 3, 5, 1, {7, 9}, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {1, 3, 7, 1, {13, 11}, {5, 3}, {2, 1}, {}, {2, 0, 1, 3}, false},
      {3, 5, 4, 1, {10, 12}, {3, 3}, {1, 1}, {2, 3}, {2, 3, 2, 3}},
      {1, 4, 6, 1, {9, 9}, {2, 2}, {3, 2}, {1, 1}, {0, 1, 1, 0}},
      {1, 3, 16, 1, {32, 32}, {7, 7}, {2, 2}, {}, {3, 3, 3, 3}},
      {1, 3, 64, 1, {64, 64}, {9, 9}, {}, {}, {4, 4, 4, 4}},
      {2, 64, 32, 1, {20, 20}, {1, 1}, {}, {}, {}},
      {1, 17, 33, 1, {15, 15}, {1, 1}, {}, {}, {}, false},
      {1, 16, 24, 1, {15, 15}, {1, 1}, {2, 2}, {}, {}},
      {1, 8, 8, 1, {6, 6}, {1, 1}, {}, {}, {1, 1, 1, 1}},
      {1, 5, 3, 1, {1, 7}, {1, 3}, {}, {}, {}},
      {1, 2, 3, 1, {8, 1}, {3, 1}, {}, {}, {1, 0, 1, 0}},
      {1, 6, 10, 1, {9, 10}, {3, 3}, {2, 2}, {}, {}, true, "SAME_UPPER"},
      {1, 6, 10, 1, {9, 10}, {4, 4}, {3, 3}, {}, {}, true, "SAME_LOWER"},
      {1, 6, 10, 1, {9, 10}, {3, 2}, {}, {}, {}, true, "VALID"},
      {1, 128, 130, 1, {14, 14}, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {1, 256, 512, 1, {7, 7}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      // groups
      {1, 4, 6, 2, {8, 8}, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {2, 9, 6, 3, {7, 5}, {2, 3}, {2, 1}, {1, 2}, {0, 1, 2, 0}},
      {1, 12, 12, 4, {10, 10}, {1, 1}, {}, {}, {}},
      {1, 32, 64, 8, {12, 12}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      // depthwise and one input channel per group
      {1, 3, 3, 3, {5, 5}, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {2, 32, 32, 32, {56, 56}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      {1, 7, 14, 7, {9, 11}, {3, 3}, {}, {2, 2}, {2, 2, 2, 2}},
      {1, 5, 5, 5, {12, 7}, {5, 3}, {3, 2}, {1, 2}, {2, 0, 0, 1}, false},
      {1, 96, 96, 96, {112, 112}, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {1, 4, 4, 4, {1, 1}, {1, 1}, {}, {}, {}},
      {1, 4, 4, 4, {3, 3}, {3, 3}, {}, {}, {2, 2, 2, 2}},
      {1, 6, 6, 6, {10, 10}, {3, 3}, {}, {}, {}, true, "SAME_UPPER"},
      // 1-D
      {1, 1, 1, 1, {1}, {1}, {}, {}, {}},
      {2, 3, 5, 1, {20}, {3}, {}, {}, {}},
      {1, 4, 6, 1, {17}, {5}, {2}, {2}, {3, 1}},
      {1, 8, 8, 8, {31}, {3}, {1}, {3}, {3, 3}},
      {3, 6, 9, 3, {12}, {4}, {3}, {}, {0, 2}, false},
      {1, 16, 32, 1, {100}, {1}, {}, {}, {}},
      {1, 64, 128, 1, {300}, {7}, {1}, {1}, {3, 3}},
      // batches: chunks of output rows inside one image and spanning images
      {8, 64, 64, 1, {14, 14}, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {8, 128, 64, 1, {7, 7}, {3, 3}, {}, {}, {1, 1, 1, 1}, false},
      {5, 17, 9, 1, {7, 7}, {1, 1}, {}, {}, {}},
      {3, 8, 20, 1, {260, 260}, {1, 1}, {}, {}, {}},
      {3, 3, 8, 1, {150, 150}, {7, 7}, {2, 2}, {}, {3, 3, 3, 3}},
      {4, 32, 64, 8, {12, 12}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      {3, 16, 32, 1, {9, 9}, {1, 1}, {2, 2}, {}, {}},
      {4, 6, 9, 3, {50}, {4}, {3}, {}, {0, 2}},
      {4, 16, 16, 16, {9, 9}, {3, 3}, {}, {}, {1, 1, 1, 1}, false},
  };
  for (const ConvCase& c : cases) conv_case(c);
}

// ---- Gemm ----

struct GemmCase {
  int64_t m, n, k;
  bool ta, tb;
  float alpha, beta;
  Shape c;  // empty: no C; {0} marks a rank-0 C
  bool has_c = true;
};

void gemm_cases() {
  const std::vector<GemmCase> cases = {
      {1, 1, 1, false, false, 1, 1, {1, 1}},      {1, 10, 32, false, true, 1, 1, {10}},
      {1, 128, 9216, false, true, 1, 1, {128}},   {8, 128, 9216, false, true, 1, 1, {128}},
      {3, 5, 7, false, false, 1, 1, {}, false},   {3, 5, 7, true, false, 0.5f, 2, {3, 5}},
      {3, 5, 7, false, true, 1, 0.25f, {3, 1}},   {3, 5, 7, true, true, -1.5f, 1, {1, 5}},
      {6, 4, 9, true, true, 1, 0, {1}},           {7, 13, 1, false, false, 1, 1, {0}},
      {1, 1000, 512, false, true, 1, 1, {1000}},  {8, 1000, 512, false, true, 1, 1, {1000}},
      {64, 65, 66, false, false, 2, 3, {64, 65}}, {129, 257, 300, true, false, 1, 1, {257}},
      {200, 3, 513, false, true, 1, 1, {200, 1}}, {300, 600, 700, false, false, 1, 1, {}, false},
      {1, 37, 100, true, false, 1, 1, {37}},      {5, 1, 40, false, true, 1, 1, {5, 1}},
      {4, 6, 0, false, false, 1, 1, {4, 6}},
  };
  for (const GemmCase& gc : cases) {
    Node node = single_output_node("gemm", "Gemm", 13, gc.has_c ? 3 : 2);
    node.attrs = {int_attr("transA", gc.ta), int_attr("transB", gc.tb), float_attr("alpha", gc.alpha),
                  float_attr("beta", gc.beta)};
    const Shape as = gc.ta ? Shape{gc.k, gc.m} : Shape{gc.m, gc.k};
    const Shape bs = gc.tb ? Shape{gc.n, gc.k} : Shape{gc.k, gc.n};
    std::vector<Input> inputs{random_tensor(as), random_tensor(bs)};
    const Shape cs = gc.c == Shape{0} ? Shape{} : gc.c;
    if (gc.has_c) inputs.push_back(random_tensor(cs));
    char name[200];
    std::snprintf(name, sizeof name, "Gemm A%s B%s transA %d transB %d alpha %g beta %g C%s", shape_text(as).c_str(),
                  shape_text(bs).c_str(), gc.ta, gc.tb, gc.alpha, gc.beta, gc.has_c ? shape_text(cs).c_str() : " none");
    check(name, node, inputs, gemm_run, gemm_fast);
  }
}

// ---- MatMul ----

void mat_mul_cases() {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{1, 1}, {1, 1}},
      {{3}, {3}},
      {{5}, {5, 7}},
      {{4, 6}, {6}},
      {{7}, {2, 7, 3}},
      {{2, 3, 4}, {4}},
      {{3, 5}, {5, 4}},
      {{2, 3, 5}, {5, 4}},
      {{1, 64, 128}, {128, 512}},
      {{8, 64, 128}, {128, 384}},
      {{2, 3, 5}, {2, 5, 4}},
      {{2, 1, 3, 5}, {1, 4, 5, 6}},
      {{1, 4, 64, 32}, {1, 4, 32, 64}},
      {{8, 4, 64, 64}, {8, 4, 64, 32}},
      {{3, 1, 6}, {3, 6, 1}},
      {{4, 7, 9}, {1, 9, 11}},
      {{5, 2}, {3, 2, 8}},
      {{0, 3, 4}, {4, 5}},
      {{2, 3, 0}, {0, 4}},
      {{130, 257}, {257, 129}},
      {{1, 1000}, {1000, 300}},
  };
  for (const auto& [as, bs] : cases) {
    Node node = single_output_node("matmul", "MatMul", 13, 2);
    check("MatMul A" + shape_text(as) + " B" + shape_text(bs), node, {random_tensor(as), random_tensor(bs)},
          mat_mul_run, mat_mul_fast);
  }
}

// ---- MaxPool ----

struct PoolCase {
  Shape x, kernel, strides, dilations, pads;
  int ceil = 0;
  std::string auto_pad = "";
  int version = 12;
  int64_t special = 0;  // every n-th input element NaN/inf/signed zero (0: none)
};

void max_pool_cases() {
  const std::vector<PoolCase> cases = {
      {{1, 1, 4, 4}, {2, 2}, {2, 2}, {}, {}},
      {{1, 64, 112, 112}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      {{8, 64, 112, 112}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      {{2, 32, 26, 26}, {2, 2}, {2, 2}, {}, {}},
      {{2, 3, 7, 9}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, 1},
      {{1, 2, 10, 11}, {3, 2}, {2, 3}, {2, 1}, {1, 0, 2, 1}, 1},
      {{1, 3, 5, 5}, {2, 2}, {}, {}, {}, 0, "", 1},
      {{1, 3, 6, 7}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, 0, "", 8},
      {{1, 1, 2, 2}, {2, 2}, {}, {}, {3, 3, 3, 3}},
      {{1, 2, 3, 3}, {2, 2}, {3, 3}, {}, {0, 0, 2, 2}, 1},
      {{1, 4, 10, 9}, {3, 3}, {2, 2}, {}, {}, 0, "SAME_UPPER"},
      {{1, 4, 10, 9}, {4, 4}, {3, 3}, {}, {}, 0, "SAME_LOWER"},
      {{1, 4, 10, 9}, {3, 2}, {}, {}, {}, 0, "VALID"},
      {{1, 8, 13, 13}, {5, 5}, {}, {}, {2, 2, 2, 2}},
      {{1, 4, 17, 17}, {3, 3}, {3, 3}, {}, {}},
      {{1, 3, 11, 12}, {3, 3}, {1, 2}, {3, 2}, {3, 1, 2, 2}, 1},
      {{1, 2, 1, 1}, {1, 1}, {}, {}, {}},
      {{0, 2, 5, 5}, {2, 2}, {}, {}, {}},
      {{2, 3, 20}, {3}, {2}, {}, {1, 1}},
      {{1, 2, 17}, {4}, {1}, {3}, {2, 1}, 1},
      {{1, 4, 8, 8}, {3, 3}, {}, {}, {1, 1, 1, 1}, 0, "", 12, 3},
      {{2, 8, 9, 9}, {2, 2}, {2, 2}, {}, {}, 1, "", 12, 7},
  };
  for (const PoolCase& pc : cases) {
    Node node = single_output_node("maxpool", "MaxPool", pc.version, 1);
    node.attrs.push_back(ints_attr("kernel_shape", pc.kernel));
    if (!pc.strides.empty()) node.attrs.push_back(ints_attr("strides", pc.strides));
    if (!pc.dilations.empty()) node.attrs.push_back(ints_attr("dilations", pc.dilations));
    if (!pc.pads.empty()) node.attrs.push_back(ints_attr("pads", pc.pads));
    if (!pc.auto_pad.empty()) node.attrs.push_back(string_attr("auto_pad", pc.auto_pad));
    if (pc.ceil) node.attrs.push_back(int_attr("ceil_mode", 1));
    std::string name = "MaxPool-" + std::to_string(pc.version) + " x" + shape_text(pc.x) + " kernel " +
                       shape_text(pc.kernel);
    if (!pc.strides.empty()) name += " strides " + shape_text(pc.strides);
    if (!pc.dilations.empty()) name += " dilations " + shape_text(pc.dilations);
    if (!pc.pads.empty()) name += " pads " + shape_text(pc.pads);
    if (pc.ceil) name += " ceil_mode";
    if (!pc.auto_pad.empty()) name += " " + pc.auto_pad;
    if (pc.special) name += " specials";
    check(name, node, {pc.special ? special_tensor(pc.x, pc.special) : random_tensor(pc.x)}, max_pool_run,
          max_pool_fast);
  }
}

// ---- Relu, Clip ----

void relu_cases() {
  for (const Shape& shape : {Shape{0}, Shape{1}, Shape{7}, Shape{3, 5, 17}, Shape{2, 64, 56, 56}}) {
    Node node = single_output_node("relu", "Relu", 14, 1);
    check("Relu x" + shape_text(shape), node, {random_tensor(shape)}, relu_run, relu_fast);
  }
  Node node = single_output_node("relu", "Relu", 14, 1);
  check("Relu specials", node, {special_tensor({1000}, 3)}, relu_run, relu_fast);
}

Tensor scalar_tensor(float v) {
  Tensor t = random_tensor({});
  mut<float>(t)[0] = v;
  return t;
}

void clip_cases() {
  struct ClipCase {
    int version;
    std::optional<float> lo, hi;
    Shape x;
  };
  const std::vector<ClipCase> cases = {
      {6, -0.5f, 0.5f, {3, 7}},       {6, std::nullopt, 0.25f, {2, 9}},   {6, -0.25f, std::nullopt, {17}},
      {11, std::nullopt, std::nullopt, {4, 5}}, {11, -0.3f, std::nullopt, {4, 5}}, {12, std::nullopt, 0.3f, {4, 5}},
      {13, 0.0f, 6.0f, {1, 32, 112, 112}},      {13, 0.5f, -0.5f, {33}},           {13, NAN, 0.5f, {33}},
      {13, -0.5f, 0.5f, {0, 3}},
  };
  for (const ClipCase& cc : cases) {
    Node node = single_output_node("clip", "Clip", cc.version, cc.version < 11 ? 1 : 3);
    std::vector<Input> inputs{random_tensor(cc.x)};
    if (cc.version < 11) {
      if (cc.lo) node.attrs.push_back(float_attr("min", *cc.lo));
      if (cc.hi) node.attrs.push_back(float_attr("max", *cc.hi));
    } else {
      inputs.push_back(cc.lo ? Input(scalar_tensor(*cc.lo)) : std::nullopt);
      inputs.push_back(cc.hi ? Input(scalar_tensor(*cc.hi)) : std::nullopt);
    }
    char name[160];
    std::snprintf(name, sizeof name, "Clip-%d x%s min %s max %s", cc.version, shape_text(cc.x).c_str(),
                  cc.lo ? std::to_string(*cc.lo).c_str() : "none", cc.hi ? std::to_string(*cc.hi).c_str() : "none");
    check(name, node, inputs, clip_run, clip_fast);
  }
  Node node = single_output_node("clip", "Clip", 13, 3);
  check("Clip specials", node, {special_tensor({1000}, 3), scalar_tensor(-0.5f), scalar_tensor(0.5f)}, clip_run,
        clip_fast);
}

// ---- Add, Sub, Mul, Div ----

void binary_cases() {
  struct Op {
    const char* name;
    void (*ref)(Kernel&);
    bool (*fast)(Kernel&);
  };
  const Op ops[] = {{"Add", add_run, add_fast}, {"Sub", sub_run, sub_fast}, {"Mul", mul_run, mul_fast},
                    {"Div", div_run, div_fast}};
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{1, 64, 56, 56}, {1, 64, 56, 56}}, {{2, 8, 5, 5}, {8, 1, 1}},
      {{8, 1, 1}, {2, 8, 5, 5}},    {{2, 16, 33, 33}, {16, 1, 1}},      {{4, 7}, {7}},
      {{4, 7}, {}},                 {{}, {3, 5}},                       {{}, {}},
      {{3, 1}, {1, 4}},             {{2, 1, 4, 5}, {2, 3, 1, 1}},       {{5, 1, 3}, {1, 4, 1}},
      {{0, 3}, {3}},                {{1}, {1}},                         {{6}, {2, 3, 6}},
      {{8, 64, 64}, {64}},          {{3, 1, 1, 5}, {1, 1, 7, 5}},
  };
  for (const Op& op : ops) {
    for (const auto& [as, bs] : shapes) {
      Node node = single_output_node("binary", op.name, 13, 2);
      check(std::string(op.name) + " A" + shape_text(as) + " B" + shape_text(bs), node,
            {random_tensor(as), random_tensor(bs)}, op.ref, op.fast);
    }
    Node node = single_output_node("binary", op.name, 14, 2);
    check(std::string(op.name) + " specials", node, {special_tensor({3, 100}, 3), special_tensor({3, 100}, 4)},
          op.ref, op.fast);
  }
}

// The fast kernels leave other element types, the Indices output of MaxPool and the opset 1/6
// broadcasting of Add to the reference kernels.
void decline_cases() {
  auto expect_decline = [](const std::string& name, const Node& node, const std::vector<Input>& inputs,
                           bool (*fast)(Kernel&)) {
    if (run(node, inputs, 1, fast).error == "declined") {
      ++passed;
    } else {
      ++failed;
      std::printf("FAIL %s: the fast kernel did not decline\n", name.c_str());
    }
  };
  expect_decline("MatMul float64", single_output_node("matmul", "MatMul", 13, 2),
                 {random_tensor({2, 3}, DType::kFloat64), random_tensor({3, 2}, DType::kFloat64)}, mat_mul_fast);
  expect_decline("Relu float64", single_output_node("relu", "Relu", 14, 1), {random_tensor({5}, DType::kFloat64)},
                 relu_fast);
  expect_decline("Add-6", single_output_node("add", "Add", 6, 2), {random_tensor({5}), random_tensor({5})}, add_fast);
  Node pool = single_output_node("maxpool", "MaxPool", 12, 1);
  pool.attrs.push_back(ints_attr("kernel_shape", {2, 2}));
  Node with_indices = pool;
  with_indices.outputs = {0, 1};
  expect_decline("MaxPool with Indices", with_indices, {random_tensor({1, 2, 4, 4})}, max_pool_fast);
  Node pool3d = pool;
  pool3d.attrs[0].ints = {2, 2, 2};
  expect_decline("MaxPool 3-D", pool3d, {random_tensor({1, 2, 4, 4, 4})}, max_pool_fast);
}

}  // namespace

int main() {
  std::printf("isa %s\n", isa_name(active_isa()));
  conv_cases();
  gemm_cases();
  mat_mul_cases();
  max_pool_cases();
  relu_cases();
  clip_cases();
  binary_cases();
  decline_cases();
  std::printf("test_ops: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
