// safetensors reader and the strict JSON helper it parses headers with.
#include "core/json.h"
#include "simplefmt_test_util.h"

namespace {

using namespace torchless;
using namespace simplefmt_test;

// ---- JSON ---------------------------------------------------------------------------------

Result<Json> parse(std::string_view text, JsonOptions o = {}) {
  return guard("json", "", [&] { return parse_json(text, o); });
}

TEST(Json, KeepsOrderKindsAndOffsets) {
  auto j = parse(R"( {"b": [1, -2, 18446744073709551615], "a": {"x": "\u00e9"}, "f": 2.5, "t": true, "n": null})");
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  const auto& m = j->members();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].key, "b");
  EXPECT_EQ(m[1].key, "a");
  EXPECT_EQ(j->offset(), 1u);
  EXPECT_EQ(m[0].key_offset, 2u);
  const auto& b = m[0].value.items();
  EXPECT_EQ(m[0].value.offset(), 7u);
  EXPECT_EQ(b[0].as_u64("x"), 1u);
  EXPECT_EQ(b[1].type(), Json::Type::kInt);
  EXPECT_EQ(b[1].offset(), 11u);
  EXPECT_EQ(b[2].as_u64("x"), UINT64_MAX);
  EXPECT_EQ(m[1].value.members()[0].value.text(), "\xc3\xa9");
  EXPECT_EQ(m[2].value.type(), Json::Type::kFloat);
  EXPECT_TRUE(m[3].value.as_bool("t"));
  EXPECT_EQ(m[4].value.type(), Json::Type::kNull);
}

TEST(Json, IntegersOnlyWhereRequired) {
  auto j = parse(R"({"a": 2.0, "b": 2e0, "c": -1, "d": 99999999999999999999999})");
  ASSERT_TRUE(j.ok());
  for (const auto& m : j->members()) {
    auto r = guard("t", "", [&] { return m.value.as_u64(m.key); });
    ASSERT_FALSE(r.ok()) << m.key;
    EXPECT_EQ(r.error().code(), Error::Code::kCorrupt);
    EXPECT_EQ(r.error().offset(), m.value.offset());
  }
}

TEST(Json, RefusesWithOffsets) {
  struct Case {
    std::string text;
    Error::Code code;
    uint64_t offset;
  } cases[] = {
      {R"({"a":1,"a":2})", Error::Code::kCorrupt, 7},               // duplicate key
      {R"({"o":{"k":1,"k":1}})", Error::Code::kCorrupt, 12},        // duplicate, nested
      {"{\"a\xff\":1}", Error::Code::kCorrupt, 3},                  // invalid UTF-8
      {R"({"a":"\ud800"})", Error::Code::kCorrupt, 12},             // lone surrogate
      {R"({"a":1} x)", Error::Code::kCorrupt, 8},                   // trailing bytes
      {R"({"a":1,})", Error::Code::kCorrupt, 7},                    // trailing comma
      {"42", Error::Code::kCorrupt, 0},                             // scalar at the top
      {"", Error::Code::kCorrupt, 0},
      {std::string(65, '[') + std::string(65, ']'), Error::Code::kLimitExceeded, 64},
  };
  for (const auto& c : cases) {
    auto r = parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), c.code) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(r.error().offset(), c.offset) << c.text << ": " << r.error().to_string();
  }
  EXPECT_TRUE(parse(std::string(64, '[') + std::string(64, ']')).ok());
}

TEST(Json, TrailingSpacesRule) {
  JsonOptions o;
  o.spaces_only_after = true;
  o.base_offset = 8;
  EXPECT_TRUE(parse("{}   ", o).ok());
  auto r = parse("{}  \n", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset(), 12u);
  EXPECT_TRUE(parse("{}  \n").ok());
}

// on_member: top-level members leave the tree as soon as each is complete; duplicate keys
// are still refused, and a throw from the function stops the parse there.
TEST(Json, OnMemberStreamsTopLevelMembers) {
  std::vector<std::string> seen;
  JsonOptions o;
  o.on_member = [&](Json::Member& m) {
    seen.push_back(m.key + "@" + std::to_string(m.key_offset) + ":" + m.value.type_name());
    if (m.key == "stop") corrupt_at("stopped", m.key_offset);
  };
  auto j = parse(R"({"a": {"x": [1, {"y": 2}]}, "b": "s", "c": [], "d": null})", o);
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_TRUE(j->is_object());
  EXPECT_TRUE(j->members().empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"a@1:an object", "b@28:a string", "c@38:an array", "d@47:null"}));

  seen.clear();
  auto dup = parse(R"({"a": 1, "b": 2, "a": 3})", o);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().offset(), 17u);
  EXPECT_EQ(seen.size(), 2u);

  seen.clear();
  auto stop = parse(R"({"a": 1, "stop": 2, "c": 3, )", o);  // refused before the syntax error
  ASSERT_FALSE(stop.ok());
  EXPECT_EQ(stop.error().message(), "stopped");
  EXPECT_EQ(seen.size(), 2u);
}

