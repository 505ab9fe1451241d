#include "formats/torch_pickle.h"

#include "core/check.h"

namespace torchless::formats {

StoragePid parse_storage_pid(const Value& pid, size_t arity) {
  if (!pid.is_tuple()) corrupt(std::string("persistent id is a ") + pid.kind_name() + ", not a tuple");
  const auto& t = pid.items();
  if (t.size() != arity)
    corrupt("persistent id has " + std::to_string(t.size()) + " items, expected " + std::to_string(arity));
  if (!t[0].is_string() || t[0].as_string() != "storage")
    corrupt("persistent id is not a storage reference");
  if (t[1].kind() != Value::Kind::kGlobal) corrupt(std::string("storage type is a ") + t[1].kind_name());
  const ValueGlobal& cls = t[1].as_global();
  const auto dtype = storage_class_dtype(cls.module, cls.name);
  if (!dtype) corrupt("storage type " + escape(cls.module + "." + cls.name) + " is not a torch storage class");
  if (!t[2].is_string()) corrupt(std::string("storage key is a ") + t[2].kind_name());
  const std::string& key = t[2].as_string();
  if (key.find('/') != std::string::npos || key.find('\\') != std::string::npos ||
      key.find("..") != std::string::npos || key.find('\0') != std::string::npos)
    fail(Error::Code::kForbidden, "storage key '" + escape(key) + "' would leave the data directory");
  if (key.empty() || key.size() > 40 || key.find_first_not_of("0123456789") != std::string::npos)
    corrupt("storage key '" + escape(key) + "' is not a decimal number");
  if (!t[3].is_string()) corrupt(std::string("storage location is a ") + t[3].kind_name());
  if (!t[4].is_int() || t[4].as_int() < 0) corrupt("storage element count is not a non-negative int");
  StoragePid p;
  p.key = key;
  p.dtype = *dtype;
  p.numel = static_cast<uint64_t>(t[4].as_int());
  p.nbytes = mul_u64(p.numel, dtype_size(p.dtype), "storage size");
  if (arity == 6) p.view_metadata = t[5];
  return p;
}

void warn_inert_globals(const PickleResult& r, LoadedFile& out) {
  std::vector<std::string> names;
  for (const std::string& g : r.inert_globals)
    if (!(out.format == Format::kTorchScript && g.starts_with("__torch__."))) names.push_back(g);
  if (!names.empty())
    out.warnings.push_back("names the file refers to, kept as inert records (never imported or run): " +
                           some_of(names));
}

bool StorageKeys::reference(const StoragePid& pid) {
  auto [it, inserted] = keys_.emplace(pid.key, pid);
  if (!inserted && (it->second.dtype != pid.dtype || it->second.numel != pid.numel))
    corrupt("storage '" + pid.key + "' is referenced as " + std::string(dtype_name(it->second.dtype)) + "[" +
            std::to_string(it->second.numel) + "] and as " + std::string(dtype_name(pid.dtype)) + "[" +
            std::to_string(pid.numel) + "]");
  return inserted;
}


}  // namespace torchless::formats
