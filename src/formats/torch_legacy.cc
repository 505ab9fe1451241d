// The legacy torch.save stream (formats.md 2): magic, protocol version, sys_info, the object,
// the storage key list, then for each key an int64 element count and the raw bytes.
//
// The object pickle references storages whose bytes come after the key list, whose position
// is only known once the object pickle has been read. So the object is unpickled twice: a
// first pass resolves each storage to a stand-in range of the file (just to find where the
// pickle ends and which keys it uses), the second to the real bytes.
#include <cstring>
#include <map>
#include <set>

#include "core/check.h"
#include "formats/readers.h"
#include "formats/torch_pickle.h"
#include "pickle/unpickler.h"

namespace torchless::formats {
namespace {

constexpr const char* kMagic = "119547037146038801333356";  // 0x1950a86a20f9469cfc6c
constexpr int64_t kProtocolVersion = 1001;

struct Stream {
  const FilePtr& file;
  const LoadOptions& o;
  uint64_t pos = 0;

  PickleResult next(const char* what, const PickleOptions& base) {
    PickleOptions po = base;
    po.base_offset = pos;
    po.member = what;
    PickleResult r = unpickle({file->data() + pos, file->size() - pos}, po, /*allow_trailing=*/true);
    pos += r.consumed;
    return r;
  }
};

void check_sys_info(const Value& v, uint64_t off) {
  if (!v.is_dict()) corrupt_at("legacy sys_info is not a dict", off);
  const ValueDict& d = v.as_dict();
  const Value* le = d.find("little_endian");
  if (!le || !le->is_bool()) corrupt_at("legacy sys_info has no little_endian flag", off);
  if (!le->as_bool()) fail(Error(Error::Code::kUnsupported, "big-endian legacy stream").offset(off));
  const Value* sizes = d.find("type_sizes");
  if (!sizes || !sizes->is_dict()) corrupt_at("legacy sys_info has no type_sizes", off);
  const std::pair<const char*, std::set<int64_t>> expected[] = {{"short", {2}}, {"int", {4}}, {"long", {4, 8}}};
  for (const auto& [name, ok] : expected) {
    const Value* s = sizes->as_dict().find(name);
    if (!s || !s->is_int()) corrupt_at(std::string("legacy type_sizes has no '") + name + "'", off);
    if (!ok.count(s->as_int()))
      fail(Error(Error::Code::kUnsupported, std::string("legacy stream with sizeof(") + name + ") = " +
                                                std::to_string(s->as_int()))
               .offset(off));
  }
}

// The class of a whole-model ('module', cls, source_file, source) persistent id, or nullptr
// when `pid` is not one.
const Value* module_class(const Value& pid, uint64_t off) {
  if (!pid.is_tuple() || pid.items().empty() || !pid.items()[0].is_string() ||
      pid.items()[0].as_string() != "module")
    return nullptr;
  if (pid.items().size() != 4) corrupt_at("legacy module persistent id does not have 4 items", off);
  return &pid.items()[1];
}

// A view of a root storage (very old files): (view_key, offset, size) in elements (LEG-06).
Storage apply_view(const StoragePid& pid, const Storage& root) {
  if (pid.view_metadata.is_none()) return root;
  const Value& m = pid.view_metadata;
  if (!m.is_tuple() || m.items().size() != 3 || !m.items()[1].is_int() || !m.items()[2].is_int())
    corrupt("legacy view metadata is not (key, offset, size)");
  const int64_t off = m.items()[1].as_int(), n = m.items()[2].as_int();
  const uint64_t es = dtype_size(pid.dtype);
  if (off < 0 || n < 0) corrupt("legacy view has a negative offset or size");
  const uint64_t boff = mul_u64(static_cast<uint64_t>(off), es), blen = mul_u64(static_cast<uint64_t>(n), es);
  if (!in_range(boff, blen, root.nbytes())) corrupt("legacy view lies outside its storage");
  return root.slice(boff, blen);
}

}  // namespace

ReadResult read_torch_legacy(const FilePtr& file, const LoadOptions& options) {
  ReadResult r;
  r.file.format = Format::kTorchLegacy;
  Stream s{file, options};
  PickleOptions po;
  po.limits = options.limits;
  po.opaque = true;
  po.permissive = options.permissive;

  const uint64_t magic_at = s.pos;
  const PickleResult magic = s.next("magic", po);
  if (magic.root.kind() != Value::Kind::kBigInt || magic.root.as_big_int() != kMagic)
    corrupt_at("not a legacy torch stream (the first pickle is not torch's magic number)", magic_at);
  const uint64_t version_at = s.pos;
  const PickleResult version = s.next("protocol version", po);
  if (!version.root.is_int() || version.root.as_int() != kProtocolVersion)
    fail(Error(Error::Code::kUnsupported, "legacy protocol version is not 1001").offset(version_at));
  const uint64_t sys_at = s.pos;
  check_sys_info(s.next("sys_info", po).root, sys_at);

  // Pass 1: storages stand in as ranges at the start of the file; finds the object's extent.
  const uint64_t object_at = s.pos;
  StorageKeys keys;
  PickleOptions scan = po;
  scan.persistent_load = [&](const Value& pid, uint64_t off) -> std::variant<StorageRef, Value> {
    if (const Value* cls = module_class(pid, off)) return *cls;
    const StoragePid p = parse_storage_pid(pid, 6);
    keys.reference(p);
    if (p.nbytes > file->size()) corrupt_at("storage '" + p.key + "' is larger than the whole file", off);
    return StorageRef{MappedFile::storage(file, 0, p.nbytes), p.dtype};
  };
  s.next("object", scan);

  // The key list, then the storage records in that order (LEG-04, LEG-05, LEG-07).
  const uint64_t keys_at = s.pos;
  const PickleResult key_list = s.next("storage keys", po);
  if (!key_list.root.is_list()) corrupt_at("legacy storage key list is not a list", keys_at);
  const auto& names = key_list.root.items();
  check_limit("zip.max_entries", options.limits.zip_max_entries, names.size(), "too many legacy storages");
  std::map<std::string, StorageRef> storages;
  for (const Value& k : names) {
    if (!k.is_string()) corrupt_at("legacy storage key is not a string", keys_at);
    const std::string& key = k.as_string();
    auto it = keys.all().find(key);
    if (it == keys.all().end()) corrupt_at("legacy storage '" + escape(key) + "' is never referenced", keys_at);
    if (storages.count(key)) corrupt_at("legacy storage '" + escape(key) + "' is listed twice", keys_at);
    const StoragePid& p = it->second;
    if (!in_range(s.pos, 8, file->size())) corrupt_at("legacy stream ends inside a storage header", s.pos);
    int64_t count;
    std::memcpy(&count, file->data() + s.pos, 8);
    if (count < 0 || static_cast<uint64_t>(count) != p.numel)
      corrupt_at("legacy storage '" + escape(key) + "' holds " + std::to_string(count) + " elements, its reference says " +
                     std::to_string(p.numel),
                 s.pos);
    const uint64_t data_at = s.pos + 8;
    if (!in_range(data_at, p.nbytes, file->size()))
      corrupt_at("legacy storage '" + escape(key) + "' runs past the end of the file", data_at);
    storages.emplace(key, StorageRef{MappedFile::storage(file, data_at, p.nbytes).aligned(dtype_alignment(p.dtype)), p.dtype});
    s.pos = data_at + p.nbytes;
  }
  if (storages.size() != keys.all().size()) corrupt_at("a referenced legacy storage has no record", keys_at);
  if (s.pos != file->size()) corrupt_at("bytes after the last legacy storage", s.pos);

  // Pass 2: the object with the real storages.
  PickleOptions real = po;
  real.persistent_load = [&](const Value& pid, uint64_t off) -> std::variant<StorageRef, Value> {
    if (const Value* cls = module_class(pid, off)) return *cls;
    const StoragePid p = parse_storage_pid(pid, 6);
    StorageRef ref = storages.at(p.key);
    ref.storage = apply_view(p, ref.storage);
    return ref;
  };
  real.base_offset = object_at;
  real.member = "object";
  PickleResult obj = unpickle({file->data() + object_at, keys_at - object_at}, real);
  r.file.root = std::move(obj.root);
  r.root_member = "object";
  r.file.warnings = std::move(obj.warnings);
  warn_inert_globals(obj, r.file);
  return r;
}

}  // namespace torchless::formats
