// NumPy .npy reader: every dtype numpy writes, v1/v2/v3 headers, Fortran order, 0-d and empty
// arrays, and the NPY-01..07 refusals; .npz archives from numpy.savez / savez_compressed.
#include "simplefmt_test_util.h"
#include "zip/zip.h"

namespace {

using namespace torchless;
using namespace simplefmt_test;

TEST(Npy, EveryDTypeAndLayout) {
  size_t n = 0;
  for (const auto& [rel, _] : expected().items()) {
    if (!rel.starts_with("npy/")) continue;
    expect_matches(rel, Format::kNpy);
    ++n;
  }
  EXPECT_GE(n, 24u);  // 14 dtypes, 5 layouts, 3 big-endian (swapped on read), v2, v3
}

TEST(Npy, TensorIsNamedByTheFileStem) {
  auto f = open(data_path("npy/fortran2d.npy"));
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  ASSERT_EQ(f->tensors.size(), 1u);
  EXPECT_EQ(f->tensors[0].first, "fortran2d");
  ASSERT_TRUE(f->root.is_tensor());
  const Tensor& t = f->root.as_tensor();
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(t.strides(), (std::vector<int64_t>{1, 3}));  // column-major, zero-copy
  EXPECT_FALSE(t.is_contiguous());
}

TEST(Npy, ZeroCopyView) {
  auto file = MappedFile::open(data_path("npy/float64.npy"));
  ASSERT_TRUE(file.ok());
  auto r = guard("t", "", [&] { return formats::read_npy(*file, {}); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->file.root.as_tensor().data(), (*file)->data() + 128);
}

TEST(Npy, HostileFilesAreRefusedWithTheirCode) {
  EXPECT_EQ(expect_hostile("npy", formats::read_npy), 22u);
}

TEST(Npy, LimitsFromOptions) {
  LoadOptions o;
  o.limits.npy_max_header_bytes = 100;
  auto r = read_with(formats::read_npy, data_path("npy/float32.npy"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "npy.max_header_bytes");
  o = {};
  o.limits.tensor_max_numel = 11;
  r = read_with(formats::read_npy, data_path("npy/float32.npy"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "tensor.max_numel");
}

// The grammar: key order free, trailing comma optional, one-element tuples need their comma.
TEST(Npy, HeaderGrammar) {
  auto make = [](std::string header, size_t data_bytes) {
    header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
    std::string b = "\x93NUMPY\x01";
    b += '\0';
    b += static_cast<char>(header.size());
    b += '\0';
    return b + header + std::string(data_bytes, '\0');
  };
  struct Case {
    const char* header;
    size_t data;
    bool ok;
  } cases[] = {
      {"{'shape': (3,), 'fortran_order': False, 'descr': '<i4'}", 12, true},
      {"{\"descr\": \"<i4\", \"fortran_order\": True, \"shape\": (2, 3)}", 24, true},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3L), }", 6, true},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (3), }", 12, false},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (03,), }", 12, false},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (3,),, }", 12, false},
      {"{'descr': '<i4',\t'fortran_order': False, 'shape': (3,), }", 12, false},
      {"{'descr': '=i4', 'fortran_order': False, 'shape': (3,), }", 12, false},
      {"{'descr': '<i4', 'fortran_order': false, 'shape': (3,), }", 12, false},
  };
  for (const auto& c : cases) {
    auto r = guard("t", "", [&] { return formats::read_npy(MappedFile::from_bytes("a.npy", make(c.header, c.data)), {}); });
    EXPECT_EQ(r.ok(), c.ok) << c.header << (r.ok() ? "" : ": " + r.error().to_string());
    if (!c.ok && !r.ok()) {
      EXPECT_EQ(r.error().code(), Error::Code::kCorrupt) << c.header;
    }
  }
}

// v3 headers are UTF-8: a non-ASCII structured field name reaches the structured-dtype refusal;
// v1 and v2 headers stay ASCII-only.
TEST(Npy, NonAsciiHeaderBytes) {
  auto make = [](int version) {
    std::string header = "{'descr': [('\xc3\xa9', '<f4')], 'fortran_order': False, 'shape': (1,), }\n";
    std::string b = "\x93NUMPY";
    b += static_cast<char>(version);
    b += '\0';
    b += static_cast<char>(header.size());
    b += std::string(version == 1 ? 1 : 3, '\0');
    return b + header + std::string(4, '\0');
  };
  for (int v : {1, 2, 3}) {
    auto r = guard("t", "", [&] { return formats::read_npy(MappedFile::from_bytes("a.npy", make(v)), {}); });
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_EQ(r.error().code(), v == 3 ? Error::Code::kUnsupported : Error::Code::kCorrupt) << r.error().to_string();
  }
}

// A header length past the end is corrupt even when it is also above the header limit.
TEST(Npy, PastEndBeforeLimit) {
  std::string b = "\x93NUMPY\x01";
  b += '\0';
  b += "\x60\xea{'descr': '<f4'}";  // 60,000 > npy.max_header_bytes
  auto r = guard("t", "", [&] { return formats::read_npy(MappedFile::from_bytes("a.npy", b), {}); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Error::Code::kCorrupt) << r.error().to_string();
}

TEST(Npz, SavezAndSavezCompressed) {
  expect_matches("npz/savez.npz", Format::kNpy);
  expect_matches("npz/savez_compressed.npz", Format::kNpy);
  auto f = open(data_path("npz/savez.npz"));
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  ASSERT_TRUE(f->root.is_dict());  // as numpy.load: name -> array
  EXPECT_EQ(f->root.as_dict().items.size(), f->tensors.size());
}

// STORED members are views of the file where alignment allows; DEFLATE members are owned.
TEST(Npz, StoredMembersAreViews) {
  for (const char* rel : {"npz/savez.npz", "npz/savez_compressed.npz"}) {
    SCOPED_TRACE(rel);
    auto file = MappedFile::open(data_path(rel));
    ASSERT_TRUE(file.ok());
    auto r = guard("t", "", [&] { return formats::read_torch_zip(*file, {}); });
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const std::byte* begin = (*file)->data();
    const std::byte* end = begin + (*file)->size();
    const bool stored = std::string(rel) == "npz/savez.npz";
    for (const auto& [name, t] : r->file.tensors) {
      if (t.nbytes() == 0 || name == "big") continue;  // empty, or swapped into an owned buffer
      const bool view = t.data() >= begin && t.data() < end;
      if (!stored) {
        EXPECT_FALSE(view) << name;
      } else if (t.dtype() == DType::kUInt8) {
        EXPECT_TRUE(view) << name;
      }
    }
  }
}

TEST(Npz, HostileFilesAreRefusedWithTheirCode) {
  EXPECT_EQ(expect_hostile("npz", formats::read_torch_zip), 4u);
  // The refusal names the member.
  auto r = read_with(formats::read_torch_zip, data_path("npz/hostile/npz07_object.npz"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().member(), "z.npy") << r.error().to_string();
}

}  // namespace
