// Zip reader (zip.h): end records, central directory, local headers and data descriptors are
// checked against each other so that every byte of the file has exactly one meaning
// (specs/formats.md 1.3-1.4, specs/hostile-inputs.md 5.2). Nothing is ever searched for
// except the end record, and that only in the final 22 + 65,535 bytes.
#include "zip/zip.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <optional>

#include "core/check.h"
#include "core/crc32.h"

namespace torchless {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kDescriptorSig = 0x08074b50;
constexpr uint64_t kLocalSize = 30;
constexpr uint64_t kCentralSize = 46;
constexpr uint64_t kEocdSize = 22;
constexpr uint64_t kLocatorSize = 20;
constexpr uint64_t kZip64EocdSize = 56;  // fixed part including signature and size field
constexpr uint64_t kMaxComment = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kSat16 = 0xFFFF;
constexpr uint32_t kSat32 = 0xFFFFFFFF;
constexpr uint64_t kMaxRatio = 1032;  // DEFLATE cannot expand more (hostile-inputs ZIP-15)

// General-purpose flag bits (APPNOTE 4.4.4).
constexpr uint16_t kFlagEncrypted = 1u << 0;
constexpr uint16_t kFlagDescriptor = 1u << 3;
constexpr uint16_t kFlagPatched = 1u << 5;
constexpr uint16_t kFlagStrongEncryption = 1u << 6;
constexpr uint16_t kFlagUtf8 = 1u << 11;
constexpr uint16_t kFlagMaskedHeaders = 1u << 13;
constexpr uint16_t kFlagsEncryption = kFlagEncrypted | kFlagStrongEncryption | kFlagMaskedHeaders;
// Bits 1-2 are DEFLATE speed hints; every other bit not named above is reserved.
constexpr uint16_t kFlagsKnown = (1u << 1) | (1u << 2) | kFlagDescriptor | kFlagUtf8;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

[[noreturn]] void refuse(Error::Code code, std::string message, uint64_t off,
                         std::string_view member = {}) {
  Error e(code, std::move(message));
  e.reader("zip").offset(off);
  if (!member.empty()) e.member(member);
  throw e;
}

[[noreturn]] void refuse_limit(const char* name, uint64_t value, uint64_t observed,
                               std::string message, uint64_t off, std::string_view member = {}) {
  Error e(Error::Code::kLimitExceeded, std::move(message));
  e.reader("zip").offset(off).limit(name, value, observed);
  if (!member.empty()) e.member(member);
  throw e;
}

constexpr auto kCorrupt = Error::Code::kCorrupt;
constexpr auto kUnsupported = Error::Code::kUnsupported;
constexpr auto kForbidden = Error::Code::kForbidden;

// Little-endian fields read in sequence; the caller has checked the range.
struct Cursor {
  const std::byte* p;
  uint64_t take(int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
    p += n;
    return v;
  }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }
};

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; min = 0x10000; }
    else return false;
    if (s.size() - i - 1 < n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// ZIP-17: control characters are corrupt; anything that would leave a directory is forbidden.
void check_name(std::string_view name, bool utf8, uint64_t off, const std::string& where) {
  if (name.empty()) refuse(kCorrupt, "empty member name" + where, off);
  for (size_t i = 0; i < name.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(name[i]);
    if (c < 0x20 || c == 0x7F)
      refuse(kCorrupt, "member name contains control character " + hex(c) + where, off + i, name);
  }
  if (utf8 && !valid_utf8(name))
    refuse(kCorrupt, "member name is not valid UTF-8 although flag bit 11 says it is" + where, off, name);
  if (name.find('\\') != std::string_view::npos)
    refuse(kForbidden, "member name contains a backslash" + where, off, name);
  if (name[0] == '/') refuse(kForbidden, "absolute member name" + where, off, name);
  if (name.size() >= 2 && name[1] == ':' &&
      ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
    refuse(kForbidden, "member name starts with a drive letter" + where, off, name);
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string_view part = name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    const bool last = slash == std::string_view::npos;
    if (part == "..") refuse(kForbidden, "member name has a '..' component" + where, off, name);
    if (part == ".") refuse(kForbidden, "member name has a '.' component" + where, off, name);
    if (part.empty() && !last) refuse(kForbidden, "member name has an empty component" + where, off, name);
    if (last) break;  // an empty last component is a directory's trailing '/'
    start = slash + 1;
  }
}

// Where the directory lives, from the end records.
struct Directory {
  uint64_t offset = 0;  // first central record
  uint64_t size = 0;
  uint64_t count = 0;
  uint64_t end = 0;  // where the zip64 end record (or the EOCD) starts
};

struct Range {
  uint64_t offset, size;
};

class Parser {
 public:
  Parser(const MappedFile& f, const Limits& limits) : base_(f.data()), size_(f.size()), limits_(limits) {}

  void run(std::vector<ZipEntry>& entries, std::vector<uint32_t>& by_name) {
    const Directory dir = end_records();
    central(dir, entries);
    names(entries, by_name);
    layout(dir, entries);
  }

 private:
  Cursor at(uint64_t off) const { return Cursor{base_ + off}; }
  uint32_t sig(uint64_t off) const { return at(off).u32(); }

  Directory end_records() const;
  void central(const Directory& dir, std::vector<ZipEntry>& entries);
  std::optional<Range> zip64_extra(uint64_t off, uint64_t len, const std::string& where,
                                   std::string_view member) const;
  void names(const std::vector<ZipEntry>& entries, std::vector<uint32_t>& by_name) const;
  void layout(const Directory& dir, std::vector<ZipEntry>& entries) const;
  uint64_t local(ZipEntry& e, uint16_t version_needed, uint64_t next) const;

  const std::byte* base_;
  uint64_t size_;
  const Limits& limits_;
  std::vector<uint16_t> version_needed_;  // per central record, for the local header check
};

// ZIP-01, ZIP-02 (directory end), ZIP-03.
Directory Parser::end_records() const {
  if (size_ < kEocdSize)
    refuse(kCorrupt, "file of " + std::to_string(size_) + " bytes is too short for a zip end record", 0);
  const uint64_t last = size_ - kEocdSize;
  const uint64_t lowest = last > kMaxComment ? last - kMaxComment : 0;
  std::optional<uint64_t> found;
  for (uint64_t pos = last + 1; pos-- > lowest;) {
    if (sig(pos) == kEocdSig && pos + kEocdSize + at(pos + 20).u16() == size_) {
      found = pos;
      break;
    }
  }
  if (!found)
    refuse(kCorrupt, "no end-of-central-directory record whose comment ends at end of file in the last " +
                         std::to_string(size_ - lowest) + " bytes", lowest);
  const uint64_t eocd = *found;
  Cursor c = at(eocd + 4);
  const uint16_t disk = c.u16(), dir_disk = c.u16();
  const uint16_t count_disk = c.u16(), count = c.u16();
  const uint32_t dir_size = c.u32(), dir_offset = c.u32();
  const bool saturated = disk == kSat16 || dir_disk == kSat16 || count_disk == kSat16 ||
                         count == kSat16 || dir_size == kSat32 || dir_offset == kSat32;
  const bool has_locator = eocd >= kLocatorSize && sig(eocd - kLocatorSize) == kZip64LocatorSig;
  if (!has_locator) {
    if (saturated)
      refuse(kCorrupt, "end record at " + hex(eocd) +
                           " holds zip64 sentinel values but no zip64 locator precedes it", eocd);
    if (disk != 0 || dir_disk != 0 || count_disk != count)
      refuse(kUnsupported, "multi-disk archive (end record at " + hex(eocd) + ")", eocd + 4);
    return {dir_offset, dir_size, count, eocd};
  }

  const uint64_t locator = eocd - kLocatorSize;
  Cursor l = at(locator + 4);
  const uint32_t record_disk = l.u32();
  const uint64_t record = l.u64();
  const uint32_t disks = l.u32();
  if (record_disk != 0 || disks != 1)
    refuse(kUnsupported, "multi-disk archive (zip64 locator at " + hex(locator) + " names disk " +
                             std::to_string(record_disk) + " of " + std::to_string(disks) + ")", locator);
  if (record > locator || locator - record < kZip64EocdSize)
    refuse(kCorrupt, "zip64 locator at " + hex(locator) + " points to " + hex(record) +
                         ", which leaves no room for a zip64 end record before the locator", locator + 8);
  if (sig(record) != kZip64EocdSig)
    refuse(kCorrupt, "no zip64 end record where the locator at " + hex(locator) + " points", record);
  Cursor z = at(record + 4);
  const uint64_t record_size = z.u64();
  z.u32();  // versions made by / needed
  const uint32_t z_disk = z.u32(), z_dir_disk = z.u32();
  const uint64_t z_count_disk = z.u64(), z_count = z.u64(), z_dir_size = z.u64(), z_dir_offset = z.u64();
  if (record_size != locator - record - 12)
    refuse(kCorrupt, "zip64 end record at " + hex(record) + " declares " + std::to_string(record_size) +
                         " bytes but the locator follows after " + std::to_string(locator - record - 12),
           record + 4);
  if (z_disk != 0 || z_dir_disk != 0 || z_count_disk != z_count)
    refuse(kUnsupported, "multi-disk archive (zip64 end record at " + hex(record) + ")", record + 16);
  // The classic fields repeat the zip64 values or are saturated; anything else is a second,
  // different archive description (G-3).
  auto agree = [&](uint64_t classic, uint64_t real, uint64_t sentinel, const char* what, uint64_t off) {
    if (classic != sentinel && classic != real)
      refuse(kCorrupt, std::string("end record's ") + what + " " + std::to_string(classic) +
                           " disagrees with the zip64 end record's " + std::to_string(real), off);
  };
  agree(disk, 0, kSat16, "disk number", eocd + 4);
  agree(dir_disk, 0, kSat16, "directory disk", eocd + 6);
  agree(count_disk, z_count, kSat16, "entry count on this disk", eocd + 8);
  agree(count, z_count, kSat16, "entry count", eocd + 10);
  agree(dir_size, z_dir_size, kSat32, "directory size", eocd + 12);
  agree(dir_offset, z_dir_offset, kSat32, "directory offset", eocd + 16);
  return {z_dir_offset, z_dir_size, z_count, record};
}

// Walks an extra block's sub-records (ZIP-16) and returns the zip64 one's data, if any.
std::optional<Range> Parser::zip64_extra(uint64_t off, uint64_t len, const std::string& where,
                                         std::string_view member) const {
  std::optional<Range> zip64;
  const uint64_t end = off + len;
  uint64_t p = off;
  while (p < end) {
    if (end - p < 4)
      refuse(kCorrupt, "extra field ends with a fragment of " + std::to_string(end - p) + " bytes" + where, p, member);
    Cursor c = at(p);
    const uint16_t id = c.u16(), n = c.u16();
    if (n > end - p - 4)
      refuse(kCorrupt, "extra sub-record " + hex(id) + " of " + std::to_string(n) +
                           " bytes runs past the extra field" + where, p, member);
    if (id == kZip64ExtraId) {
      if (zip64) refuse(kCorrupt, "two zip64 extra sub-records" + where, p, member);
      zip64 = Range{p + 4, n};
    }
    p += 4 + uint64_t{n};
  }
  return zip64;
}

// ZIP-02 (directory placement), ZIP-03..08, ZIP-14..18, ZIP-20: every central record.
void Parser::central(const Directory& dir, std::vector<ZipEntry>& entries) {
  if (dir.offset > dir.end || dir.end - dir.offset != dir.size) {
    const bool gap = dir.offset <= dir.end && dir.end - dir.offset > dir.size;
    refuse(kCorrupt, "central directory at " + hex(dir.offset) + " of " + std::to_string(dir.size) +
                         " bytes does not end where the end records begin at " + hex(dir.end),
           gap ? dir.offset + dir.size : dir.offset);
  }
  if (dir.count > dir.size / kCentralSize)
    refuse(kCorrupt, "end record declares " + std::to_string(dir.count) + " entries but the " +
                         std::to_string(dir.size) + "-byte directory holds at most " +
                         std::to_string(dir.size / kCentralSize), dir.end);
  if (dir.count > limits_.zip_max_entries)
    refuse_limit("zip.max_entries", limits_.zip_max_entries, dir.count,
                 "archive declares " + std::to_string(dir.count) + " entries", dir.end);
  entries.reserve(dir.count);  // bounded by the directory's bytes just above
  version_needed_.reserve(dir.count);

  uint64_t pos = dir.offset;
  uint64_t inflated_total = 0;  // declared sizes of the DEFLATE members so far
  for (uint64_t i = 0; i < dir.count; ++i) {
    const std::string where = " (central record " + std::to_string(i) + " at " + hex(pos) + ")";
    if (dir.end - pos < kCentralSize)
      refuse(kCorrupt, "central record runs past the directory's end at " + hex(dir.end) + where, pos);
    if (sig(pos) != kCentralSig) refuse(kCorrupt, "bad central record signature" + where, pos);
    Cursor c = at(pos + 4);
    const uint16_t made_by = c.u16(), needed = c.u16(), flags = c.u16(), method = c.u16();
    c.u32();  // time, date
    const uint32_t crc = c.u32(), csize32 = c.u32(), usize32 = c.u32();
    const uint16_t name_len = c.u16(), extra_len = c.u16(), comment_len = c.u16(), disk16 = c.u16();
    c.u16();  // internal attributes
    const uint32_t external = c.u32(), offset32 = c.u32();
    const uint64_t name_at = pos + kCentralSize, extra_at = name_at + name_len;
    const uint64_t next = extra_at + extra_len + comment_len;
    if (next > dir.end)
      refuse(kCorrupt, "name, extra and comment lengths (" + std::to_string(name_len) + ", " +
                           std::to_string(extra_len) + ", " + std::to_string(comment_len) +
                           ") run past the directory's end at " + hex(dir.end) + where, pos + 28);
    const std::string_view name(reinterpret_cast<const char*>(base_ + name_at), name_len);
    if (name_len > limits_.zip_max_name_bytes)
      refuse_limit("zip.max_name_bytes", limits_.zip_max_name_bytes, name_len,
                   "member name of " + std::to_string(name_len) + " bytes" + where, name_at, name);
    check_name(name, flags & kFlagUtf8, name_at, where);

    if (flags & kFlagsEncryption)
      refuse(kUnsupported, "encrypted member (flags " + hex(flags) + ")" + where, pos + 8, name);
    if (flags & kFlagPatched) refuse(kUnsupported, "patched-data member (flag bit 5)" + where, pos + 8, name);
    if (flags & ~(kFlagsKnown | kFlagsEncryption | kFlagPatched))
      refuse(kCorrupt, "reserved flag bits set (flags " + hex(flags) + ")" + where, pos + 8, name);
    if (method != 0 && method != 8)
      refuse(kUnsupported, "compression method " + std::to_string(method) +
                               " (only 0 stored and 8 deflate are read)" + where, pos + 10, name);

    // ZIP-03: saturated fields take their values from the zip64 extra, in standard order.
    uint64_t usize = usize32, csize = csize32, offset = offset32;
    uint32_t disk = disk16;
    const std::optional<Range> zip64 = zip64_extra(extra_at, extra_len, where, name);
    const uint64_t need = 8 * ((usize32 == kSat32) + (csize32 == kSat32) + (offset32 == kSat32)) +
                          4 * (disk16 == kSat16);
    if (need > 0) {
      if (!zip64 || zip64->size < need)
        refuse(kCorrupt, "record has zip64 sentinel values but its zip64 extra field lacks them" + where,
               zip64 ? zip64->offset : pos + 20, name);
      Cursor z = at(zip64->offset);
      if (usize32 == kSat32) usize = z.u64();
      if (csize32 == kSat32) csize = z.u64();
      if (offset32 == kSat32) offset = z.u64();
      if (disk16 == kSat16) disk = z.u32();
    }
    if (disk != 0)
      refuse(kUnsupported, "member starts on disk " + std::to_string(disk) + " (multi-disk archive)" + where,
             pos + 34, name);

    // ZIP-20: only regular files and directories (Unix mode bits, hosts Unix and OS X).
    const unsigned host = made_by >> 8;
    if (host == 3 || host == 19) {
      const uint32_t type = (external >> 16) & 0xF000;
      if (type == 0xA000) refuse(kForbidden, "member is a symbolic link" + where, pos + 38, name);
      if (type == 0x1000 || type == 0x2000 || type == 0x6000 || type == 0xC000)
        refuse(kForbidden, "member is a device, FIFO or socket (mode " + hex(external >> 16) + ")" + where,
               pos + 38, name);
    }
    if (name.back() == '/' && usize != 0)
      refuse(kCorrupt, "directory entry holds " + std::to_string(usize) + " bytes of data" + where, pos + 24, name);

    // ZIP-14/15/16: sizes and offset against the space before the directory and the limits.
    if (offset >= dir.offset)
      refuse(kCorrupt, "local header offset " + hex(offset) + " is not before the central directory at " +
                           hex(dir.offset) + where, pos + 42, name);
    if (csize > dir.offset - offset)
      refuse(kCorrupt, "compressed size " + std::to_string(csize) + " exceeds the " +
                           std::to_string(dir.offset - offset) + " bytes before the central directory" + where,
             pos + 20, name);
    if (method == 0 && csize != usize)
      refuse(kCorrupt, "stored member's compressed size " + std::to_string(csize) + " differs from its size " +
                           std::to_string(usize) + where, pos + 20, name);
    if (method == 8) {
      if (usize > limits_.zip_max_inflated_member_bytes)
        refuse_limit("zip.max_inflated_member_bytes", limits_.zip_max_inflated_member_bytes, usize,
                     "declared inflated size " + std::to_string(usize) + where, pos + 24, name);
      if (static_cast<unsigned __int128>(csize) * kMaxRatio < usize)
        refuse(kCorrupt, "declared inflated size " + std::to_string(usize) + " from " + std::to_string(csize) +
                             " compressed bytes exceeds DEFLATE's maximum ratio of 1032" + where, pos + 24, name);
      // ZIP-15: the archive's total, before anything is inflated (the total stays <= the limit).
      if (usize > limits_.zip_max_inflated_total_bytes - inflated_total)
        refuse_limit("zip.max_inflated_total_bytes", limits_.zip_max_inflated_total_bytes, inflated_total + usize,
                     "deflate members declare " + std::to_string(inflated_total + usize) +
                         " inflated bytes up to this one" + where, pos + 24, name);
      inflated_total += usize;
    }

    ZipEntry e;
    e.name = std::string(name);
    e.index = static_cast<uint32_t>(i);
    e.method = method;
    e.flags = flags;
    e.crc32 = crc;
    e.compressed_size = csize;
    e.size = usize;
    e.local_offset = offset;
    e.central_offset = pos;
    entries.push_back(std::move(e));
    version_needed_.push_back(needed);
    pos = next;
  }
  if (pos != dir.end)
    refuse(kCorrupt, std::to_string(dir.end - pos) + " bytes of the central directory follow its " +
                         std::to_string(dir.count) + " declared records", pos);
}

// ZIP-11: no two records with the same name.
void Parser::names(const std::vector<ZipEntry>& entries, std::vector<uint32_t>& by_name) const {
  by_name.resize(entries.size());
  std::iota(by_name.begin(), by_name.end(), 0u);
  std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) {
    const int c = entries[a].name.compare(entries[b].name);
    return c != 0 ? c < 0 : a < b;
  });
  for (size_t k = 1; k < by_name.size(); ++k) {
    const ZipEntry& a = entries[by_name[k - 1]];
    const ZipEntry& b = entries[by_name[k]];
    if (a.name == b.name)
      refuse(kCorrupt, "central records " + std::to_string(a.index) + " (at " + hex(a.central_offset) +
                           ") and " + std::to_string(b.index) + " (at " + hex(b.central_offset) +
                           ") have the same name", b.central_offset, b.name);
  }
}

