// torchless diff A B [--rtol R] [--atol A] [--json]
// Compares the model weights of two files (any formats). Exit 0 equal, 1 different, 2 error.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "commands.h"
#include "torchless/convert.h"

namespace torchless::cli {
namespace {

std::string shape_text(const Tensor& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.ndim(); ++i) s += (i ? ", " : "") + std::to_string(t.shape()[i]);
  return s + "]";
}

const Tensor* find(const StateDict& sd, const std::string& name) {
  for (const auto& [n, t] : sd)
    if (n == name) return &t;
  return nullptr;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// What a differing line says after the name: values, or the two dtypes / shapes.
std::string detail(const TensorDiff& d, const StateDict& a, const StateDict& b) {
  if (d.status == "different") return "max_abs " + number(d.max_abs) + "  max_rel " + number(d.max_rel);
  if (d.status == "only_a") return "only in A";
  if (d.status == "only_b") return "only in B";
  const Tensor *ta = find(a, d.name), *tb = find(b, d.name);
  if (d.status == "dtype") return std::string(dtype_name(ta->dtype())) + " vs " + std::string(dtype_name(tb->dtype()));
  return shape_text(*ta) + " vs " + shape_text(*tb);
}

}  // namespace

int diff(const DiffArgs& args) {
  auto a = load_state_dict(args.a);
  if (!a) return report(a.error()), 2;
  auto b = load_state_dict(args.b);
  if (!b) return report(b.error()), 2;
  auto r = torchless::diff(*a, *b, {.rtol = args.rtol, .atol = args.atol});
  if (!r) return report(r.error()), 2;

  if (args.json) {
    nlohmann::ordered_json out;
    out["equal"] = r->equal;
    out["tensors"] = nlohmann::ordered_json::array();
    for (const auto& d : r->tensors)  // an infinite difference prints as null
      out["tensors"].push_back({{"name", d.name}, {"status", d.status}, {"max_abs", d.max_abs}, {"max_rel", d.max_rel}});
    std::cout << out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    std::map<std::string, int> counts;
    for (const auto& d : r->tensors) {
      ++counts[d.status];
      if (d.status != "equal") std::cout << d.name << "  " << d.status << "  " << detail(d, *a, *b) << "\n";
    }
    std::cout << r->tensors.size() << " names: " << counts["equal"] << " equal, " << counts["different"]
              << " different, " << counts["dtype"] + counts["shape"] << " dtype/shape mismatches, "
              << counts["only_a"] << " only in A, " << counts["only_b"] << " only in B (rtol "
              << number(args.rtol) << ", atol " << number(args.atol) << "): "
              << (r->equal ? "equal" : "different") << "\n";
  }
  return r->equal ? 0 : 1;
}

}  // namespace torchless::cli
