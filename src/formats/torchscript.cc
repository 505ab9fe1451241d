#include "formats/torchscript.h"

#include <map>

#include "core/check.h"
#include "formats/flatten.h"

namespace torchless::formats {
namespace {

// The names listed by a class's generated `__parameters__` / `__buffers__` lines.
struct ClassInfo {
  bool found = false;  // the class was found in code/
  std::vector<std::string> parameters, buffers;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

// Parses `["a", "b", ]` (the generated form: double-quoted names, trailing comma allowed).
std::vector<std::string> string_list(std::string_view line) {
  std::vector<std::string> out;
  const size_t open = line.find('[');
  const size_t close = line.rfind(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return out;
  std::string_view body = line.substr(open + 1, close - open - 1);
  size_t i = 0;
  while (i < body.size()) {
    const size_t q = body.find('"', i);
    if (q == std::string_view::npos) break;
    const size_t e = body.find('"', q + 1);
    if (e == std::string_view::npos) break;
    out.emplace_back(body.substr(q + 1, e - q - 1));
    i = e + 1;
  }
  return out;
}

class Walker {
 public:
  Walker(const ZipReader& zip, const std::string& prefix, const Limits& limits)
      : zip_(zip), prefix_(prefix), budget_{limits} {}

  void module(const Value& obj, const std::string& name_prefix, StateDict& out, size_t depth) {
    budget_.visit(depth);
    const ValueObject& o = obj.as_object();
    const ValueDict* state = o.state_dict();
    if (!state) return;
    const ClassInfo& info = class_info(o);
    if (!info.found) missing_code_ = true;
    // Parameters, then buffers, then submodules, each in attribute order (Module.state_dict()).
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& [k, v] : state->items) {
        if (!k.is_string() || !v.is_tensor()) continue;
        const std::string& n = k.as_string();
        const bool listed = contains(pass == 0 ? info.parameters : info.buffers, n);
        // Without code/: every tensor attribute counts (in the parameter pass).
        if (listed || (!info.found && pass == 0)) out.emplace_back(name_prefix + n, v.as_tensor());
      }
    }
    for (const auto& [k, v] : state->items)
      if (k.is_string() && is_submodule(v)) module(v, name_prefix + k.as_string() + ".", out, depth + 1);
  }

  bool missing_code() const { return missing_code_; }

 private:
  bool is_submodule(const Value& v) {
    if (!v.is_object()) return false;
    const ValueObject& o = v.as_object();
    if (!o.module.starts_with("__torch__")) return false;
    const ClassInfo& info = class_info(o);
    return info.found ? is_module_class_[o.qualified_name()] : true;
  }

  // code/__torch__/a/b.py for module "__torch__.a.b"; the class body runs from
  // "class <Name>(Module):" to the next line starting with "class ".
  const ClassInfo& class_info(const ValueObject& o) {
    const std::string qn = o.qualified_name();
    auto it = classes_.find(qn);
    if (it != classes_.end()) return it->second;
    ClassInfo info;
    std::string path = o.module;
    for (char& c : path)
      if (c == '.') c = '/';
    const ZipEntry* e = zip_.find(prefix_ + "code/" + path + ".py");
    if (e) {
      const std::string src = zip_.read_text(*e);
      const std::string header = "class " + o.name + "(";
      size_t pos = 0;
      while ((pos = src.find(header, pos)) != std::string::npos) {
        if (pos == 0 || src[pos - 1] == '\n') break;
        pos += header.size();
      }
      if (pos != std::string::npos) {
        info.found = true;
        const size_t line_end = src.find('\n', pos);
        is_module_class_[qn] = src.compare(pos + header.size(), 7, "Module)") == 0;
        size_t end = src.find("\nclass ", pos + header.size());
        if (end == std::string::npos) end = src.size();
        size_t i = line_end == std::string::npos ? end : line_end + 1;
        while (i < end) {
          size_t nl = src.find('\n', i);
          if (nl == std::string::npos || nl > end) nl = end;
          std::string_view line(src.data() + i, nl - i);
          const size_t first = line.find_first_not_of(' ');
          if (first != std::string_view::npos) {
            line.remove_prefix(first);
            if (line.starts_with("__parameters__ = ")) info.parameters = string_list(line);
            else if (line.starts_with("__buffers__ = ")) info.buffers = string_list(line);
          }
          i = nl + 1;
        }
      }
    }
    return classes_.emplace(qn, std::move(info)).first->second;
  }

  const ZipReader& zip_;
  const std::string& prefix_;
  WalkBudget budget_;
  std::map<std::string, ClassInfo> classes_;
  std::map<std::string, bool> is_module_class_;
  bool missing_code_ = false;
};

size_t count_tensors(const Value& v) {
  size_t n = 0;
  if (v.is_tensor()) return 1;
  if (v.is_tuple() || v.is_list())
    for (const Value& x : v.items()) n += x.is_tensor() ? 1 : 0;
  return n;
}

}  // namespace

void torchscript_state_dict(const ZipReader& zip, const std::string& prefix, LoadedFile& out,
                            const Value& constants, const Limits& limits) {
  if (!out.root.is_object()) corrupt(std::string("TorchScript data.pkl holds a ") + out.root.kind_name() + ", not a module");
  Walker w(zip, prefix, limits);
  w.module(out.root, "", out.tensors, 0);
  if (w.missing_code())
    out.warnings.push_back("some module classes have no code/ source: every tensor attribute is listed, "
                           "parameters and buffers could not be told from plain attributes");
  if (out.tensors.empty() && count_tensors(constants) > 0)
    out.warnings.push_back("no state dict: the weights are TorchScript constants (a frozen module?)");
}

}  // namespace torchless::formats
