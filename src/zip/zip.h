// Zip reader for PyTorch archives and .npz files: memory-mapped, zip64, STORED members as zero-copy views,
// DEFLATE through zlib, strict validation (every ZIP-* class of specs/hostile-inputs.md).
// The central directory is the only source of sizes and offsets; each local header must agree
// with its central record. Errors are thrown (core/check.h) with reader "zip", the member,
// the central record index and the absolute offset of the defect.
//
// open() checks, in this order (one file always yields the same refusal):
//   1. end records: EOCD (last candidate in the final 22 + 65,535 bytes whose comment ends
//      exactly at end of file), zip64 locator exactly 20 bytes before it, zip64 record
//      between the directory and the locator; the directory ends where they begin;
//   2. central records in directory order (signature, lengths, flags, method, zip64 extra,
//      name, sizes, attributes, the running total of declared inflated sizes), then the
//      record count against the directory's end;
//   3. duplicate names;
//   4. the layout in local-header order: the first member at offset 0, each local header
//      agreeing with its record, each data descriptor at its computed position and of the
//      form the local header implies, and every byte up to the directory belonging to
//      exactly one member.
// The torch rule of one top-level directory (ZIP-19) is checked by prefix(), which torch
// readers call; .npz archives keep their members at the top level.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/file.h"
#include "torchless/load.h"
#include "torchless/tensor.h"

namespace torchless {

struct ZipEntry {
  std::string name;
  uint32_t index = 0;          // position in the central directory
  uint16_t method = 0;         // 0 stored, 8 deflate
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;           // uncompressed
  uint64_t local_offset = 0;   // local header
  uint64_t data_offset = 0;    // first byte of the (compressed) data
  uint64_t central_offset = 0; // central directory record
};

class ZipReader {
 public:
  // Parses and validates the whole directory and every local header.
  static ZipReader open(std::shared_ptr<const MappedFile> file, const Limits& limits);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;  // exact name, nullptr if absent
  // The member's bytes: a view into the mapping for STORED members (whatever its alignment),
  // an owned inflated buffer for DEFLATE (charged to zip.max_inflated_total_bytes, which
  // open() already checked against the sum of declared sizes; re-reads are charged again). Only the
  // entry's index is used: it must be one of entries(). verify_crc checks CRC-32 (a recorded
  // CRC of 0 on non-empty data counts as "not recorded" and passes).
  Storage read(const ZipEntry& entry, bool verify_crc) const;
  // read() of a small metadata member as a string (CRC always verified).
  std::string read_text(const ZipEntry& entry) const;
  // The archive prefix as torch computes it: text before the first '/' of the first central
  // entry; every entry must start with it and '/' (else throws kCorrupt, ZIP-19). "" for an
  // empty archive.
  std::string prefix() const;
  const MappedFile& file() const { return *file_; }

 private:
  std::shared_ptr<const MappedFile> file_;
  Limits limits_;
  std::vector<ZipEntry> entries_;
  std::vector<uint32_t> by_name_;  // entry indices sorted by name
  mutable uint64_t inflated_total_ = 0;
};

}  // namespace torchless
