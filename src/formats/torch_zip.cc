// torch.save zip archives (formats.md 1) and TorchScript archives (5): the same container,
// told apart by constants.pkl. Only data.pkl and constants.pkl are unpickled; code/ is never
// interpreted (torchscript.cc reads two generated name lists from it). A zip of nothing but
// .npy members is an .npz and goes to read_npz (npy.cc).
#include <algorithm>
#include <set>

#include "core/check.h"
#include "formats/readers.h"
#include "formats/torch_pickle.h"
#include "formats/torchscript.h"
#include "pickle/unpickler.h"
#include "zip/zip.h"

namespace torchless::formats {
namespace {

// Unpickles one pickle member whose storages live under `data_dir` (data/ or constants/).
class PickleMember {
 public:
  PickleMember(const ZipReader& zip, const LoadOptions& o, std::string data_dir)
      : zip_(zip), o_(o), data_dir_(std::move(data_dir)) {}

  PickleResult unpickle_member(const ZipEntry& e) {
    const Storage bytes = zip_.read(e, /*verify_crc=*/true);  // metadata is always verified (ZIP-10)
    PickleOptions po;
    po.limits = o_.limits;
    po.opaque = true;
    po.permissive = o_.permissive;
    po.base_offset = e.method == 0 ? e.data_offset : e.local_offset;
    po.member = e.name;
    po.persistent_load = [this](const Value& pid, uint64_t) -> std::variant<StorageRef, Value> {
      return load_storage(pid);
    };
    try {
      return unpickle({bytes.data(), bytes.nbytes()}, po);
    } catch (Error& err) {
      err.member(e.name);
      throw;
    }
  }

  const std::set<std::string>& referenced() const { return referenced_; }

 private:
  StorageRef load_storage(const Value& pid_value) {
    const StoragePid pid = parse_storage_pid(pid_value, 5);
    keys_.reference(pid);
    const std::string name = data_dir_ + pid.key;
    auto cached = cache_.find(pid.key);
    if (cached != cache_.end()) return cached->second;
    const ZipEntry* e = zip_.find(name);
    if (!e) corrupt("storage '" + pid.key + "' has no record " + escape(name));
    if (e->size != pid.nbytes)
      corrupt("storage '" + pid.key + "' declares " + std::to_string(pid.nbytes) + " bytes but its record " +
              escape(name) + " holds " + std::to_string(e->size));
    StorageRef ref{zip_.read(*e, o_.verify_crc).aligned(dtype_alignment(pid.dtype)), pid.dtype};
    referenced_.insert(name);
    cache_.emplace(pid.key, ref);
    return ref;
  }

  const ZipReader& zip_;
  const LoadOptions& o_;
  std::string data_dir_;
  StorageKeys keys_;
  std::map<std::string, StorageRef> cache_;
  std::set<std::string> referenced_;
};

// `version` (or `.data/version` in newer TorchScript): an unsigned decimal (TS-04).
void check_version(const ZipReader& zip, const std::string& p, LoadedFile& out) {
  const ZipEntry* e = zip.find(p + "version");
  if (!e) e = zip.find(p + ".data/version");
  if (!e) return;
  std::string text = zip.read_text(*e);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
    fail(Error(Error::Code::kCorrupt, "version record is not a decimal number").member(e->name).offset(e->data_offset));
  const uint64_t v = std::stoull(text);
  if (v > (uint64_t{1} << 31))
    fail(Error(Error::Code::kUnsupported, "archive version " + text + " is not supported").member(e->name));
  if (v > 10) out.warnings.push_back("archive version " + text + " is newer than torchless knows (10)");
}

// `byteorder`: absent or "little" -> little-endian; "big" is not supported (TEN-07).
void check_byteorder(const ZipReader& zip, const std::string& p) {
  const ZipEntry* e = zip.find(p + "byteorder");
  if (!e) return;
  const std::string text = zip.read_text(*e);
  if (text == "little") return;
  if (text == "big")
    fail(Error(Error::Code::kUnsupported, "big-endian archive (byteorder 'big')").member(e->name));
  fail(Error(Error::Code::kCorrupt, "byteorder record reads '" + escape(text, 16) + "'").member(e->name));
}

bool is_known_member(const std::string& rel) {
  static const char* exact[] = {"data.pkl", "constants.pkl", "version", "byteorder", ".format_version",
                                ".storage_alignment", ".data/version", ".data/serialization_id", "bytecode.pkl"};
  for (const char* x : exact)
    if (rel == x) return true;
  return rel.starts_with("code/") || rel.starts_with("extra/") || rel.starts_with(".data/") ||
         rel.ends_with(".debug_pkl");
}

}  // namespace

ReadResult read_torch_zip(const FilePtr& file, const LoadOptions& options) {
  const ZipReader zip = ZipReader::open(file, options.limits);
  // numpy.savez: .npy members at the top level and nothing else.
  const auto& entries = zip.entries();
  if (!entries.empty() && std::all_of(entries.begin(), entries.end(), [](const ZipEntry& e) { return e.name.ends_with(".npy"); }))
    return read_npz(zip, options);
  const std::string p = zip.prefix() + "/";  // ZIP-19
  ReadResult r;
  LoadedFile& out = r.file;

  const ZipEntry* data_pkl = zip.find(p + "data.pkl");
  if (!data_pkl) {
    if (zip.find(p + "archive_format") || zip.find(p + "archive_version"))
      fail(Error::Code::kUnsupported, "torch.export (PT2) archives are not supported");
    if (zip.find(p + "model.json"))
      fail(Error::Code::kUnsupported, "TorchScript archives from before torch 1.4 (model.json) are not supported");
    corrupt("zip archive has no " + escape(p) + "data.pkl: not a PyTorch file");
  }
  check_version(zip, p, out);
  check_byteorder(zip, p);
  const ZipEntry* constants_pkl = zip.find(p + "constants.pkl");
  out.format = constants_pkl ? Format::kTorchScript : Format::kTorchZip;

  PickleMember data(zip, options, p + "data/");
  PickleResult pr = data.unpickle_member(*data_pkl);
  out.root = std::move(pr.root);
  r.root_member = data_pkl->name;
  for (auto& w : pr.warnings) out.warnings.push_back(std::move(w));
  warn_inert_globals(pr, out);
  std::set<std::string> referenced = data.referenced();

  if (constants_pkl) {
    PickleMember constants(zip, options, p + "constants/");
    PickleResult cr = constants.unpickle_member(*constants_pkl);
    referenced.insert(constants.referenced().begin(), constants.referenced().end());
    torchscript_state_dict(zip, p, out, cr.root, options.limits);
    r.named = true;
  }

  // Members nothing referenced are never parsed; name them (TEN-12).
  std::vector<std::string> stray;
  for (const ZipEntry& e : zip.entries()) {
    const std::string rel = e.name.substr(p.size());
    const bool storage = rel.starts_with("data/") || rel.starts_with("constants/");
    if (storage ? !referenced.count(e.name) : !is_known_member(rel)) stray.push_back(escape(e.name, 80));
  }
  if (!stray.empty()) out.warnings.push_back("members never referenced (not read): " + some_of(stray));
  return r;
}

}  // namespace torchless::formats
