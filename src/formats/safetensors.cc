// safetensors reader (formats.md 8, hostile-inputs ST-01..12):
//   [u64 LE N][N bytes JSON header, space padded][byte buffer tiled exactly by the tensors]
// The header is parsed strictly (core/json.h), every entry is checked, then the entries sorted
// by offset must tile the buffer with no gap, overlap or leftover byte (FMT-02). Tensors are
// views of the file when their address suits the element size, copies otherwise (ST-12).
#include <algorithm>
#include <tuple>
#include <unordered_map>

#include "core/check.h"
#include "core/json.h"
#include "formats/readers.h"

namespace torchless::formats {
namespace {

struct StDType {
  const char* name;
  DType dtype;
};
// Every dtype string the reference implementation knows, with its torchless DType.
constexpr StDType kDTypes[] = {
    {"BOOL", DType::kBool},       {"U8", DType::kUInt8},     {"I8", DType::kInt8},
    {"I16", DType::kInt16},       {"U16", DType::kUInt16},   {"I32", DType::kInt32},
    {"U32", DType::kUInt32},      {"I64", DType::kInt64},    {"U64", DType::kUInt64},
    {"F16", DType::kFloat16},     {"BF16", DType::kBFloat16}, {"F32", DType::kFloat32},
    {"F64", DType::kFloat64},     {"C64", DType::kComplex64}, {"F8_E4M3", DType::kFloat8E4M3FN},
    {"F8_E5M2", DType::kFloat8E5M2}, {"F8_E4M3FNUZ", DType::kFloat8E4M3FNUZ},
    {"F8_E5M2FNUZ", DType::kFloat8E5M2FNUZ}, {"F8_E8M0", DType::kFloat8E8M0FNU},
};
// Sub-byte dtypes: valid safetensors, no torchless DType (bits per element).
struct SubByte {
  const char* name;
  unsigned bits;
};
constexpr SubByte kSubByte[] = {{"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6}};

constexpr size_t kMaxNameBytes = 4096;

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

uint64_t read_u64le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Shape -> element count, with ST-08 overflow and the tensor limits.
uint64_t shape_numel(const Json& shape, std::vector<int64_t>& out, const Limits& limits) {
  const auto& dims = shape.as_array("shape");
  check_limit("tensor.max_ndim", limits.tensor_max_ndim, dims.size(), "tensor has too many dimensions");
  uint64_t numel = 1;
  for (const Json& d : dims) {
    const uint64_t n = d.as_u64("shape entry");
    if (n > static_cast<uint64_t>(INT64_MAX)) corrupt_at("shape entry overflows int64", d.offset());
    out.push_back(static_cast<int64_t>(n));
    numel = mul_u64(numel, n, "shape product");
  }
  if (numel > static_cast<uint64_t>(INT64_MAX)) corrupt_at("shape product overflows int64", shape.offset());
  return numel;
}

Entry parse_entry(const Json::Member& m, const Limits& limits) {
  Entry e{m.key, DType::kFloat32, {}, 0, 0};
  if (m.key.empty()) corrupt_at("empty tensor name", m.key_offset);
  if (m.key.size() > kMaxNameBytes) corrupt_at("tensor name longer than 4096 bytes", m.key_offset);
  if (m.key.find('\0') != std::string::npos) corrupt_at("tensor name contains NUL", m.key_offset);
  const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto& f : m.value.as_object("tensor entry")) {
    if (f.key == "dtype") dtype = &f.value;
    else if (f.key == "shape") shape = &f.value;
    else if (f.key == "data_offsets") offsets = &f.value;
    else corrupt_at("unknown field \"" + escape(f.key) + "\" in tensor entry", f.key_offset);
  }
  if (!dtype || !shape || !offsets)
    corrupt_at(std::string("tensor entry lacks \"") + (!dtype ? "dtype" : !shape ? "shape" : "data_offsets") + "\"",
               m.value.offset());

  const std::string& dname = dtype->as_string("dtype");
  const uint64_t numel = shape_numel(*shape, e.shape, limits);
  const auto& offs = offsets->as_array("data_offsets");
  if (offs.size() != 2) corrupt_at("data_offsets must hold exactly two integers", offsets->offset());
  e.begin = offs[0].as_u64("data_offsets[0]");
  e.end = offs[1].as_u64("data_offsets[1]");
  if (e.begin > e.end) corrupt_at("data_offsets begin after end", offsets->offset());

  const StDType* known = nullptr;
  for (const StDType& d : kDTypes)
    if (dname == d.name) known = &d;
  if (!known) {
    for (const SubByte& s : kSubByte)
      if (dname == s.name) {
        if (mul_u64(numel, s.bits, "tensor bit count") % 8 != 0)
          corrupt_at("sub-byte tensor bit count is not a multiple of 8", dtype->offset());
        fail(Error(Error::Code::kUnsupported, "sub-byte dtype " + dname + " is not supported").offset(dtype->offset()));
      }
    fail(Error(Error::Code::kUnsupported, "unknown dtype \"" + escape(dname) + "\"").offset(dtype->offset()));
  }
  e.dtype = known->dtype;
  const uint64_t nbytes = mul_u64(numel, dtype_size(e.dtype), "tensor byte size");  // ST-08 before the limit
  check_limit("tensor.max_numel", limits.tensor_max_numel, numel, "tensor has too many elements");
  if (e.end - e.begin != nbytes)
    corrupt_at("data_offsets span " + std::to_string(e.end - e.begin) + " bytes but shape and dtype need " +
                   std::to_string(nbytes),
               offsets->offset());
  return e;
}

// __metadata__: an object of string -> string, kept as the root dict's attribute.
Value parse_metadata(const Json& j) {
  Value md = Value::dict(true);
  for (const auto& f : j.as_object("__metadata__"))
    md.as_dict().add(f.key, Value::string(f.value.as_string("__metadata__ value")));
  return md;
}

// Tied weights: torchless's writer (safetensors_writer.cc) stores one name per tied tensor and
// records the others in __metadata__ "torchless.aliases", a JSON object alias -> stored name.
// They come back here as extra names sharing the stored tensor, so a round trip gives back
// every name. An alias that names a missing tensor or an existing name is refused.
void restore_aliases(ValueDict& dict, const Limits& limits) {
  const Value* text = nullptr;
  for (const auto& [key, md] : dict.attributes)
    if (key == "__metadata__") text = md.as_dict().find("torchless.aliases");
  if (!text) return;
  JsonOptions jo;
  jo.max_depth = limits.json_max_depth;
  Json aliases;
  try {
    aliases = parse_json(text->as_string(), jo);
  } catch (Error& e) {
    throw std::move(e.member("__metadata__.torchless.aliases"));
  }
  std::unordered_map<std::string, size_t> index;  // name -> item
  for (size_t i = 0; i < dict.items.size(); ++i) index.emplace(dict.items[i].first.as_string(), i);
  for (const auto& m : aliases.as_object("torchless.aliases")) {
    const std::string& target = m.value.as_string("torchless.aliases value");
    auto it = index.find(target);
    if (it == index.end() || index.count(m.key))
      fail(Error(Error::Code::kCorrupt, it == index.end() ? "alias of a tensor that is not in the file"
                                                          : "alias repeats a tensor name")
               .member(m.key));
    Value tensor = dict.items[it->second].second;  // shares the stored tensor
    dict.add(m.key, std::move(tensor));
    index.emplace(m.key, dict.items.size() - 1);
  }
}

}  // namespace

ReadResult read_safetensors(const FilePtr& file, const LoadOptions& options) {
  const Limits& limits = options.limits;
  const uint64_t size = file->size();
  if (size < 8) corrupt_at("file shorter than the 8-byte header length", 0);
  const uint64_t n = read_u64le(file->data());
  check_limit("safetensors.max_header_bytes", limits.safetensors_max_header_bytes, n, "header too large");
  if (!in_range(8, n, size)) corrupt_at("header length " + std::to_string(n) + " runs past the end of the file", 0);
  const std::string_view header(reinterpret_cast<const char*>(file->data()) + 8, n);
  if (header.empty() || header[0] != '{') corrupt_at("header does not start with '{'", 8);

  ReadResult r;
  r.file.format = Format::kSafetensors;
  r.file.root = Value::dict(true);
  ValueDict& dict = r.file.root.as_dict();
  std::vector<Entry> entries;

  JsonOptions jo;
  jo.max_depth = limits.json_max_depth;
  jo.base_offset = 8;
  jo.spaces_only_after = true;
  // Each entry is checked as soon as the parser has it, and only the Entry is kept: a header
  // with too many tensors is refused (ST-11) without building its tree.
  jo.on_member = [&](Json::Member& m) {
    if (m.key == "__metadata__") {
      dict.attributes.emplace_back("__metadata__", parse_metadata(m.value));
      return;
    }
    if (entries.size() >= limits.zip_max_entries)
      fail(Error(Error::Code::kLimitExceeded, "too many tensors")
               .limit("zip.max_entries", limits.zip_max_entries, entries.size() + 1)
               .offset(m.key_offset));
    try {
      entries.push_back(parse_entry(m, limits));
    } catch (Error& e) {
      if (e.offset() == std::nullopt) e.offset(m.key_offset);
      throw std::move(e.member(m.key));
    }
  };
  try {
    parse_json(header, jo);  // an object: it starts with '{'
  } catch (Error& e) {
    // A header nested deeper than the limit is a malformed header here (ST-03), not a budget.
    if (e.limit_name() != "json.max_depth") throw;
    fail(Error(Error::Code::kCorrupt, e.message() + " (json.max_depth=" + std::to_string(limits.json_max_depth) + ")")
             .offset(e.offset().value_or(8)));
  }

  // The entries sorted by offset must tile [0, buffer) exactly (ST-06, FMT-02).
  const uint64_t data_start = 8 + n;
  const uint64_t buffer = size - data_start;
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(entries[a].begin, entries[a].end) < std::tie(entries[b].begin, entries[b].end);
  });
  uint64_t covered = 0;
  for (size_t i : order) {
    const Entry& e = entries[i];
    if (e.begin != covered)
      fail(Error(Error::Code::kCorrupt, e.begin > covered ? "gap before tensor data (data_offsets begin " +
                                                                std::to_string(e.begin) + ", expected " +
                                                                std::to_string(covered) + ")"
                                                          : "tensor data overlaps the previous tensor")
               .member(e.name)
               .offset(data_start + std::min(e.begin, covered)));
    if (e.end > buffer)
      fail(Error(Error::Code::kCorrupt, "tensor data runs past the end of the file").member(e.name).offset(size));
    covered = e.end;
  }
  if (covered != buffer) corrupt_at(std::to_string(buffer - covered) + " bytes after the last tensor", data_start + covered);

  for (const Entry& e : entries) {
    Storage s = MappedFile::storage(file, data_start + e.begin, e.end - e.begin).aligned(dtype_alignment(e.dtype));
    Tensor t = unwrap(Tensor::contiguous_over(std::move(s), e.dtype, e.shape));
    dict.add(e.name, Value::tensor(std::move(t)));
  }
  restore_aliases(dict, limits);
  return r;
}

}  // namespace torchless::formats
