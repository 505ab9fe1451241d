// Unit tests for the zip reader (src/zip): real archives written by torch.save, torch.jit.save
// and Python's zipfile, and hostile variants with one defect each (tests/unit/data/make_zip.py).
// Expected member lists come from Python's zipfile (the .members sidecars), expected defect
// offsets from the script (offsets.txt).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/file.h"
#include "zip/zip.h"

namespace torchless {
namespace {

using Code = Error::Code;

std::string data_path(const std::string& name) { return std::string(TL_TESTDATA) + "/zip/" + name; }

std::shared_ptr<const MappedFile> map_file(const std::string& name) {
  auto f = MappedFile::open(data_path(name));
  if (!f) throw std::runtime_error(f.error().to_string());
  return *f;
}

Result<ZipReader> open_zip(const std::string& name, const Limits& limits = {}) {
  return guard(nullptr, "", [&] { return ZipReader::open(map_file(name), limits); });
}

// Opens `name` as a torch reader does (prefix checked) and reads every member (CRC verified):
// the first refusal, if any.
Status open_and_read_all(const std::string& name, const Limits& limits = {}) {
  return guard(nullptr, "", [&] {
    ZipReader zip = ZipReader::open(map_file(name), limits);
    (void)zip.prefix();
    for (const ZipEntry& e : zip.entries()) zip.read(e, true);
  });
}

uint32_t crc_of(const Storage& s) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(s.data()), s.nbytes()));
}

struct Expected {
  std::string name;
  uint64_t size;
  uint32_t crc;
  uint16_t method;
};

std::vector<Expected> sidecar(const std::string& archive) {
  std::ifstream in(data_path(archive + ".members"));
  EXPECT_TRUE(in) << archive;
  std::vector<Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Expected e;
    std::string size, crc, method;
    std::getline(fields, e.name, '\t');
    std::getline(fields, size, '\t');
    std::getline(fields, crc, '\t');
    std::getline(fields, method, '\t');
    e.size = std::stoull(size);
    e.crc = static_cast<uint32_t>(std::stoul(crc, nullptr, 16));
    e.method = static_cast<uint16_t>(std::stoul(method));
    out.push_back(e);
  }
  return out;
}

std::map<std::string, uint64_t> defect_offsets() {
  std::ifstream in(data_path("offsets.txt"));
  std::map<std::string, uint64_t> out;
  std::string name;
  uint64_t off;
  while (in >> name >> off) out[name] = off;
  return out;
}

// ---- valid archives -------------------------------------------------------------------------

class ValidArchive : public testing::TestWithParam<const char*> {};

