// Shared by the safetensors / npy / HF index / ONNX unit tests: paths into the data written by
// data/make_simplefmt.py, comparison of a read file with expected.json (names in order, dtype,
// shape, sha256 of the C-contiguous bytes), and the hostile.json runner (one defect per file,
// exact error code).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/check.h"
#include "core/file.h"
#include "formats/readers.h"
#include "torchless/load.h"

namespace simplefmt_test {

inline std::string data_path(const std::string& rel) { return std::string(TL_TESTDATA) + "/simplefmt/" + rel; }

inline nlohmann::json load_json(const std::string& name) {
  std::ifstream in(data_path(name));
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

inline const nlohmann::json& expected() {
  static const nlohmann::json j = load_json("expected.json");
  return j;
}

using Reader = torchless::formats::ReadResult (*)(const torchless::formats::FilePtr&, const torchless::LoadOptions&);

// Runs one reader on a file, as open() would, but without detection in between.
inline torchless::Result<torchless::formats::ReadResult> read_with(Reader reader, const std::string& path,
                                                                  const torchless::LoadOptions& options = {}) {
  return torchless::guard("test", path, [&] {
    auto file = torchless::unwrap(torchless::MappedFile::open(path, options.map));
    return reader(file, options);
  });
}

// torchless::open() on `rel` must give `format` and exactly the tensors listed in expected.json.
inline void expect_matches(const std::string& rel, torchless::Format format, const torchless::LoadOptions& options = {}) {
  SCOPED_TRACE(rel);
  ASSERT_TRUE(expected().is_object()) << "expected.json missing: run make_simplefmt.py";
  ASSERT_TRUE(expected().contains(rel)) << "no expectations for " << rel;
  auto f = torchless::open(data_path(rel), options);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->format, format);
  const auto& want = expected()[rel];
  ASSERT_EQ(f->tensors.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& [name, t] = f->tensors[i];
    EXPECT_EQ(name, want[i][0].get<std::string>());
    EXPECT_EQ(torchless::dtype_name(t.dtype()), want[i][1].get<std::string>()) << name;
    EXPECT_EQ(t.shape(), want[i][2].get<std::vector<int64_t>>()) << name;
    EXPECT_EQ(torchless::sha256_hex(t), want[i][3].get<std::string>()) << name;
  }
}

// Every hostile.json entry for `reader_name` must be refused by `reader` with its code.
// Returns how many files were checked.
inline size_t expect_hostile(const char* reader_name, Reader reader) {
  const nlohmann::json list = load_json("hostile.json");
  EXPECT_TRUE(list.is_array()) << "hostile.json missing: run make_simplefmt.py";
  size_t n = 0;
  for (const auto& h : list) {
    if (h["reader"] != reader_name) continue;
    const std::string rel = h["file"];
    SCOPED_TRACE(rel + " (" + h["id"].get<std::string>() + ")");
    auto r = read_with(reader, data_path(rel));
    ++n;
    if (r.ok()) {
      ADD_FAILURE() << "accepted";
      continue;
    }
    EXPECT_EQ(torchless::code_name(r.error().code()), h["code"].get<std::string>()) << r.error().to_string();
  }
  return n;
}

}  // namespace simplefmt_test
