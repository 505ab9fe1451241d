// safetensors writer (formats.md 8 [rule] Writer) and save_state_dict(), the entry point that
// dispatches to it, to the Hugging Face shard writer, or to the torch writer:
//   [u64 LE N][compact JSON header, space padded so N % 8 == 0][tensors, C order, no gaps]
// The header holds __metadata__ first ({"format": "pt"} plus the caller's entries), then the
// tensors in the reference ordering (descending dtype rank, then name), which is also their
// offset order. Tensor bytes are streamed from their views (Tensor::for_each_chunk) into an
// AtomicFile, so a strided tensor is never materialised and a crash never leaves a partial
// file under the final name. Tied names (one view of one storage) are written once; the other
// names go to __metadata__ "torchless.aliases" as a JSON object alias -> written name, which
// the safetensors reader turns back into names.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "core/check.h"
#include "formats/writers.h"

namespace torchless {
namespace formats {
namespace {

static_assert(std::endian::native == std::endian::little, "the writers emit host bytes as little-endian");

// safetensors dtype string and the reference writer's rank (its Dtype enum order).
struct StType {
  DType dtype;
  const char* name;
  int rank;
};
constexpr StType kTypes[] = {
    {DType::kBool, "BOOL", 0},           {DType::kUInt8, "U8", 1},
    {DType::kInt8, "I8", 2},             {DType::kFloat8E5M2, "F8_E5M2", 3},
    {DType::kFloat8E4M3FN, "F8_E4M3", 4}, {DType::kFloat8E4M3FNUZ, "F8_E4M3FNUZ", 5},
    {DType::kFloat8E5M2FNUZ, "F8_E5M2FNUZ", 6}, {DType::kFloat8E8M0FNU, "F8_E8M0", 7},
    {DType::kInt16, "I16", 8},           {DType::kUInt16, "U16", 9},
    {DType::kFloat16, "F16", 10},        {DType::kBFloat16, "BF16", 11},
    {DType::kInt32, "I32", 12},          {DType::kUInt32, "U32", 13},
    {DType::kFloat32, "F32", 14},        {DType::kComplex64, "C64", 15},
    {DType::kFloat64, "F64", 16},        {DType::kInt64, "I64", 17},
    {DType::kUInt64, "U64", 18},
};

const StType& st_type(const std::string& name, DType d) {
  for (const StType& t : kTypes)
    if (t.dtype == d) return t;
  fail(Error(Error::Code::kUnsupported, std::string("safetensors has no dtype for ") + std::string(dtype_name(d)))
           .member(name));
}

void put_u64le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::function<void(uint64_t)> file_progress(const SaveOptions& options, uint64_t total) {
  if (!options.progress) return {};
  return [&options, total](uint64_t done) { options.progress(std::min(done, total), total); };
}

void check_materialisable(const std::string& name, const Tensor& t) {
  if (t.nbytes() <= kMaxMaterialisedBytes) return;
  Error e(Error::Code::kLimitExceeded, "writing the tensor out would materialise " + std::to_string(t.nbytes()) + " bytes");
  e.limit("tensor.max_bytes", kMaxMaterialisedBytes, t.nbytes());
  if (!name.empty()) e.member(name);
  fail(std::move(e));
}

bool same_view(const Tensor& a, const Tensor& b) {
  return a.storage().data() != nullptr && a.storage().same_as(b.storage()) && a.dtype() == b.dtype() &&
         a.storage_offset() == b.storage_offset() && a.shape() == b.shape() && a.strides() == b.strides();
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          out += esc;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

void BufferedSink::write(const void* data, size_t n) {
  if (buf_.size() + n > kSize) flush();
  if (n >= kSize) {
    file_.write(data, n);
    return;
  }
  buf_.append(static_cast<const char*>(data), n);
}

void BufferedSink::write_tensor(const Tensor& t) {
  t.for_each_chunk([&](const std::byte* p, size_t n) { write(p, n); });
}

void BufferedSink::flush() {
  if (!buf_.empty()) file_.write(buf_.data(), buf_.size());
  buf_.clear();
}

void write_safetensors(const StateDict& sd, const std::string& path, const SaveOptions& options) {
  // Names: unique, non-empty; tied names resolved to the first name of their view.
  struct Item {
    size_t index;
    const StType* type;
  };
  std::vector<Item> items;
  std::vector<std::pair<std::string, std::string>> aliases;  // alias -> written name
  std::set<std::string_view> seen;
  std::map<std::tuple<const std::byte*, size_t, int64_t>, std::vector<size_t>> by_view;
  for (size_t i = 0; i < sd.size(); ++i) {
    const std::string& name = sd[i].first;  // (no structured binding: clang 14 cannot capture one)
    const Tensor& t = sd[i].second;
    if (name.empty()) fail(Error::Code::kInvalidArgument, "empty tensor name");
    if (!seen.insert(name).second)
      fail(Error(Error::Code::kInvalidArgument, "tensor name appears twice").member(name));
    const StType& type = st_type(name, t.dtype());
    check_materialisable(name, t);
    if (t.storage().data() != nullptr) {
      auto& group = by_view[{t.storage().data(), t.storage().nbytes(), t.storage_offset()}];
      auto first = std::find_if(group.begin(), group.end(), [&](size_t j) { return same_view(sd[j].second, t); });
      if (first != group.end()) {
        aliases.emplace_back(name, sd[*first].first);
        continue;
      }
      group.push_back(i);
    }
    items.push_back({i, &type});
  }
  std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    if (a.type->rank != b.type->rank) return a.type->rank > b.type->rank;
    return sd[a.index].first < sd[b.index].first;
  });