TEST_P(ValidArchive, ListsAndReadsWhatPythonSees) {
  const std::string name = GetParam();
  auto zip = open_zip(name);
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  const std::vector<Expected> want = sidecar(name);
  ASSERT_EQ(zip->entries().size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const ZipEntry& e = zip->entries()[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(e.name, want[i].name);
    EXPECT_EQ(e.index, i);
    EXPECT_EQ(e.size, want[i].size);
    EXPECT_EQ(e.method, want[i].method);
    EXPECT_EQ(zip->find(e.name), &e);
    auto bytes = guard(nullptr, "", [&] { return zip->read(e, true); });
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    EXPECT_EQ(bytes->nbytes(), want[i].size);
    EXPECT_EQ(crc_of(*bytes), want[i].crc);
    if (e.method == 0) {  // zero-copy view into the file
      EXPECT_EQ(bytes->data(), zip->file().data() + e.data_offset);
    }
  }
  EXPECT_EQ(zip->find("no/such/member"), nullptr);
  EXPECT_EQ(zip->find(""), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Zip, ValidArchive,
                         testing::Values("torch_small.pt", "torch_buffer.pt", "torchscript.pt", "py_deflated.zip",
                                         "py_stored.zip", "py_large.zip", "py_streamed.zip", "py_zip64_forced.zip", "py_empty.zip", "py_top_level.zip",
                                         "torch_zip64_extra.pt", "torch_desc_nosig.pt", "torch_desc_wide.pt"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

TEST(Zip, TorchSaveLayoutAndPrefix) {
  auto zip = open_zip("torch_small.pt");
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  EXPECT_EQ(zip->prefix(), "torch_small");
  for (const ZipEntry& e : zip->entries()) {
    EXPECT_EQ(e.method, 0) << e.name;
    EXPECT_EQ(e.data_offset % 64, 0u) << e.name;  // torch's FB padding
    EXPECT_EQ(e.flags, e.size ? 0x0808 : 0x0800) << e.name;
  }
  const ZipEntry* version = zip->find("torch_small/version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(zip->read_text(*version), "3\n");

  auto buffer = open_zip("torch_buffer.pt");
  ASSERT_TRUE(buffer.ok()) << buffer.error().to_string();
  EXPECT_EQ(buffer->prefix(), "archive");
  auto empty = open_zip("py_empty.zip");
  ASSERT_TRUE(empty.ok()) << empty.error().to_string();
  EXPECT_TRUE(empty->entries().empty());
  EXPECT_EQ(empty->prefix(), "");
}

TEST(Zip, TorchScriptHasDeflatedCode) {
  auto zip = open_zip("torchscript.pt");
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  EXPECT_EQ(zip->prefix(), "torchscript");
  EXPECT_EQ(zip->entries().front().name, "torchscript/data/0");  // storages come first
  int deflated = 0;
  for (const ZipEntry& e : zip->entries()) {
    if (e.method != 8) continue;
    ++deflated;
    const std::string text = zip->read_text(e);
    EXPECT_EQ(text.size(), e.size);
    if (e.name.ends_with(".py")) {
      EXPECT_NE(text.find("class "), std::string::npos) << e.name;
    }
  }
  EXPECT_GT(deflated, 0);
}

TEST(Zip, InMemoryFileReadsTheSame) {
  const auto mapped = map_file("torchscript.pt");
  const std::string bytes(reinterpret_cast<const char*>(mapped->data()), mapped->size());
  const ZipReader a = ZipReader::open(mapped, {});
  const ZipReader b = ZipReader::open(MappedFile::from_bytes("mem", bytes), {});
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (size_t i = 0; i < a.entries().size(); ++i) {
    EXPECT_EQ(a.entries()[i].data_offset, b.entries()[i].data_offset);
    EXPECT_EQ(crc_of(a.read(a.entries()[i], true)), crc_of(b.read(b.entries()[i], true)));
  }
}

// ---- hostile archives -----------------------------------------------------------------------

struct Hostile {
  const char* file;
  Code code;
};

class HostileArchive : public testing::TestWithParam<Hostile> {};

TEST_P(HostileArchive, RefusedWithItsCode) {
  const Hostile h = GetParam();
  const Status s = open_and_read_all(h.file);
  ASSERT_FALSE(s.ok()) << h.file << " was accepted";
  const Error& e = s.error();
  EXPECT_EQ(code_name(e.code()), std::string(code_name(h.code))) << e.to_string();
  EXPECT_EQ(e.reader(), "zip") << e.to_string();
  ASSERT_TRUE(e.offset().has_value()) << e.to_string();
  const auto offsets = defect_offsets();
  if (auto it = offsets.find(h.file); it != offsets.end()) {
    EXPECT_EQ(*e.offset(), it->second) << e.to_string();
  }
}

const Hostile kHostile[] = {
    {"zip01-truncated.pt", Code::kCorrupt},
    {"zip01-half.pt", Code::kCorrupt},
    {"zip01-tiny.zip", Code::kCorrupt},
    {"zip01-comment-long.zip", Code::kCorrupt},
    {"zip01-comment-short.zip", Code::kCorrupt},
    {"zip02-prepended.pt", Code::kCorrupt},
    {"zip02-prepended-raw.pt", Code::kCorrupt},
    {"zip02-appended.pt", Code::kCorrupt},
    {"zip02-gap-between.pt", Code::kCorrupt},
    {"zip02-gap-before-cd.pt", Code::kCorrupt},
    {"zip02-gap-after-cd.pt", Code::kCorrupt},
    {"zip02-gap-stored.zip", Code::kCorrupt},
    {"zip03-sentinel-no-locator.zip", Code::kCorrupt},
    {"zip03-locator-outside.pt", Code::kCorrupt},
    {"zip03-locator-self.pt", Code::kCorrupt},
    {"zip03-record-short.pt", Code::kCorrupt},
    {"zip03-multidisk.pt", Code::kUnsupported},
    {"zip03-record-disk.pt", Code::kUnsupported},
    {"zip03-classic-disagrees.pt", Code::kCorrupt},
    {"zip03-extra-missing.pt", Code::kCorrupt},
    {"zip03-extra-short.pt", Code::kCorrupt},
    {"zip04-central-signature.pt", Code::kCorrupt},
    {"zip04-count-low.pt", Code::kCorrupt},
    {"zip04-count-high.pt", Code::kCorrupt},
    {"zip04-comment-past-end.pt", Code::kCorrupt},
    {"zip05-count-huge.pt", Code::kCorrupt},
    {"zip05-count-16bit.zip", Code::kCorrupt},
    {"zip06-local-name.pt", Code::kCorrupt},
    {"zip06-local-method.pt", Code::kCorrupt},
    {"zip06-local-flags.pt", Code::kCorrupt},
    {"zip06-local-version.pt", Code::kCorrupt},
    {"zip06-local-crc.zip", Code::kCorrupt},
    {"zip06-local-size.zip", Code::kCorrupt},
    {"zip06-local-crc-bit3.pt", Code::kCorrupt},
    {"zip07-method12.pt", Code::kUnsupported},
    {"zip07-method99.zip", Code::kUnsupported},
    {"zip08-encrypted.pt", Code::kUnsupported},
    {"zip08-strong-encryption.pt", Code::kUnsupported},
    {"zip08-patched.pt", Code::kUnsupported},
    {"zip08-reserved.pt", Code::kCorrupt},
    {"zip08-bad-utf8.pt", Code::kCorrupt},
    {"zip09-descriptor-crc.pt", Code::kCorrupt},
    {"zip09-descriptor-size.pt", Code::kCorrupt},
    {"zip09-descriptor-missing.pt", Code::kCorrupt},
    {"zip09-descriptor-wide-no-zip64.pt", Code::kCorrupt},
    {"zip10-crc-pkl.pt", Code::kCorrupt},
    {"zip10-crc-storage.pt", Code::kCorrupt},
    {"zip10-crc-deflated.zip", Code::kCorrupt},
    {"zip11-duplicate.pt", Code::kCorrupt},
    {"zip11-duplicate-python.zip", Code::kCorrupt},
    {"zip12-overlap.pt", Code::kCorrupt},
    {"zip12-extends-into-next.pt", Code::kCorrupt},
    {"zip13-trailing-after-stream.zip", Code::kCorrupt},
    {"zip14-stored-sizes.pt", Code::kCorrupt},
    {"zip14-csize-past-directory.pt", Code::kCorrupt},
    {"zip15-ratio.zip", Code::kCorrupt},
    {"zip15-inflates-less.zip", Code::kCorrupt},
    {"zip15-inflates-more.zip", Code::kCorrupt},
    {"zip15-truncated-stream.zip", Code::kCorrupt},
    {"zip15-garbage-stream.zip", Code::kCorrupt},
    {"zip16-offset-at-directory.pt", Code::kCorrupt},
    {"zip16-extra-overrun.pt", Code::kCorrupt},
    {"zip16-extra-fragment.pt", Code::kCorrupt},
    {"zip17-dotdot.pt", Code::kForbidden},
    {"zip17-absolute.pt", Code::kForbidden},
    {"zip17-drive.pt", Code::kForbidden},
    {"zip17-backslash.pt", Code::kForbidden},
    {"zip17-dot.pt", Code::kForbidden},
    {"zip17-empty-component.pt", Code::kForbidden},
    {"zip17-nul.pt", Code::kCorrupt},
    {"zip17-control.pt", Code::kCorrupt},
    {"zip18-long-name.pt", Code::kLimitExceeded},
    {"zip19-two-prefixes.pt", Code::kCorrupt},
    {"zip19-top-level-member.pt", Code::kCorrupt},
    {"zip19-top-level-first.pt", Code::kCorrupt},
    {"zip19-prefix-of-name.pt", Code::kCorrupt},
    {"zip20-symlink.zip", Code::kForbidden},
    {"zip20-device.zip", Code::kForbidden},
    {"zip20-fifo.zip", Code::kForbidden},
    {"zip20-directory-with-data.zip", Code::kCorrupt},
};

INSTANTIATE_TEST_SUITE_P(Zip, HostileArchive, testing::ValuesIn(kHostile), [](const auto& info) {
  std::string s = info.param.file;
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
});

TEST(Zip, EveryGeneratedHostileFileIsListed) {
  // make_zip.py and kHostile must not drift apart: every zipNN-* file is in the table.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data_path(""))) {
    const std::string file = entry.path().filename().string();
    if (file.size() < 6 || file.compare(0, 3, "zip") != 0 || !isdigit(static_cast<unsigned char>(file[3]))) continue;
    ++files;
    bool listed = false;
    for (const Hostile& h : kHostile) listed |= file == h.file;
    EXPECT_TRUE(listed) << file;
  }
  EXPECT_EQ(files, static_cast<int>(std::size(kHostile)));
}

TEST(Zip, MessagesNameRecordAndMember) {
  const Status dup = open_and_read_all("zip11-duplicate.pt");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("central records 1 ("), std::string::npos) << dup.error().to_string();
  EXPECT_NE(dup.error().message().find(") and 2 ("), std::string::npos) << dup.error().to_string();
  EXPECT_EQ(dup.error().member(), "torch_small/data/0");

  const Status prefixes = open_and_read_all("zip19-two-prefixes.pt");
  ASSERT_FALSE(prefixes.ok());
  EXPECT_NE(prefixes.error().message().find("\"other\""), std::string::npos) << prefixes.error().to_string();
  EXPECT_NE(prefixes.error().message().find("\"torch_small\""), std::string::npos) << prefixes.error().to_string();

  const Status nul = open_and_read_all("zip17-nul.pt");
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().member(), "torch_small/data/0\\x00.txt");  // escaped

  const Status local = open_and_read_all("zip06-local-method.pt");
  ASSERT_FALSE(local.ok());
  EXPECT_NE(local.error().message().find("method"), std::string::npos) << local.error().to_string();
  EXPECT_NE(local.error().message().find("central record 1 at 0x"), std::string::npos) << local.error().to_string();
}

// ---- CRC policy (ZIP-10) --------------------------------------------------------------------

TEST(Zip, CrcCheckedOnlyWhenAsked) {
  auto zip = open_zip("zip10-crc-storage.pt");
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  const ZipEntry* e = zip->find("torch_small/data/0");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(guard(nullptr, "", [&] { return zip->read(*e, false); }).ok());
  auto verified = guard(nullptr, "", [&] { return zip->read(*e, true); });
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), Code::kCorrupt);
  EXPECT_EQ(*verified.error().offset(), e->data_offset);

  auto pkl = open_zip("zip10-crc-pkl.pt");
  ASSERT_TRUE(pkl.ok()) << pkl.error().to_string();
  auto text = guard(nullptr, "", [&] { return pkl->read_text(*pkl->find("torch_small/data.pkl")); });
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), Code::kCorrupt);
}

