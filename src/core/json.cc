// Strict JSON helper (json.h): nlohmann_json's SAX parser feeding a compact tree.
#include "core/json.h"

#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/check.h"

namespace torchless {
namespace {

// A char iterator that publishes how far the parser has read: SAX events carry no position,
// so offsets are recovered from the number of bytes the lexer consumed.
struct CountingIterator {
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  const char* p = nullptr;
  const char** high = nullptr;  // furthest byte handed to the lexer

  reference operator*() const { return *p; }
  CountingIterator& operator++() {
    ++p;
    if (p > *high) *high = p;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator t = *this;
    ++*this;
    return t;
  }
  bool operator==(const CountingIterator& o) const { return p == o.p; }
};

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

// Builds the tree from SAX events, enforcing the strictness rules as they arrive.
class JsonBuilder {
 public:
  JsonBuilder(std::string_view text, const JsonOptions& options, const char** high)
      : text_(text), options_(options), high_(high) {}

  bool null() {
    add(Json::Type::kNull);
    return value_done();
  }
  bool boolean(bool v) {
    add(Json::Type::kBool).v_.b = v;
    return value_done();
  }
  bool number_integer(int64_t v) {
    add(Json::Type::kInt).v_.i = v;
    return value_done();
  }
  bool number_unsigned(uint64_t v) {
    if (v > static_cast<uint64_t>(INT64_MAX)) {
      add(Json::Type::kUInt).v_.u = v;
    } else {
      add(Json::Type::kInt).v_.i = static_cast<int64_t>(v);
    }
    return value_done();
  }
  bool number_float(double, const std::string& raw) {
    *add(Json::Type::kFloat).v_.text = raw;
    return value_done();
  }
  bool string(std::string& v) {
    *add(Json::Type::kString).v_.text = std::move(v);
    return value_done();
  }
  bool binary(nlohmann::json::binary_t&) { corrupt("binary value in JSON text"); }
  bool start_object(size_t) { return open(Json::Type::kObject); }
  bool start_array(size_t) { return open(Json::Type::kArray); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(std::string& k) {
    const uint64_t at = token_start();
    if (!keys_.back().insert(k).second)
      corrupt_at("duplicate key \"" + escape(k) + "\"", options_.base_offset + at);
    stack_.back()->v_.members->push_back(Json::Member{std::move(k), options_.base_offset + at, Json()});
    return true;
  }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    // position is 1-based: the byte the lexer stopped at.
    const uint64_t at = position == 0 ? 0 : position - 1;
    std::string what = ex.what();
    const size_t colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    corrupt_at("invalid JSON: " + escape(what), options_.base_offset + at);
  }

  Json take() { return std::move(root_); }
  bool done() const { return done_; }
  uint64_t end() const { return end_; }

 private:
  // Where the token just scanned begins: after the previous event's last byte, past
  // whitespace and one ',' or ':'.
  uint64_t token_start() {
    size_t at = last_;
    while (at < text_.size() && is_ws(text_[at])) ++at;
    if (at < text_.size() && (text_[at] == ',' || text_[at] == ':')) ++at;
    while (at < text_.size() && is_ws(text_[at])) ++at;
    last_ = consumed();
    return at;
  }
  size_t consumed() const { return static_cast<size_t>(*high_ - text_.data()); }

  // A new value of `type` (payload allocated) in the open container, at the current token.
  Json& add(Json::Type type) {
    const uint64_t at = token_start();
    Json* slot;
    if (stack_.empty()) {
      corrupt_at("JSON text must be an object or an array", options_.base_offset + at);
    } else if (stack_.back()->type_ == Json::Type::kArray) {
      slot = &stack_.back()->v_.items->emplace_back();
    } else {
      slot = &stack_.back()->v_.members->back().value;
    }
    init(*slot, type);
    slot->offset_ = options_.base_offset + at;
    return *slot;
  }
  static void init(Json& j, Json::Type type) {
    switch (type) {  // allocate first: on bad_alloc the value stays a null
      case Json::Type::kString: case Json::Type::kFloat: j.v_.text = new std::string(); break;
      case Json::Type::kArray: j.v_.items = new std::vector<Json>(); break;
      case Json::Type::kObject: j.v_.members = new std::vector<Json::Member>(); break;
      default: break;
    }
    j.type_ = type;
  }
  // A value is complete: a top-level member goes to on_member instead of staying in the tree.
  bool value_done() {
    if (options_.on_member && stack_.size() == 1 && root_.type_ == Json::Type::kObject) {
      options_.on_member(root_.v_.members->back());
      root_.v_.members->pop_back();
    }
    return true;
  }
  bool open(Json::Type type) {
    Json* j;
    if (stack_.empty()) {
      last_ = consumed() - 1;  // the bracket itself (leading whitespace was skipped)
      init(root_, type);
      root_.offset_ = options_.base_offset + last_;
      last_ = consumed();
      j = &root_;
    } else {
      j = &add(type);
    }
    if (stack_.size() + 1 > options_.max_depth)
      fail(Error(Error::Code::kLimitExceeded, "JSON nested too deeply")
               .limit("json.max_depth", options_.max_depth, stack_.size() + 1)
               .offset(options_.base_offset + consumed() - 1));
    stack_.push_back(j);
    if (type == Json::Type::kObject) keys_.emplace_back();
    return true;
  }
  bool close() {
    if (stack_.back()->type_ == Json::Type::kObject) keys_.pop_back();
    stack_.pop_back();
    last_ = consumed();
    if (stack_.empty()) {
      done_ = true;
      end_ = last_;
      return true;
    }
    return value_done();
  }

