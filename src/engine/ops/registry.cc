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

const OpDef* find_op(std::string_view domain, std::string_view op_type, int version) {
  for (const OpDef& op : kOps)
    if (op_type == op.name && domain == op.domain) return version >= op.min_version && version <= op.max_version ? &op : nullptr;
  return nullptr;
}

}  // namespace torchless::engine