TEST(Zip, ZeroCrcMeansNotRecorded) {
  auto zip = open_zip("torch_crc_zero.pt");
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  const ZipEntry* e = zip->find("torch_small/data/0");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->crc32, 0u);
  EXPECT_TRUE(guard(nullptr, "", [&] { return zip->read(*e, true); }).ok());
}

// ---- limits ---------------------------------------------------------------------------------

TEST(Zip, EntryLimit) {
  Limits limits;
  limits.zip_max_entries = 2;
  const Status s = open_and_read_all("torch_small.pt", limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kLimitExceeded);
  EXPECT_EQ(s.error().limit_name(), "zip.max_entries");
}

TEST(Zip, NameLimit) {
  Limits limits;
  limits.zip_max_name_bytes = 12;
  const Status s = open_and_read_all("torch_small.pt", limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kLimitExceeded);
  EXPECT_EQ(s.error().limit_name(), "zip.max_name_bytes");
}

TEST(Zip, InflatedMemberLimit) {
  Limits limits;
  limits.zip_max_inflated_member_bytes = 1000;  // pkg/text.txt inflates to 7690 bytes
  const Status s = open_and_read_all("py_deflated.zip", limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kLimitExceeded);
  EXPECT_EQ(s.error().limit_name(), "zip.max_inflated_member_bytes");
  EXPECT_EQ(s.error().member(), "pkg/text.txt");
}