  std::string_view text_;
  const JsonOptions& options_;
  const char** high_;
  Json root_;
  std::vector<Json*> stack_;  // open containers; a parent never grows while its child is open
  std::vector<std::unordered_set<std::string>> keys_;  // keys of each open object
  size_t last_ = 0;
  bool done_ = false;
  uint64_t end_ = 0;
};

Json parse_json(std::string_view text, const JsonOptions& options) {
  const char* high = text.data();
  CountingIterator first{text.data(), &high}, last{text.data() + text.size(), &high};
  JsonBuilder b(text, options, &high);
  // strict = false: stop right after the top-level value, the trailing bytes are checked here.
  nlohmann::json::sax_parse(first, last, &b, nlohmann::json::input_format_t::json, false, false);
  if (!b.done()) corrupt_at("truncated JSON text", options.base_offset + text.size());
  for (uint64_t i = b.end(); i < text.size(); ++i) {
    const char c = text[i];
    if (options.spaces_only_after ? c != ' ' : !is_ws(c))
      corrupt_at(options.spaces_only_after ? "bytes other than spaces after the JSON header"
                                           : "trailing bytes after the JSON text",
                 options.base_offset + i);
  }
  return b.take();
}

// ---- the value itself ---------------------------------------------------------------------

Json::Json(Json&& o) noexcept : type_(o.type_), offset_(o.offset_), v_(o.v_) {
  o.type_ = Type::kNull;
  o.v_ = {};
}

Json& Json::operator=(Json&& o) noexcept {
  if (this != &o) {
    reset();
    type_ = o.type_;
    offset_ = o.offset_;
    v_ = o.v_;
    o.type_ = Type::kNull;
    o.v_ = {};
  }
  return *this;
}

Json::~Json() { reset(); }

void Json::reset() {
  switch (type_) {
    case Type::kString: case Type::kFloat: delete v_.text; break;
    case Type::kArray: delete v_.items; break;
    case Type::kObject: delete v_.members; break;
    default: break;
  }
  type_ = Type::kNull;
  v_ = {};
}

const std::string& Json::text() const {
  static const std::string empty;
  return type_ == Type::kString || type_ == Type::kFloat ? *v_.text : empty;
}

const std::vector<Json>& Json::items() const {
  static const std::vector<Json> empty;
  return type_ == Type::kArray ? *v_.items : empty;
}

const std::vector<Json::Member>& Json::members() const {
  static const std::vector<Member> empty;
  return type_ == Type::kObject ? *v_.members : empty;
}

// ---- accessors ----------------------------------------------------------------------------

const char* Json::type_name() const {
  switch (type_) {
    case Type::kNull: return "null";
    case Type::kBool: return "a boolean";
    case Type::kInt: case Type::kUInt: return "an integer";
    case Type::kFloat: return "a number with a fraction or exponent";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "?";
}

namespace {
[[noreturn]] void wrong_type(const Json& j, std::string_view what, const char* wanted) {
  corrupt_at(std::string(what) + " must be " + wanted + ", not " + j.type_name(), j.offset());
}
}  // namespace

const std::string& Json::as_string(std::string_view what) const {
  if (type_ != Type::kString) wrong_type(*this, what, "a string");
  return *v_.text;
}

bool Json::as_bool(std::string_view what) const {
  if (type_ != Type::kBool) wrong_type(*this, what, "a boolean");
  return v_.b;
}

uint64_t Json::as_u64(std::string_view what) const {
  if (type_ == Type::kUInt) return v_.u;
  if (type_ == Type::kInt) {
    if (v_.i < 0) corrupt_at(std::string(what) + " must not be negative", offset_);
    return static_cast<uint64_t>(v_.i);
  }
  if (type_ == Type::kFloat && v_.text->find_first_of(".eE") == std::string::npos)
    corrupt_at(std::string(what) + " is out of the 64-bit integer range", offset_);
  wrong_type(*this, what, "a non-negative integer");
}

const std::vector<Json>& Json::as_array(std::string_view what) const {
  if (type_ != Type::kArray) wrong_type(*this, what, "an array");
  return *v_.items;
}

const std::vector<Json::Member>& Json::as_object(std::string_view what) const {
  if (type_ != Type::kObject) wrong_type(*this, what, "an object");
  return *v_.members;
}

}  // namespace torchless
