// Hugging Face sharded checkpoints (formats.md 9, hostile-inputs IDX-01..06):
//   {"metadata": {"total_size": N, ...}, "weight_map": {tensor name: shard file name, ...}}
// Shard names are single path components opened relative to the index's directory; the file
// reached must be a regular file inside that directory or inside the enclosing Hugging Face
// cache repository (snapshot files are symlinks into blobs/). Every shard is detected by its
// bytes, all must have one format (safetensors or torch zip), each is read by its own reader in
// full, and the shards' tensors must be exactly the weight_map: nothing missing, nothing extra,
// nothing twice. The result is a dict name -> tensor in weight_map order.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/check.h"
#include "core/json.h"
#include "formats/detect.h"
#include "formats/readers.h"

namespace torchless::formats {
namespace {

bool valid_shard_name(const std::string& s) {
  if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) fail(Error::Code::kIo, "cannot resolve '" + escape(p) + "': " + std::strerror(errno));
  return buf;
}

std::string parent(const std::string& p) {
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

// Where shards may live: the model directory, and for a snapshot of the Hugging Face cache
// (<repo>/snapshots/<revision>/) the whole repository (<repo>/blobs/ holds the bytes).
struct Roots {
  int dirfd = -1;
  std::string dir, cache;
  ~Roots() {
    if (dirfd >= 0) ::close(dirfd);
  }
  bool inside(const std::string& real) const {
    return real.starts_with(dir + "/") || (!cache.empty() && real.starts_with(cache + "/"));
  }
};

struct Shard {
  std::string name;
  FilePtr file;
};

Shard open_shard(const Roots& roots, const std::string& name, bool map,
                 std::set<std::pair<dev_t, ino_t>>& seen) {
  const int fd = ::openat(roots.dirfd, name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail(Error(Error::Code::kCorrupt, "cannot open shard: " + std::string(std::strerror(err))).member(name));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(Error(Error::Code::kIo, std::string("fstat: ") + std::strerror(errno)).member(name));
  if (!S_ISREG(st.st_mode)) fail(Error(Error::Code::kForbidden, "shard is not a regular file").member(name));
  const std::string fd_path = "/proc/self/fd/" + std::to_string(fd);
  const std::string real = real_path(fd_path);
  if (!roots.inside(real))
    fail(Error(Error::Code::kForbidden, "shard resolves outside the model directory, to '" + escape(real) + "'").member(name));
  if (!seen.insert({st.st_dev, st.st_ino}).second)
    fail(Error(Error::Code::kCorrupt, "shard is the same file as another shard").member(name));
  return Shard{name, unwrap(MappedFile::open(fd_path, map))};
}

// The {name: tensor} pairs of one shard, read by the reader its bytes call for.
std::vector<std::pair<std::string, Tensor>> read_shard(const Shard& shard, Format& format, const LoadOptions& options,
                                                       std::vector<std::string>& warnings) {
  Format f;
  try {
    f = detect(*shard.file);
  } catch (Error& e) {
    corrupt("shard is neither safetensors nor a torch zip file (" + e.message() + ")");
  }
  if (f != Format::kSafetensors && f != Format::kTorchZip)
    corrupt(std::string("shard is ") + format_name(f) + ", not safetensors or a torch zip file");
  if (format == Format::kHfSharded) format = f;  // the index's name did not tell: the first shard does
  if (f != format) corrupt(std::string("shard is ") + format_name(f) + " but the index is " + format_name(format));
  ReadResult r = f == Format::kSafetensors ? read_safetensors(shard.file, options) : read_torch_zip(shard.file, options);
  if (r.file.format != f) corrupt(std::string("shard is ") + format_name(r.file.format) + ", not a flat state dict");
  for (auto& w : r.file.warnings) warnings.push_back("shard " + escape(shard.name) + ": " + w);
  std::vector<std::pair<std::string, Tensor>> out;
  if (!r.file.root.is_dict()) corrupt("shard does not hold a {name: tensor} dict");
  for (const auto& [k, v] : r.file.root.as_dict().items) {
    if (!k.is_string() || !v.is_tensor()) corrupt("shard does not hold a flat {name: tensor} dict");
    out.emplace_back(k.as_string(), v.as_tensor());
  }
  return out;
}

}  // namespace

ReadResult read_hf_index(const FilePtr& index, const LoadOptions& options) {
  const Limits& limits = options.limits;
  check_limit("index.max_bytes", limits.index_max_bytes, index->size(), "index file too large");
  JsonOptions jo;
  jo.max_depth = limits.json_max_depth;
  const Json root = parse_json(std::string_view(reinterpret_cast<const char*>(index->data()), index->size()), jo);

  const Json *metadata = nullptr, *weight_map = nullptr;
  for (const auto& m : root.as_object("index")) {
    if (m.key == "metadata") metadata = &m.value;
    else if (m.key == "weight_map") weight_map = &m.value;
  }
  if (!weight_map) corrupt_at("index has no weight_map", root.offset());
  std::optional<uint64_t> total_size;
  if (metadata)
    for (const auto& m : metadata->as_object("metadata"))
      if (m.key == "total_size") total_size = m.value.as_u64("metadata.total_size");

  // weight_map: names (unique, JSON refuses duplicate keys) -> shard names, shards in order
  // of first appearance.
  const auto& entries = weight_map->as_object("weight_map");
  check_limit("zip.max_entries", limits.zip_max_entries, entries.size(), "index lists too many tensors");
  std::unordered_map<std::string, std::string> assigned;
  std::vector<std::string> shard_names;
  std::unordered_map<std::string, size_t> shard_index;
  for (const auto& e : entries) {
    const std::string& shard = e.value.as_string("weight_map value");
    if (!valid_shard_name(shard))
      fail(Error(Error::Code::kForbidden, "shard name '" + escape(shard) + "' is not one plain file name")
               .member(e.key)
               .offset(e.value.offset()));
    assigned.emplace(e.key, shard);
    if (shard_index.emplace(shard, shard_names.size()).second) {
      shard_names.push_back(shard);
      check_limit("index.max_shards", limits.index_max_shards, shard_names.size(), "index names too many shards");
    }
  }

  Roots roots;
  const std::string dir = parent(index->path());
  roots.dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (roots.dirfd < 0) fail(Error::Code::kIo, "cannot open the index's directory: " + std::string(std::strerror(errno)));
  roots.dir = real_path("/proc/self/fd/" + std::to_string(roots.dirfd));
  const std::string up = parent(roots.dir);
  if (up.size() >= 10 && ends_with(up, "/snapshots")) roots.cache = parent(up);

  ReadResult r;
  r.file.format = Format::kHfSharded;
  Format format = ends_with(index->path(), ".safetensors.index.json") ? Format::kSafetensors
                  : ends_with(index->path(), ".bin.index.json")       ? Format::kTorchZip
                                                                      : Format::kHfSharded;  // first shard decides
  // Open every shard first (names, symlinks, aliasing), then read them.
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<Shard> shards;
  for (const std::string& name : shard_names) {
    try {
      shards.push_back(open_shard(roots, name, options.map, seen));
    } catch (Error& e) {
      throw std::move(e.member(name).path(dir + "/" + name));
    }
  }
  std::unordered_map<std::string, Tensor> tensors;
  uint64_t shared_bytes = 0;
  std::set<std::pair<const std::byte*, size_t>> storages;
  for (const Shard& shard : shards) {
    try {
      for (auto& [tname, t] : read_shard(shard, format, options, r.file.warnings)) {
        auto it = assigned.find(tname);
        if (it == assigned.end())
          fail(Error(Error::Code::kCorrupt, "shard holds tensor '" + escape(tname) + "' that weight_map does not list"));
        if (it->second != shard.name)
          fail(Error(Error::Code::kCorrupt, "tensor '" + escape(tname) + "' is in this shard but weight_map puts it in '" +
                                                escape(it->second) + "'"));
        // Storages shared by several names count once, as transformers counts total_size.
        if (storages.insert({t.storage().data(), t.storage().nbytes()}).second) shared_bytes += t.nbytes();
        if (!tensors.emplace(tname, std::move(t)).second)
          fail(Error(Error::Code::kCorrupt, "shard holds tensor '" + escape(tname) + "' twice"));
      }
    } catch (Error& e) {
      throw std::move(e.member(shard.name).path(dir + "/" + shard.name));
    }
  }

  r.file.root = Value::dict(true);
  ValueDict& dict = r.file.root.as_dict();
  for (const auto& e : entries) {
    auto it = tensors.find(e.key);
    if (it == tensors.end())
      fail(Error(Error::Code::kCorrupt, "weight_map puts tensor '" + escape(e.key) + "' in a shard that lacks it")
               .member(assigned[e.key])
               .offset(e.key_offset));
    dict.add(e.key, Value::tensor(it->second));
  }
  if (total_size && *total_size != shared_bytes)
    r.file.warnings.push_back("metadata.total_size is " + std::to_string(*total_size) + " but the shards hold " +
                              std::to_string(shared_bytes) + " tensor bytes");
  return r;
}

}  // namespace torchless::formats