  // __metadata__: "format": "pt" first (a caller's "format" replaces the value), then the
  // caller's entries, then the aliases.
  Metadata md = {{"format", "pt"}};
  for (const auto& kv : options.metadata) {
    auto it = std::find_if(md.begin(), md.end(), [&](const auto& e) { return e.first == kv.first; });
    if (it != md.end()) it->second = kv.second;
    else md.emplace_back(kv);
  }
  if (!aliases.empty()) {
    std::string a = "{";
    for (size_t i = 0; i < aliases.size(); ++i)
      a += (i ? ", " : "") + json_quote(aliases[i].first) + ": " + json_quote(aliases[i].second);
    a += "}";
    auto it = std::find_if(md.begin(), md.end(), [&](const auto& e) { return e.first == "torchless.aliases"; });
    if (it != md.end()) it->second = a;
    else md.emplace_back("torchless.aliases", a);
  }

  std::string header = "{\"__metadata__\":{";
  for (size_t i = 0; i < md.size(); ++i) header += (i ? "," : "") + json_quote(md[i].first) + ":" + json_quote(md[i].second);
  header += "}";
  uint64_t offset = 0;
  for (const Item& it : items) {
    const auto& [name, t] = sd[it.index];
    header += "," + json_quote(name) + ":{\"dtype\":\"" + it.type->name + "\",\"shape\":[";
    for (size_t d = 0; d < t.ndim(); ++d) header += (d ? "," : "") + std::to_string(t.shape()[d]);
    const uint64_t end = add_u64(offset, t.nbytes(), "safetensors buffer size");
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string prefix;
  put_u64le(prefix, header.size());
  const uint64_t total = 8 + header.size() + offset;
  AtomicFile file(path, file_progress(options, total));
  file.reserve(total);
  BufferedSink sink(file);
  sink.write(prefix.data(), prefix.size());
  sink.write(header.data(), header.size());
  for (const Item& it : items) sink.write_tensor(sd[it.index].second);
  sink.flush();
  if (file.offset() != total) fail(Error::Code::kInternal, "safetensors size mismatch");
  file.commit();
}

}  // namespace formats

Status save_state_dict(const StateDict& state_dict, const std::string& path, const SaveOptions& options) {
  if (options.shard_size > 0)
    return guard("shards writer", path, [&] { formats::write_shards(state_dict, path, options); });
  if (options.format == SaveFormat::kSafetensors)
    return guard("safetensors writer", path, [&] { formats::write_safetensors(state_dict, path, options); });
  // torch: an OrderedDict name -> tensor, as model.state_dict() pickles.
  Value root = Value::dict(true);
  for (const auto& [name, t] : state_dict) root.as_dict().add(name, Value::tensor(t));
  return save(root, path, options);
}

}  // namespace torchless
