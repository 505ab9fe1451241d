// Internal pieces shared by the writers behind save.h: the safetensors file writer (also used
// per shard), the Hugging Face shard splitter, tied-tensor detection and a buffered byte sink
// over AtomicFile. Everything here throws Error (check.h); save.h's entry points guard() it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/atomic_file.h"
#include "torchless/save.h"

namespace torchless::formats {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Writes one safetensors file (formats.md 8 [rule] Writer) atomically, with options.metadata
// and options.progress. Names sharing one view of one storage are written once (the first
// name) and recorded in __metadata__ "torchless.aliases".
void write_safetensors(const StateDict& sd, const std::string& path, const SaveOptions& options);

// options.shard_size > 0: Hugging Face shards + index next to `path` (formats.md 9).
void write_shards(const StateDict& sd, const std::string& path, const SaveOptions& options);

// options.progress as an AtomicFile progress hook for a file of about `total` bytes (reports
// are capped at `total`); empty when no progress is asked.
std::function<void(uint64_t)> file_progress(const SaveOptions& options, uint64_t total);

// Refuses (kLimitExceeded "tensor.max_bytes", naming `name` unless empty) a tensor whose C-order bytes
// exceed kMaxMaterialisedBytes: the writers stream views out whole.
void check_materialisable(const std::string& name, const Tensor& t);

// The same view of the same bytes (tied weights such as an embedding and an LM head).
// Empty storages never alias.
bool same_view(const Tensor& a, const Tensor& b);

// JSON string literal of UTF-8 `s` (quotes, backslash and control characters escaped).
std::string json_quote(const std::string& s);

// Buffers small writes (strided tensors come in short runs) in front of an AtomicFile.
class BufferedSink {
 public:
  explicit BufferedSink(AtomicFile& file) : file_(file) { buf_.reserve(kSize); }
  void write(const void* data, size_t n);
  void write_tensor(const Tensor& t);  // the C-order bytes, streamed without a copy
  void flush();

 private:
  static constexpr size_t kSize = size_t{1} << 20;
  AtomicFile& file_;
  std::string buf_;
};

}  // namespace torchless::formats