// ZIP-02, ZIP-12, ZIP-13: members in file order, back to back from offset 0 to the directory.
void Parser::layout(const Directory& dir, std::vector<ZipEntry>& entries) const {
  std::vector<uint32_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return entries[a].local_offset != entries[b].local_offset ? entries[a].local_offset < entries[b].local_offset
                                                              : a < b;
  });
  uint64_t expected = 0;  // end of the previous member's extent
  for (size_t k = 0; k < order.size(); ++k) {
    ZipEntry& e = entries[order[k]];
    const std::string where = " (central record " + std::to_string(e.index) + " at " + hex(e.central_offset) + ")";
    if (e.local_offset > expected)
      refuse(kCorrupt, std::to_string(e.local_offset - expected) + " bytes at " + hex(expected) +
                           (k == 0 ? " before the first local header" : " between members") +
                           " belong to no member" + where, expected, e.name);
    if (e.local_offset < expected)
      refuse(kCorrupt, "local header at " + hex(e.local_offset) + " overlaps the previous member, which ends at " +
                           hex(expected) + where, e.local_offset, e.name);
    const uint64_t next = k + 1 < order.size() ? entries[order[k + 1]].local_offset : dir.offset;
    if (next == e.local_offset)
      refuse(kCorrupt, "central records " + std::to_string(e.index) + " and " + std::to_string(order[k + 1]) +
                           " both point to the local header at " + hex(next), next, e.name);
    expected = local(e, version_needed_[e.index], next);
  }
  if (expected != dir.offset)
    refuse(kCorrupt, std::to_string(dir.offset - expected) + " bytes at " + hex(expected) +
                         " between the last member and the central directory belong to no member", expected);
}

