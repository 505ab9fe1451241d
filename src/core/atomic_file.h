// Atomic file replacement: write to a temporary file in the target's directory, then commit()
// fsyncs it, renames it over the target and fsyncs the directory. Destroyed without commit(),
// the temporary file is removed; a process killed mid-write leaves only a `.NAME.tmp-*` file,
// never a truncated file under the final name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "torchless/error.h"

namespace torchless {

// fsync()s a directory, making the entries created, renamed or removed in it durable (throws
// Error kIo naming `what_path`).
void fsync_dir(const std::string& dir, const std::string& what_path);

// The directory part of a path ("." for a bare name).
std::string dir_of(const std::string& path);

class AtomicFile {
 public:
  // Creates the temporary file (throws Error kIo naming the path). `progress`, when given, is
  // called with the bytes written so far after every chunk of at most 16 MiB.
  explicit AtomicFile(std::string path, std::function<void(uint64_t)> progress = {});
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // all of it, or throw kIo (disk full, ...)
  void write_zeros(size_t n);              // padding
  // Allocates disk blocks for `n` bytes up front (a hint: saves block allocation while writing;
  // commit() trims what was not written).
  void reserve(uint64_t n);
  uint64_t offset() const { return offset_; }
  void commit();  // fsync, rename over the final path, fsync the directory

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  std::function<void(uint64_t)> progress_;
  uint64_t offset_ = 0;
  uint64_t reserved_ = 0;
  uint64_t flushed_ = 0;  // bytes handed to writeback early (sync_file_range), so commit()'s
                          // fsync has little left to wait for
  bool committed_ = false;
};

}  // namespace torchless
