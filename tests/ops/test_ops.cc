// torchless-test-ops: each optimised kernel (src/engine/ops/fast_table.inc) against its
// reference kernel on the same random inputs, over a table of shapes and attributes per op.
// A case passes when the outputs have the same shape, the normalised squared error
// sum((fast - ref)^2) / sum(ref^2) is at most 1e-10 and every element is within
// 1e-4 * max(1, max |ref|). The fast kernels run with 1 and 2 threads. Prints one line per
// failure, then "test_ops: N passed, N failed" (exit 1 on any failure). The ISA the kernels
// use can be capped with TORCHLESS_MAX_ISA=avx2|default.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/check.h"
#include "engine/executor.h"
#include "engine/kernel.h"
#include "engine/ops/sgemm.h"

namespace torchless::engine {
void conv_run(Kernel&);
void gemm_run(Kernel&);
void mat_mul_run(Kernel&);
bool conv_fast(Kernel&);
bool gemm_fast(Kernel&);
bool mat_mul_fast(Kernel&);
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
Outcome run(const Node& node, const std::vector<Tensor>& inputs, int threads, F&& kernel) {
  std::vector<Val> vals;
  for (const Tensor& t : inputs) vals.push_back(Val::of(t));
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

void check(const std::string& name, const Node& node, const std::vector<Tensor>& inputs, void (*ref)(Kernel&),
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
    for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(double(b[i])));
    for (int64_t i = 0; i < n; ++i) {
      const double d = double(a[i]) - double(b[i]);
      err += d * d;
      ref2 += double(b[i]) * b[i];
      worst = std::max(worst, std::isnan(d) ? INFINITY : std::fabs(d));
    }
    const double nmse = ref2 > 0 ? err / ref2 : err;
    if (!(nmse <= 1e-10) || !(worst <= 1e-4 * amax)) {
      ++failed;
      std::printf("FAIL %s: nmse %.3g, max abs error %.3g (max |ref| %.3g)\n", label.c_str(), nmse, worst, amax);
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
  std::vector<Tensor> inputs{random_tensor(xs), random_tensor(ws)};
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
    std::vector<Tensor> inputs{random_tensor(as), random_tensor(bs)};
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

// The fast kernels leave other element types to the reference kernels.
void decline_cases() {
  Node node = single_output_node("matmul", "MatMul", 13, 2);
  const Outcome o =
      run(node, {random_tensor({2, 3}, DType::kFloat64), random_tensor({3, 2}, DType::kFloat64)}, 1, mat_mul_fast);
  if (o.error == "declined") {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL MatMul float64: the fast kernel did not decline\n");
  }
}

}  // namespace

int main() {
  std::printf("isa %s\n", isa_name(active_isa()));
  conv_cases();
  gemm_cases();
  mat_mul_cases();
  decline_cases();
  std::printf("test_ops: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