// ZIP-06, ZIP-09, ZIP-16: the local header at e.local_offset and its data descriptor, which must
// all end by `next` (the following local header or the directory). Returns the extent's end.
uint64_t Parser::local(ZipEntry& e, uint16_t version_needed, uint64_t next) const {
  const uint64_t h = e.local_offset;
  const std::string where = " (local header at " + hex(h) + ", central record " + std::to_string(e.index) +
                            " at " + hex(e.central_offset) + ")";
  if (next - h < kLocalSize) refuse(kCorrupt, "local header runs into the next record" + where, h, e.name);
  if (sig(h) != kLocalSig) refuse(kCorrupt, "bad local header signature" + where, h, e.name);
  Cursor c = at(h + 4);
  const uint16_t needed = c.u16(), flags = c.u16(), method = c.u16();
  c.u32();  // time, date
  const uint32_t crc = c.u32(), csize32 = c.u32(), usize32 = c.u32();
  const uint16_t name_len = c.u16(), extra_len = c.u16();
  if (uint64_t{name_len} + extra_len > next - h - kLocalSize)
    refuse(kCorrupt, "local name and extra lengths (" + std::to_string(name_len) + ", " + std::to_string(extra_len) +
                         ") run into the next record" + where, h + 26, e.name);
  const std::string_view local_name(reinterpret_cast<const char*>(base_ + h + kLocalSize), name_len);
  if (local_name != e.name)
    refuse(kCorrupt, "local header names \"" + escape(local_name) + "\" but the central record names \"" +
                         escape(e.name) + "\"" + where, h + kLocalSize, e.name);
  auto differ = [&](const char* field, uint64_t local, uint64_t central, uint64_t off) {
    refuse(kCorrupt, std::string("local header's ") + field + " " + hex(local) + " differs from the central record's " +
                         hex(central) + where, off, e.name);
  };
  if (needed != version_needed) differ("version needed", needed, version_needed, h + 4);
  if (flags != e.flags) differ("flags", flags, e.flags, h + 6);
  if (method != e.method) differ("method", method, e.method, h + 8);
  const std::optional<Range> zip64 = zip64_extra(h + kLocalSize + name_len, extra_len, where, e.name);
  if (!(flags & kFlagDescriptor)) {
    // Without a descriptor the local CRC and sizes are authoritative for other readers, so
    // they must match; saturated sizes are in the local zip64 extra (usize, csize: both).
    if (crc != e.crc32) differ("CRC-32", crc, e.crc32, h + 14);
    uint64_t usize = usize32, csize = csize32;
    if (usize32 == kSat32 || csize32 == kSat32) {
      if (!zip64 || zip64->size < 16)
        refuse(kCorrupt, "local header has zip64 sentinel sizes but no complete zip64 extra field" + where,
               h + 18, e.name);
      Cursor z = at(zip64->offset);
      const uint64_t zu = z.u64(), zc = z.u64();
      if (usize32 == kSat32) usize = zu;
      if (csize32 == kSat32) csize = zc;
    }
    if (csize != e.compressed_size) differ("compressed size", csize, e.compressed_size, h + 18);
    if (usize != e.size) differ("size", usize, e.size, h + 22);
  } else {
    // With a descriptor the local fields are placeholders: zero (or saturated sizes) or the truth.
    if (crc != 0 && crc != e.crc32) differ("CRC-32", crc, e.crc32, h + 14);
    if (csize32 != 0 && csize32 != kSat32 && csize32 != e.compressed_size)
      differ("compressed size", csize32, e.compressed_size, h + 18);
    if (usize32 != 0 && usize32 != kSat32 && usize32 != e.size) differ("size", usize32, e.size, h + 22);
  }

  const uint64_t data = h + kLocalSize + name_len + extra_len;
  e.data_offset = data;
  if (e.compressed_size > next - data)
    refuse(kCorrupt, "member data of " + std::to_string(e.compressed_size) + " bytes at " + hex(data) +
                         " runs past the next record at " + hex(next) + where, data, e.name);
  const uint64_t end = data + e.compressed_size;
  if (!(flags & kFlagDescriptor)) return end;

  // ZIP-09: the descriptor sits right after the data: optional signature, CRC-32, then sizes
  // of 8 bytes when the local header has a zip64 extra field, else of 4 (APPNOTE 4.3.9.2;
  // torch writes the zip64 extra exactly when it writes 8-byte sizes, formats.md 1.3). The
  // member's extent ends with the descriptor.
  const uint64_t room = next - end;
  const bool signature = room >= 4 && sig(end) == kDescriptorSig;
  const uint64_t length = (signature ? 4 : 0) + 4 + (zip64 ? 16 : 8);
  if (room < length)
    refuse(kCorrupt, "flag bit 3 is set but the " + std::to_string(room) + " bytes after the data at " + hex(end) +
                         " cannot hold a " + std::to_string(length) + "-byte data descriptor" + where, end, e.name);
  if (room > length)
    refuse(kCorrupt, std::to_string(room - length) + " bytes after the " + std::to_string(length) +
                         "-byte data descriptor at " + hex(end) + " belong to no member" +
                         (zip64 ? "" : " (a descriptor with 8-byte sizes needs a zip64 extra field in the local header)") +
                         where, end + length, e.name);
  Cursor d = at(end + (signature ? 4 : 0));
  const uint32_t d_crc = d.u32();
  const uint64_t d_csize = zip64 ? d.u64() : d.u32();
  const uint64_t d_usize = zip64 ? d.u64() : d.u32();
  if (d_crc != e.crc32 || d_csize != e.compressed_size || d_usize != e.size)
    refuse(kCorrupt, "data descriptor (CRC-32 " + hex(d_crc) + ", sizes " + std::to_string(d_csize) + "/" +
                         std::to_string(d_usize) + ") disagrees with the central record (CRC-32 " + hex(e.crc32) +
                         ", sizes " + std::to_string(e.compressed_size) + "/" + std::to_string(e.size) + ")" + where,
           end, e.name);
  return end + length;
}

