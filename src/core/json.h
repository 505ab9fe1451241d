// Strict JSON for file headers (safetensors, sharded indexes) and request bodies.
//
// parse_json() reads one JSON object or array (RFC 8259, through nlohmann_json's SAX parser)
// into a small ordered tree and refuses, as kCorrupt with the absolute byte offset, what a
// looser parser would read two ways: duplicate keys at any level, invalid UTF-8 and lone
// surrogate escapes, trailing bytes, a top-level scalar. Nesting deeper than max_depth is
// kLimitExceeded (json.max_depth). Numbers keep their kind: integers stay exact (int64 or
// uint64), anything with a fraction or exponent is a float, and the integer accessors refuse
// floats, so "2.0" never passes where a size is required.
//
// Memory: a value is 24 bytes plus its string or container on the heap; a reader of a large
// header can take the top-level members one by one as they are parsed (JsonOptions::on_member)
// and refuse early, so the whole tree of a hostile header is never built.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace torchless {

class Json {
 public:
  enum class Type : uint8_t { kNull, kBool, kInt, kUInt, kFloat, kString, kArray, kObject };
  struct Member;

  Json() = default;
  Json(Json&& o) noexcept;
  Json& operator=(Json&& o) noexcept;
  ~Json();

  Type type() const { return type_; }
  // Absolute byte offset of the value's first byte (base_offset + position in the text).
  uint64_t offset() const { return offset_; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_string() const { return type_ == Type::kString; }
  const char* type_name() const;

  // Accessors that refuse (kCorrupt naming `what`, at offset()) a value of another type.
  const std::string& as_string(std::string_view what) const;
  bool as_bool(std::string_view what) const;
  // A JSON integer >= 0 ("3", not "3.0" or "3e0").
  uint64_t as_u64(std::string_view what) const;
  const std::vector<Json>& as_array(std::string_view what) const;
  const std::vector<Member>& as_object(std::string_view what) const;

  // Raw parts, empty for the other types.
  const std::string& text() const;  // string value, or a float's source text
  const std::vector<Json>& items() const;
  const std::vector<Member>& members() const;

 private:
  friend class JsonBuilder;
  void reset();

  Type type_ = Type::kNull;
  uint64_t offset_ = 0;
  union {
    bool b;
    int64_t i;
    uint64_t u;
    std::string* text;              // kString, kFloat (owned)
    std::vector<Json>* items;       // kArray (owned)
    std::vector<Member>* members;   // kObject (owned)
  } v_{};
};

struct Json::Member {
  std::string key;
  uint64_t key_offset;  // absolute offset of the key's opening quote
  Json value;
};

struct JsonOptions {
  uint64_t max_depth = 64;   // Limits::json_max_depth
  uint64_t base_offset = 0;  // added to every offset (the text's position in its file)
  // After the value: false = JSON whitespace only; true = ASCII spaces only (safetensors'
  // padding rule, hostile-inputs ST-03).
  bool spaces_only_after = false;
  // When set (and the text is an object), each top-level member is handed to this function as
  // soon as its value is complete, and is not kept: the returned object has no members. The
  // function may throw to refuse the text there. Keys are still checked for duplicates.
  std::function<void(Json::Member&)> on_member;
};

// Parses `text`, which must hold exactly one object or array. Throws Error (check.h).
Json parse_json(std::string_view text, const JsonOptions& options);

}  // namespace torchless
