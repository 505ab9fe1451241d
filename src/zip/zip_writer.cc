// Zip writer (zip_writer.h): miniz's layout as torch.save produces it, byte for byte
// (formats.md 1.3): local header with zero CRC/sizes, optional zip64 extra, an 'FB' extra
// of 'Z' bytes padding the data to 64, the data, a data descriptor; central records without
// padding; always a zip64 end record and locator before the classic end record.
#include "zip/zip_writer.h"

#include <future>
#include <string>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/crc32.h"

namespace torchless {
namespace {

constexpr uint64_t kMax32 = 0xFFFFFFFF;
constexpr uint64_t kAlignment = 64;
constexpr size_t kParallelCrcBytes = size_t{8} << 20;  // below this, CRC inline
constexpr uint16_t kFlagUtf8 = 0x0800, kFlagDescriptor = 0x0008;

// Little-endian field appender.
struct Bytes {
  std::string b;
  void u16(uint64_t v) { for (int i = 0; i < 2; ++i) b.push_back(static_cast<char>(v >> (8 * i))); }
  void u32(uint64_t v) { for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>(v >> (8 * i))); }
  void u64(uint64_t v) { for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>(v >> (8 * i))); }
  void str(std::string_view s) { b.append(s); }
};

uint16_t flags_for(uint64_t size) { return size == 0 ? kFlagUtf8 : kFlagUtf8 | kFlagDescriptor; }

// miniz's zip64 extra (id 1): the given values in order.
void zip64_extra(Bytes& x, std::initializer_list<uint64_t> values) {
  x.u16(0x0001);
  x.u16(8 * values.size());
  for (uint64_t v : values) x.u64(v);
}

}  // namespace

void ZipWriter::begin(std::string_view name, uint64_t size) {
  if (open_) fail(Error::Code::kInternal, "zip writer: record started inside another");
  if (name.size() > 0xFFFF) fail(Error::Code::kInvalidArgument, "zip writer: record name too long");
  const uint64_t off = out_.offset();
  const bool big = size >= kMax32, far = off >= kMax32;
  Bytes extra;
  // Local zip64 extra as miniz writes it: usize and a zero csize when the size overflows,
  // then the header's own offset when that overflows.
  if (big && far) zip64_extra(extra, {size, 0, off});
  else if (big) zip64_extra(extra, {size, 0});
  else if (far) zip64_extra(extra, {off});
  const uint64_t start = off + 30 + name.size() + extra.b.size() + 4;
  const uint64_t pad = (kAlignment - start % kAlignment) % kAlignment;
  extra.str("FB");
  extra.u16(pad);
  extra.str(std::string(pad, 'Z'));

  Bytes h;
  h.u32(0x04034b50);
  h.u16(0);  // version needed (miniz writes 0 for STORED)
  h.u16(flags_for(size));
  h.u16(0);  // method: STORED
  h.u16(0);  // time
  h.u16(0);  // date
  h.u32(0);  // CRC-32 and sizes: in the descriptor
  h.u32(0);
  h.u32(0);
  h.u16(name.size());
  h.u16(extra.b.size());
  h.str(name);
  h.str(extra.b);
  out_.write(h.b.data(), h.b.size());
  records_.push_back({std::string(name), off, size, 0});
  written_ = 0;
  open_ = true;
}

void ZipWriter::write(const void* data, size_t n) {
  Record& r = records_.back();
  if (!open_ || n > r.size - written_) fail(Error::Code::kInternal, "zip writer: record overrun: " + r.name);
  out_.write(data, n);
  r.crc = crc32(r.crc, data, n);
  written_ += n;
}

void ZipWriter::end() {
  Record& r = records_.back();
  if (!open_ || written_ != r.size) fail(Error::Code::kInternal, "zip writer: record short: " + r.name);
  open_ = false;
  if (r.size == 0) return;  // no descriptor for empty records (flags 0x0800)
  Bytes d;
  d.u32(0x08074b50);
  d.u32(r.crc);
  if (r.size >= kMax32 || r.offset >= kMax32) {
    d.u64(r.size);
    d.u64(r.size);
  } else {
    d.u32(r.size);
    d.u32(r.size);
  }
  out_.write(d.b.data(), d.b.size());
}

void ZipWriter::add(std::string_view name, std::string_view data) {
  begin(name, data.size());
  if (data.size() < kParallelCrcBytes) {
    write(data.data(), data.size());
  } else {
    // CRC-32 on a second core while this one copies the bytes into the file.
    auto crc = std::async(std::launch::async, [&] {
      return crc32(0, data.data(), data.size());
    });
    out_.write(data.data(), data.size());
    records_.back().crc = crc.get();
    written_ = data.size();
  }
  end();
}

void ZipWriter::finish() {
  if (open_) fail(Error::Code::kInternal, "zip writer: finish() inside a record");
  const uint64_t cd_offset = out_.offset();
  Bytes c;
  for (const Record& r : records_) {
    const bool big = r.size >= kMax32, far = r.offset >= kMax32;
    Bytes extra;  // standard order: usize, csize, offset; only the overflowing ones
    if (big && far) zip64_extra(extra, {r.size, r.size, r.offset});
    else if (big) zip64_extra(extra, {r.size, r.size});
    else if (far) zip64_extra(extra, {r.offset});
    c.u32(0x02014b50);
    c.u16(0);  // version made by
    c.u16(0);  // version needed
    c.u16(flags_for(r.size));
    c.u16(0);  // STORED
    c.u16(0);
    c.u16(0);
    c.u32(r.crc);
    c.u32(big ? kMax32 : r.size);
    c.u32(big ? kMax32 : r.size);
    c.u16(r.name.size());
    c.u16(extra.b.size());
    c.u16(0);  // comment
    c.u16(0);  // disk
    c.u16(0);  // internal attributes
    c.u32(0);  // external attributes
    c.u32(far ? kMax32 : r.offset);
    c.str(r.name);
    c.str(extra.b);
  }
  const uint64_t cd_size = c.b.size(), n = records_.size();
  const uint64_t z64_offset = cd_offset + cd_size;
  c.u32(0x06064b50);  // zip64 end of central directory
  c.u64(44);
  c.u16(0x031E);
  c.u16(0x002D);
  c.u32(0);
  c.u32(0);
  c.u64(n);
  c.u64(n);
  c.u64(cd_size);
  c.u64(cd_offset);
  c.u32(0x07064b50);  // zip64 locator
  c.u32(0);
  c.u64(z64_offset);
  c.u32(1);
  c.u32(0x06054b50);  // classic end record, saturated where needed
  c.u16(0);
  c.u16(0);
  c.u16(n >= 0xFFFF ? 0xFFFF : n);
  c.u16(n >= 0xFFFF ? 0xFFFF : n);
  c.u32(cd_size >= kMax32 ? kMax32 : cd_size);
  c.u32(cd_offset >= kMax32 ? kMax32 : cd_offset);
  c.u16(0);
  out_.write(c.b.data(), c.b.size());
}

}  // namespace torchless
