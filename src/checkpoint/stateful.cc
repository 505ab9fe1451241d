// save_stateful / load_stateful (checkpoint.h): the "_version" field, migrations one version
// step at a time, and the missing / unexpected key report.
#include <algorithm>

#include "core/check.h"
#include "torchless/checkpoint.h"

namespace torchless {
namespace {

constexpr const char* kVersion = "_version";

// A copy of a dict's top level without "_version": the caller's dict is never edited.
Value without_version(const Value& state) {
  Value out = Value::dict(state.as_dict().ordered);
  for (const auto& kv : state.as_dict().items)
    if (!(kv.first.is_string() && kv.first.as_string() == kVersion)) out.as_dict().items.push_back(kv);
  return out;
}

}  // namespace

Value save_stateful(const Stateful& obj) {
  Value state = obj.state_dict();
  if (!state.is_dict()) return state;  // load_stateful refuses it, naming the problem
  Value out = without_version(state);
  out.as_dict().add(kVersion, Value::integer(obj.version()));
  return out;
}

Result<LoadReport> load_stateful(Stateful& obj, const Value& state) {
  return guard("stateful", "", [&] {
    if (!state.is_dict()) fail(Error::Code::kInvalidArgument, std::string("a state dict must be a dict, got ") + state.kind_name());
    LoadReport report;
    const Value* v = state.as_dict().find(kVersion);
    report.from_version = v && v->is_int() ? static_cast<int>(v->as_int()) : 1;  // no field: the first version
    if (report.from_version < 1 || report.from_version > obj.version())
      fail(Error::Code::kInvalidArgument, "state of version " + std::to_string(report.from_version) +
                                              ", this object reads versions 1 to " + std::to_string(obj.version()));
    Value work = without_version(state);  // migrations edit this copy
    for (int from = report.from_version; from < obj.version(); ++from) obj.migrate(work, from);
    const std::vector<std::string> expected = obj.keys();
    if (!expected.empty()) {
      for (const std::string& k : expected)
        if (!work.as_dict().find(k)) report.missing_keys.push_back(k);
      for (const auto& kv : work.as_dict().items) {
        const std::string k = kv.first.is_string() ? kv.first.as_string() : std::string("<") + kv.first.kind_name() + ">";
        if (std::find(expected.begin(), expected.end(), k) == expected.end()) report.unexpected_keys.push_back(k);
      }
    }
    obj.load_state_dict(work);
    return report;
  });
}

}  // namespace torchless