// ---- safetensors ----------------------------------------------------------------------------

TEST(Safetensors, ValidFilesMatchTheWriter) {
  expect_matches("st/all_dtypes.safetensors", Format::kSafetensors);
  expect_matches("st/unaligned.safetensors", Format::kSafetensors);
  expect_matches("st/no_metadata.safetensors", Format::kSafetensors);
  LoadOptions copy;
  copy.map = false;
  expect_matches("st/all_dtypes.safetensors", Format::kSafetensors, copy);
}

TEST(Safetensors, MetadataIsARootAttribute) {
  auto r = read_with(formats::read_safetensors, data_path("st/all_dtypes.safetensors"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const ValueDict& root = r->file.root.as_dict();
  EXPECT_TRUE(root.ordered);
  ASSERT_EQ(root.attributes.size(), 1u);
  EXPECT_EQ(root.attributes[0].first, "__metadata__");
  const Value* fmt = root.attributes[0].second.as_dict().find("format");
  ASSERT_NE(fmt, nullptr);
  EXPECT_EQ(fmt->as_string(), "pt");
  EXPECT_EQ(root.find("__metadata__"), nullptr);
}

// Aligned tensors are views of the mapped file; misaligned ones are copies (ST-12).
TEST(Safetensors, ZeroCopyWhenAligned) {
  for (const char* rel : {"st/all_dtypes.safetensors", "st/unaligned.safetensors"}) {
    auto file = MappedFile::open(data_path(rel));
    ASSERT_TRUE(file.ok());
    auto r = guard("t", "", [&] { return formats::read_safetensors(*file, {}); });
    ASSERT_TRUE(r.ok());
    size_t views = 0, copies = 0;
    for (const auto& [k, v] : r->file.root.as_dict().items) {
      const Tensor& t = v.as_tensor();
      if (t.nbytes() == 0) continue;
      const bool inside = t.data() >= (*file)->data() && t.data() < (*file)->data() + (*file)->size();
      const size_t align = std::min<size_t>(dtype_size(t.dtype()), 8);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % align, 0u) << k.as_string();
      (inside ? views : copies)++;
    }
    if (std::string(rel) == "st/all_dtypes.safetensors") {
      EXPECT_EQ(copies, 0u);
    } else {
      EXPECT_GT(copies, 0u);
    }
    EXPECT_GT(views + copies, 0u);
  }
}

TEST(Safetensors, HostileFilesAreRefusedWithTheirCode) {
  EXPECT_GE(expect_hostile("safetensors", formats::read_safetensors), 35u);
}

TEST(Safetensors, LimitsFromOptions) {
  LoadOptions o;
  o.limits.zip_max_entries = 2;
  auto r = read_with(formats::read_safetensors, data_path("st/all_dtypes.safetensors"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Error::Code::kLimitExceeded);
  EXPECT_EQ(r.error().limit_name(), "zip.max_entries");

  // Counted while the header is parsed (ST-11): the third tensor is refused before the parser
  // reaches the broken end of the header.
  std::string header = R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                       R"("b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                       R"("c":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"d":)";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  auto early = guard("t", "", [&] {
    return formats::read_safetensors(MappedFile::from_bytes("m", bytes + header), o);
  });
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), Error::Code::kLimitExceeded) << early.error().to_string();
  EXPECT_EQ(early.error().offset(), 8 + header.find("\"c\""));

  o = {};
  o.limits.safetensors_max_header_bytes = 64;
  r = read_with(formats::read_safetensors, data_path("st/all_dtypes.safetensors"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "safetensors.max_header_bytes");

  o = {};
  o.limits.tensor_max_numel = 10;
  r = read_with(formats::read_safetensors, data_path("st/all_dtypes.safetensors"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "tensor.max_numel");
  EXPECT_EQ(r.error().member(), "layer.0.weight");
}

TEST(Safetensors, ErrorsNameTensorAndOffset) {
  auto r = read_with(formats::read_safetensors, data_path("st/hostile/st06_gap.safetensors"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().member(), "b");
  ASSERT_TRUE(r.error().offset().has_value());
  r = read_with(formats::read_safetensors, data_path("st/hostile/st06_trailing.safetensors"));
  ASSERT_FALSE(r.ok());
  auto f = MappedFile::open(data_path("st/hostile/st06_trailing.safetensors"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(r.error().offset(), (*f)->size() - 4);  // the first byte no tensor accounts for
}

TEST(Safetensors, InMemoryBytes) {
  std::string header = R"({"x":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header;
  bytes += std::string("\x01\0\0\0\x02\0\0\0", 8);
  auto r = guard("t", "", [&] { return formats::read_safetensors(MappedFile::from_bytes("m", bytes), {}); });
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Tensor& t = r->file.root.as_dict().items[0].second.as_tensor();
  int32_t v[2];
  std::memcpy(v, t.data(), 8);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 2);
}

}  // namespace