// zlib's counters are 32-bit: feed at most this much per call.
constexpr uint64_t kZlibChunk = uint64_t{1} << 30;
constexpr uint64_t kFirstBuffer = uint64_t{1} << 20;

// Inflated bytes live in a malloc'd buffer grown with realloc (in place for large blocks).
struct Free {
  void operator()(std::byte* p) const { std::free(p); }
};

struct InflateEnd {
  z_stream* zs;
  ~InflateEnd() { inflateEnd(zs); }
};

// ZIP-13/15: inflates e's compressed bytes at `data` into at most the declared size (+1 spare
// byte that must stay unused) and requires the stream to end exactly at the compressed size.
// The buffer doubles as output arrives, so memory follows what the stream really holds
// (hostile-inputs 6.4), not what the header claims.
Storage inflate_member(const std::byte* data, const ZipEntry& e) {
  std::unique_ptr<std::byte, Free> buf;
  uint64_t capacity = 0;
  auto grow = [&] {
    const uint64_t want = std::max<uint64_t>(1, std::min(e.size, std::max(capacity * 2, kFirstBuffer)));
    void* p = std::realloc(buf.get(), want);
    if (!p) throw std::bad_alloc();
    buf.release();
    buf.reset(static_cast<std::byte*>(p));
    capacity = want;
  };
  grow();
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
    fail(Error(Error::Code::kInternal, "zlib inflateInit2 failed").reader("zip").member(e.name));
  InflateEnd end_guard{&zs};
  const Bytef* in = reinterpret_cast<const Bytef*>(data);
  uint64_t in_left = e.compressed_size;
  Bytef spare = 0;
  bool spare_given = false;
  for (;;) {
    if (zs.avail_in == 0 && in_left > 0) {
      const uint64_t n = std::min(in_left, kZlibChunk);
      zs.next_in = const_cast<Bytef*>(in);
      zs.avail_in = static_cast<uInt>(n);
      in += n;
      in_left -= n;
    }
    if (zs.avail_out == 0) {
      if (zs.total_out < e.size) {
        if (zs.total_out == capacity) grow();
        zs.next_out = reinterpret_cast<Bytef*>(buf.get() + zs.total_out);
        zs.avail_out = static_cast<uInt>(std::min(capacity - zs.total_out, kZlibChunk));
      } else if (!spare_given) {
        zs.next_out = &spare;
        zs.avail_out = 1;
        spare_given = true;
      }
    }
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const uint64_t at = e.data_offset + zs.total_in;
    if (spare_given && zs.avail_out == 0)
      refuse(kCorrupt, "deflate stream inflates to more than the declared " + std::to_string(e.size) + " bytes",
             at, e.name);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0)
      refuse(kCorrupt, "deflate stream is cut off: its " + std::to_string(e.compressed_size) +
                           " compressed bytes end before the end-of-stream block", at, e.name);
    if (rc != Z_OK)
      refuse(kCorrupt, std::string("invalid deflate data: ") + (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)),
             at, e.name);
  }
  if (zs.total_in != e.compressed_size)
    refuse(kCorrupt, "deflate stream ends after " + std::to_string(zs.total_in) + " of its " +
                         std::to_string(e.compressed_size) + " compressed bytes",
           e.data_offset + zs.total_in, e.name);
  if (zs.total_out != e.size)
    refuse(kCorrupt, "deflate stream inflates to " + std::to_string(zs.total_out) + " bytes, not the declared " +
                         std::to_string(e.size), e.data_offset + zs.total_in, e.name);
  std::shared_ptr<std::byte> owner(buf.release(), Free());
  return Storage::wrap(owner.get(), e.size, owner);
}

}  // namespace

