// libFuzzer target: the restricted unpickler (src/pickle). Every input runs in strict, opaque
// and permissive modes, with and without allow_trailing, against a persistent_load that hands
// out a small dummy storage for ('storage', cls, ...) ids and echoes any other id back as a
// value. Accepted results are walked (iteratively, with a visited set) and every tensor's bytes
// are read, so a bad extent check shows up as an ASan report; errors must be torchless Errors.
#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "core/check.h"
#include "pickle/unpickler.h"

using namespace torchless;

namespace {

std::variant<StorageRef, Value> dummy_load(const Value& pid, uint64_t) {
  static const Storage storage = unwrap(Storage::allocate(256));
  if (pid.is_string()) corrupt("string persistent id");
  if (pid.is_tuple() && pid.items().size() == 5 && pid.items()[1].kind() == Value::Kind::kGlobal) {
    const ValueGlobal& g = pid.items()[1].as_global();
    return StorageRef{storage, storage_class_dtype(g.module, g.name).value_or(DType::kUInt8)};
  }
  return pid;
}

// Visits every node once and reads every tensor byte.
uint64_t touch(const Value& root) {
  uint64_t sum = 0;
  std::unordered_set<const void*> seen;
  std::vector<const Value*> todo{&root};
  auto push = [&](const Value& v) {
    if (!v.is_container() || seen.insert(v.node()).second) todo.push_back(&v);
  };
  while (!todo.empty()) {
    const Value* v = todo.back();
    todo.pop_back();
    switch (v->kind()) {
      case Value::Kind::kTensor:
        v->as_tensor().for_each_chunk([&](const std::byte* p, size_t n) {
          for (size_t i = 0; i < n; ++i) sum += static_cast<uint8_t>(p[i]);
        });
        break;
      case Value::Kind::kList: case Value::Kind::kTuple: case Value::Kind::kSet:
        for (const Value& c : v->items()) push(c);
        break;
      case Value::Kind::kDict:
        for (const auto& [k, c] : v->as_dict().items) push(k), push(c);
        for (const auto& [k, c] : v->as_dict().attributes) push(c);
        break;
      case Value::Kind::kObject: {
        const ValueObject& o = v->as_object();
        for (const auto* part : {&o.args, &o.state, &o.appended})
          for (const Value& c : *part) push(c);
        for (const auto& [k, c] : o.set_items) push(k), push(c);
        break;
      }
      default: break;
    }
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  for (int mode = 0; mode < 4; ++mode) {
    PickleOptions o;
    o.opaque = mode != 0;
    o.permissive = mode == 2;
    o.base_offset = 100;
    o.member = "fuzz.pkl";
    o.limits.tensor_max_numel = 1 << 16;  // keeps touch() cheap on zero-stride views
    o.persistent_load = dummy_load;
    auto r = guard("pickle", "", [&] {
      PickleResult p = unpickle(bytes, o, mode == 3);
      if (p.consumed == 0 || p.consumed > size) fail(Error::Code::kInternal, "bad consumed count");
      return touch(p.root);
    });
    if (!r.ok() && r.error().code() == Error::Code::kInternal) __builtin_trap();
  }
  return 0;
}
