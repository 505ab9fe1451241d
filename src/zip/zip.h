// Zip reader for PyTorch archives: memory-mapped, zip64, STORED members as zero-copy views,
// DEFLATE through zlib, strict validation (every ZIP-* class of specs/hostile-inputs.md).
// The central directory is the only source of sizes and offsets; each local header must agree
// with its central record. Errors are thrown (core/check.h) with member and offset context.
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
  // The member's bytes: a view into the mapping for STORED members, an owned inflated buffer
  // for DEFLATE (charged to zip.max_inflated_total_bytes). verify_crc checks CRC-32 first
  // (a recorded CRC of 0 on non-empty data counts as "not recorded" and passes).
  Storage read(const ZipEntry& entry, bool verify_crc) const;
  // read() of a small metadata member as a string (CRC always verified).
  std::string read_text(const ZipEntry& entry) const;
  // The archive prefix as torch computes it: text before the first '/' of the first central
  // entry; every entry must start with it (else kCorrupt, ZIP-19).
  const std::string& prefix() const { return prefix_; }
  const MappedFile& file() const { return *file_; }

 private:
  std::shared_ptr<const MappedFile> file_;
  Limits limits_;
  std::vector<ZipEntry> entries_;
  std::vector<uint32_t> by_name_;  // entry indices sorted by name
  std::string prefix_;
  mutable uint64_t inflated_total_ = 0;
};

}  // namespace torchless