ZipReader ZipReader::open(std::shared_ptr<const MappedFile> file, const Limits& limits) {
  ZipReader r;
  r.file_ = std::move(file);
  r.limits_ = limits;
  Parser(*r.file_, r.limits_).run(r.entries_, r.by_name_);
  return r;
}

// ZIP-19: the text before the first '/' of central record 0, shared by every member.
std::string ZipReader::prefix() const {
  if (entries_.empty()) return {};
  const std::string& first = entries_[0].name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos)
    refuse(kCorrupt, "first member is at the top level; a torch archive keeps every member under one "
                     "directory (central record 0 at " + hex(entries_[0].central_offset) + ")",
           entries_[0].central_offset, first);
  const std::string prefix = first.substr(0, slash);
  for (const ZipEntry& e : entries_) {
    if (e.name.compare(0, slash + 1, first, 0, slash + 1) == 0) continue;
    const size_t other = e.name.find('/');
    const std::string theirs = other == std::string::npos ? "(top level)" : "\"" + escape(e.name.substr(0, other)) + "\"";
    refuse(kCorrupt, "member is under prefix " + theirs + " but the archive prefix is \"" + escape(prefix) +
                         "\" (central record " + std::to_string(e.index) + " at " + hex(e.central_offset) + ")",
           e.central_offset, e.name);
  }
  return prefix;
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [&](uint32_t i, std::string_view n) { return entries_[i].name < n; });
  if (it == by_name_.end() || entries_[*it].name != name) return nullptr;
  return &entries_[*it];
}

