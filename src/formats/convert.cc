// convert(): load a state dict, rename / select / cast it, write it in the asked format.
#include <algorithm>
#include <optional>
#include <regex>
#include <unordered_set>

#include "core/check.h"
#include "formats/convert_internal.h"

namespace torchless {
namespace {

// Same view of the same bytes: tied weights listed under two names.
bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.storage().same_as(b.storage()) && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         a.strides() == b.strides() && a.storage_offset() == b.storage_offset();
}

}  // namespace

Result<StateDict> prepare(const std::string& in, const ConvertOptions& options) {
  return guard("convert", in, [&] {
    // Every byte is copied into a file with fresh CRCs: check the recorded ones first, or a
    // corrupt storage would come out looking sound (hostile-inputs ZIP-10).
    LoadOptions load = options.load;
    load.verify_crc = true;
    StateDict sd = unwrap(load_state_dict(in, load));
    std::optional<std::regex> only;
    if (!options.only.empty()) {
      try {
        only.emplace(options.only, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail(Error::Code::kInvalidArgument, "--only: not a valid regular expression: " + escape(options.only));
      }
    }
    StateDict out;
    std::unordered_set<std::string> names;
    uint64_t total = 0, done = 0;
    for (const auto& [name, t] : sd) total += t.nbytes();
    std::vector<std::pair<Tensor, Tensor>> cast_done;  // source -> cast, for tied weights
    for (auto& [name, t] : sd) {
      done += t.nbytes();
      std::string key = name;
      if (!options.strip_prefix.empty() && key.starts_with(options.strip_prefix))
        key.erase(0, options.strip_prefix.size());
      if (only && !std::regex_search(key, *only)) continue;
      if (!names.insert(key).second)
        fail(Error(Error::Code::kInvalidArgument, "two tensors would be named the same after removing the prefix")
                 .member(key));
      Tensor value = t;
      if (options.cast_floats && dtype_is_floating(t.dtype()) && t.dtype() != options.dtype) {
        const Tensor& src = t;  // clang 14 cannot capture a structured binding
        auto it = std::find_if(cast_done.begin(), cast_done.end(), [&](auto& p) { return same_tensor(p.first, src); });
        if (it != cast_done.end()) {
          value = it->second;
        } else {
          auto r = cast(t, options.dtype);
          if (!r) throw std::move(r).error().member(key);
          value = *r;
          cast_done.emplace_back(t, value);
        }
      }
      out.emplace_back(std::move(key), std::move(value));
      if (options.progress) options.progress(done, total);
    }
    return out;
  });
}

Status convert(const std::string& in, const std::string& out, const ConvertOptions& options) {
  auto sd = prepare(in, options);
  if (!sd) return std::move(sd).error();
  return save_state_dict(*sd, out, options.save);
}

}  // namespace torchless
