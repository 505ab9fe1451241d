#include "formats/flatten.h"


#include "core/check.h"

namespace torchless::formats {
void WalkBudget::visit(size_t depth) {
  if (++visits > limits.pickle_max_visit_nodes)
    over_limit("pickle.max_visit_nodes", limits.pickle_max_visit_nodes, visits, "object tree too large to walk");
  if (depth > limits.pickle_max_depth)
    over_limit("pickle.max_depth", limits.pickle_max_depth, depth, "object tree nested too deeply");
}

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// A dict key as a name part: strings as they are, ints in decimal, True/False/None as Python
// prints them. Other key types do not name anything.
bool key_name(const Value& k, std::string& out) {
  switch (k.kind()) {
    case Value::Kind::kString: out = k.as_string(); return true;
    case Value::Kind::kInt: out = std::to_string(k.as_int()); return true;
    case Value::Kind::kBigInt: out = k.as_big_int(); return true;
    case Value::Kind::kBool: out = k.as_bool() ? "True" : "False"; return true;
    case Value::Kind::kNone: out = "None"; return true;
    default: return false;
  }
}

const Value* state_entry(const ValueDict& state, const char* key) {
  const Value* v = state.find(key);
  return v && (v->is_dict()) ? v : nullptr;
}

void module_walk(const Value& module, const std::string& prefix, StateDict& out, WalkBudget& b, size_t depth) {
  b.visit(depth);
  const ValueDict* state = module.as_object().state_dict();
  const Value* params = state_entry(*state, "_parameters");
  const Value* buffers = state_entry(*state, "_buffers");
  const Value* modules = state_entry(*state, "_modules");
  const Value* skip = state->find("_non_persistent_buffers_set");
  for (const auto& [k, t] : params->as_dict().items)
    if (k.is_string() && t.is_tensor()) out.emplace_back(prefix + k.as_string(), t.as_tensor());
  for (const auto& [k, t] : buffers->as_dict().items) {
    if (!k.is_string() || !t.is_tensor()) continue;
    bool persistent = true;
    if (skip && (skip->kind() == Value::Kind::kSet || skip->is_list() || skip->is_tuple()))
      for (const Value& s : skip->items())
        if (s.is_string() && s.as_string() == k.as_string()) persistent = false;
    if (persistent) out.emplace_back(prefix + k.as_string(), t.as_tensor());
  }
  for (const auto& [k, child] : modules->as_dict().items)
    if (k.is_string() && is_module(child)) module_walk(child, prefix + k.as_string() + ".", out, b, depth + 1);
}

struct Flattener {
  LoadedFile& file;
  WalkBudget budget;
  uint64_t max_bytes;
  uint64_t bytes = 0;

  // Each listed entry costs its name plus a fixed overhead against max_bytes.
  void charge(const std::string& name) {
    bytes += name.size() + 64;
    if (bytes > max_bytes)
      over_limit("flatten.max_bytes", max_bytes, bytes, "the flattened listing of the object tree is too large");
  }

  void walk(const Value& v, const std::string& name, size_t depth) {
    budget.visit(depth);
    switch (v.kind()) {
      case Value::Kind::kTensor:
        charge(name);
        file.tensors.emplace_back(name, v.as_tensor());
        return;
      case Value::Kind::kNone: case Value::Kind::kBool: case Value::Kind::kInt: case Value::Kind::kBigInt:
      case Value::Kind::kFloat: case Value::Kind::kString:
        charge(name);
        file.values.emplace_back(name, v);
        return;
      case Value::Kind::kDict: {
        std::string key;
        for (const auto& [k, item] : v.as_dict().items)
          if (key_name(k, key)) walk(item, join(name, key), depth + 1);
        return;
      }
      case Value::Kind::kList: case Value::Kind::kTuple: {
        const auto& items = v.items();
        for (size_t i = 0; i < items.size(); ++i) walk(items[i], join(name, std::to_string(i)), depth + 1);
        return;
      }
      case Value::Kind::kObject: {
        if (is_module(v)) {
          StateDict sd;
          module_walk(v, name.empty() ? "" : name + ".", sd, budget, depth + 1);
          for (auto& e : sd) {
            charge(e.first);
            file.tensors.push_back(std::move(e));
          }
        }
        return;
      }
      default: return;  // bytes, sets, globals name no tensor or plain value
    }
  }
};

}  // namespace

bool is_module(const Value& v) {
  if (!v.is_object()) return false;
  const ValueDict* state = v.as_object().state_dict();
  return state && state_entry(*state, "_parameters") && state_entry(*state, "_buffers") &&
         state_entry(*state, "_modules");
}

void module_state_dict(const Value& module, const std::string& prefix, StateDict& out, const Limits& limits) {
  WalkBudget b{limits};
  module_walk(module, prefix, out, b, 0);
}

void flatten(LoadedFile& file, const Limits& limits, uint64_t input_bytes) {
  const uint64_t max_bytes = limits.flatten_max_bytes
                                 ? limits.flatten_max_bytes
                                 : add_u64(uint64_t{8} << 20, mul_u64(input_bytes, 4));  // inside the 16 MiB heap allowance
  Flattener f{file, WalkBudget{limits}, max_bytes};
  f.walk(file.root, "", 0);
}

}  // namespace torchless::formats
