// The op table (op_table.inc) as an array, and lookup by (domain, op type, since_version).
#include <algorithm>
#include <cstring>

#include "engine/kernel.h"

namespace torchless::engine {

#define OP(Name, domain, lo, hi, sym) void sym##_run(Kernel&);
#include "engine/ops/op_table.inc"
#undef OP

namespace {
constexpr OpDef kOps[] = {
#define OP(Name, domain, lo, hi, sym) {#Name, domain, lo, hi, &sym##_run},
#include "engine/ops/op_table.inc"
#undef OP
};
}  // namespace

std::span<const OpDef> op_table() { return kOps; }

#define FAST(Name, sym) bool sym##_fast(Kernel&);
#include "engine/ops/fast_table.inc"
#undef FAST

FastFn find_fast(const OpDef* op) {
  if (!op) return nullptr;
  struct Entry {
    const char* name;
    FastFn fn;
  };
  static constexpr Entry kFast[] = {
#define FAST(Name, sym) {#Name, &sym##_fast},
#include "engine/ops/fast_table.inc"
#undef FAST
      {nullptr, nullptr}};
  for (const Entry& e : kFast)
    if (e.name && op->domain[0] == '\0' && std::strcmp(e.name, op->name) == 0) return e.fn;
  return nullptr;
}

const OpDef* find_op(std::string_view domain, std::string_view op_type, int version) {
  for (const OpDef& op : kOps)
    if (op_type == op.name && domain == op.domain) return version >= op.min_version && version <= op.max_version ? &op : nullptr;
  return nullptr;
}

}  // namespace torchless::engine
