// Zip writer for torch.save archives: emits exactly the layout torch's miniz writes
// (formats.md 1.3 and 1.5) so torch 2.x may predict storage offsets from it.
//
//   ZipWriter zip(file);                       // an AtomicFile
//   zip.begin("archive/data/0", nbytes);       // local header + 'FB' padding to 64
//   zip.write(ptr, n); ...                     // exactly nbytes, CRC-32 computed on the way
//   zip.end();                                 // data descriptor (16 or 24 bytes)
//   zip.add("archive/version", "3\n");        // or a whole record at once
//   zip.finish();                              // central directory, zip64 EOCD + locator, EOCD
//
// Every record is STORED; its data starts at a file offset that is a multiple of 64. Record
// bytes are streamed straight from the caller's memory: nothing is buffered.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace torchless {

class AtomicFile;

class ZipWriter {
 public:
  explicit ZipWriter(AtomicFile& out) : out_(out) {}

  // Starts a record of exactly `size` bytes.
  void begin(std::string_view name, uint64_t size);
  void write(const void* data, size_t n);
  // Ends the record (throws kInternal if fewer or more than `size` bytes were written).
  void end();
  // A whole record at once; for big records the CRC-32 is computed on another thread while
  // the bytes are written.
  void add(std::string_view name, std::string_view data);
  // Writes the central directory and the end records. No record may follow.
  void finish();

 private:
  struct Record {
    std::string name;
    uint64_t offset = 0, size = 0;
    uint32_t crc = 0;
  };
  AtomicFile& out_;
  std::vector<Record> records_;
  uint64_t written_ = 0;  // bytes of the open record so far
  bool open_ = false;
};

}  // namespace torchless
