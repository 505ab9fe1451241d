// A read-only file: size captured once at open, bytes available as one mapping (or, when
// mapping is off, read into owned memory). Refuses anything that is not a non-empty regular
// file (hostile-inputs FMT-03). Opened with O_NONBLOCK so FIFOs and devices never block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "torchless/error.h"
#include "torchless/tensor.h"

namespace torchless {

class MappedFile {
 public:
  // map = false reads the whole file into an owned buffer instead of mapping it.
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path, bool map = true);
  // An in-memory "file" (fuzzers, tests, members of other files).
  static std::shared_ptr<const MappedFile> from_bytes(std::string name, std::string bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  const std::byte* data() const { return data_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  // A Storage over [off, off+n) of `file` that keeps the file alive (range checked: a bad
  // range is kInternal, readers check it themselves first).
  static Storage storage(const std::shared_ptr<const MappedFile>& file, uint64_t off, uint64_t n);

 private:
  MappedFile() = default;
  std::string path_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;
  std::string owned_;
};

}  // namespace torchless