TEST(Zip, InflatedTotalLimit) {
  // The deflated members declare 6 + 7690 + 0 + 14 = 7710 bytes: refused at open below that,
  // even though nothing is read.
  Limits limits;
  limits.zip_max_inflated_total_bytes = 7709;
  auto refused = open_zip("py_deflated.zip", limits);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kLimitExceeded);
  EXPECT_EQ(refused.error().limit_name(), "zip.max_inflated_total_bytes");
  EXPECT_EQ(refused.error().member(), "pkg/caf\\xc3\\xa9.txt");  // escaped

  // At exactly the total every member reads once; reading one again is charged again.
  limits.zip_max_inflated_total_bytes = 7710;
  auto zip = open_zip("py_deflated.zip", limits);
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  for (const ZipEntry& e : zip->entries())
    EXPECT_TRUE(guard(nullptr, "", [&] { return zip->read(e, true); }).ok()) << e.name;
  auto again = guard(nullptr, "", [&] { return zip->read(*zip->find("pkg/text.txt"), true); });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kLimitExceeded);
  EXPECT_EQ(again.error().limit_name(), "zip.max_inflated_total_bytes");
}

TEST(Zip, TopLevelMembersOpenButHaveNoPrefix) {
  // .npz archives keep members at the top level: open() accepts them, prefix() (ZIP-19,
  // torch archives only) refuses.
  auto zip = open_zip("py_top_level.zip");
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  EXPECT_EQ(zip->entries().size(), 2u);
  auto prefix = guard(nullptr, "", [&] { return zip->prefix(); });
  ASSERT_FALSE(prefix.ok());
  EXPECT_EQ(prefix.error().code(), Code::kCorrupt);
  EXPECT_EQ(prefix.error().member(), "a.npy");
}

TEST(Zip, ForeignEntryRefused) {
  auto zip = open_zip("py_stored.zip");
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  ZipEntry forged = zip->entries()[0];
  forged.index = 99;
  auto r = guard(nullptr, "", [&] { return zip->read(forged, false); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace torchless
