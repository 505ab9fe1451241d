// Atomic file replacement: write to a temporary file in the target's directory, then commit()
// fsyncs it, renames it over the target and fsyncs the directory. Destroyed without commit(),
// the temporary file is removed; a process killed mid-write leaves only a `.NAME.tmp-*` file,
// never a truncated file under the final name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "torchless/error.h"

namespace torchless {

class AtomicFile {
 public:
  // Creates the temporary file (throws Error kIo naming the path).
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // all of it, or throw kIo (disk full, ...)
  void write_zeros(size_t n);              // padding
  uint64_t offset() const { return offset_; }
  void commit();  // fsync, rename over the final path, fsync the directory

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  uint64_t flushed_ = 0;  // bytes handed to writeback early (sync_file_range), so commit()'s
                          // fsync has little left to wait for
  bool committed_ = false;
};

}  // namespace torchless