Storage ZipReader::read(const ZipEntry& entry, bool verify_crc) const {
  if (entry.index >= entries_.size())
    fail(Error(Error::Code::kInvalidArgument, "entry " + std::to_string(entry.index) + " is not in this archive")
             .reader("zip"));
  const ZipEntry& e = entries_[entry.index];  // never trust offsets from the caller's copy
  Storage out;
  if (e.method == 0) {
    out = MappedFile::storage(file_, e.data_offset, e.size);
  } else {
    // ZIP-15: the declared size is charged to the archive's budget before inflating.
    if (e.size > limits_.zip_max_inflated_total_bytes - inflated_total_)  // the total never exceeds the limit
      refuse_limit("zip.max_inflated_total_bytes", limits_.zip_max_inflated_total_bytes, inflated_total_ + e.size,
                   "inflating " + std::to_string(e.size) + " more bytes", e.local_offset, e.name);
    inflated_total_ += e.size;
    out = inflate_member(file_->data() + e.data_offset, e);
  }
  // ZIP-10: a recorded CRC of 0 on non-empty data means "not recorded".
  if (verify_crc && !(e.crc32 == 0 && e.size != 0)) {
    const uint32_t crc = crc32(0, out.data(), out.nbytes());
    if (crc != e.crc32)
      refuse(kCorrupt, "CRC-32 " + hex(crc) + " of the member's bytes differs from the recorded " + hex(e.crc32) +
                           " (central record " + std::to_string(e.index) + " at " + hex(e.central_offset) + ")",
             e.data_offset, e.name);
  }
  return out;
}

std::string ZipReader::read_text(const ZipEntry& entry) const {
  const Storage s = read(entry, true);
  if (s.nbytes() == 0) return {};
  return std::string(reinterpret_cast<const char*>(s.data()), s.nbytes());
}

}  // namespace torchless
