// torchless/tensor.h — Storage (bytes with shared ownership) and Tensor (a typed, strided view).
//
// A Storage is either an owned buffer or a slice of a memory-mapped file; copies share the
// bytes. A Tensor is shape + strides + storage offset (in elements) over a Storage, exactly
// like torch's: views, transposes, zero strides and tensors sharing one storage are kept as
// they are in the file. Tensor::make() checks the extent against the storage, so every
// Tensor that exists can be read without bounds checks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "torchless/dtype.h"
#include "torchless/error.h"

namespace torchless {

class Storage {
 public:
  Storage() = default;
  // A zero-filled owned buffer of n bytes (fails with kLimitExceeded if the allocation fails).
  static Result<Storage> allocate(size_t nbytes);
  // Bytes owned elsewhere; `keepalive` keeps them valid (a mapped file, a vector, ...).
  static Storage wrap(const std::byte* data, size_t nbytes, std::shared_ptr<const void> keepalive);

  const std::byte* data() const { return data_; }
  std::byte* mutable_data() const { return const_cast<std::byte*>(data_); }  // owned buffers only
  size_t nbytes() const { return nbytes_; }
  bool empty() const { return nbytes_ == 0; }
  // A sub-range sharing ownership (offset + n must be within nbytes()).
  Storage slice(size_t offset, size_t n) const;
  // This storage, or an owned copy when its address is not a multiple of `align` (so its
  // elements can be read as their C++ type).
  Storage aligned(size_t align) const;
  // Same bytes (a storage shared by several tensors has one identity).
  bool same_as(const Storage& o) const { return data_ == o.data_ && nbytes_ == o.nbytes_; }

 private:
  const std::byte* data_ = nullptr;
  size_t nbytes_ = 0;
  std::shared_ptr<const void> owner_;
};

// The most logical bytes an operation materialises from a view (a copy, a cast, a file written
// from it). Beyond it: kLimitExceeded naming "tensor.max_bytes" (zero-stride bombs that claim
// terabytes over a few bytes of storage, hostile-inputs TEN-04).
inline constexpr uint64_t kMaxMaterialisedBytes = uint64_t{1} << 40;

class Tensor {
 public:
  Tensor() = default;
  // Checks: sizes, strides and offset non-negative, ndim <= 64, numel and extent without
  // overflow, numel <= max_numel, and (for a non-empty tensor) the last element inside the
  // storage. Errors are kCorrupt / kLimitExceeded; the caller adds file context.
  static Result<Tensor> make(Storage storage, DType dtype, std::vector<int64_t> shape,
                             std::vector<int64_t> strides, int64_t storage_offset,
                             uint64_t max_numel = uint64_t{1} << 40);
  // A C-contiguous tensor over the whole storage (nbytes must equal numel * dtype size).
  static Result<Tensor> contiguous_over(Storage storage, DType dtype, std::vector<int64_t> shape);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  int64_t storage_offset() const { return offset_; }
  const Storage& storage() const { return storage_; }
  size_t ndim() const { return shape_.size(); }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool is_contiguous() const;  // C order, no gaps (size-1 dims may have any stride)

  // First element's address (valid for contiguous tensors; for others use the strides).
  const std::byte* data() const;
  // The same values in a fresh C-contiguous storage, or *this when already contiguous.
  // A copy is checked against max_bytes first (kLimitExceeded for zero-stride bombs).
  Result<Tensor> contiguous(uint64_t max_bytes = kMaxMaterialisedBytes) const;
  // Calls fn(ptr, nbytes) over the C-order bytes in as few chunks as possible, without
  // materialising (used for hashing and comparison).
  template <class F>
  void for_each_chunk(F&& fn) const;

 private:
  Storage storage_;
  DType dtype_ = DType::kFloat32;
  std::vector<int64_t> shape_, strides_;
  int64_t offset_ = 0;
};

// SHA-256 (lowercase hex) of the tensor's C-contiguous little-endian bytes.
std::string sha256_hex(const Tensor& t);

// ---- implementation of the template ----

template <class F>
void Tensor::for_each_chunk(F&& fn) const {
  const int64_t n = numel();
  if (n == 0) return;
  const size_t es = dtype_size(dtype_);
  if (is_contiguous()) {
    fn(data(), static_cast<size_t>(n) * es);
    return;
  }
  // Innermost contiguous run: trailing dims that are contiguous among themselves.
  const size_t nd = shape_.size();
  size_t inner = nd;
  int64_t run = 1;
  while (inner > 0) {
    const size_t d = inner - 1;
    if (shape_[d] != 1 && strides_[d] != run) break;
    run *= shape_[d];
    inner = d;
  }
  std::vector<int64_t> idx(inner, 0);
  const std::byte* base = storage_.data();
  for (;;) {
    int64_t off = offset_;
    for (size_t d = 0; d < inner; ++d) off += idx[d] * strides_[d];
    fn(base + off * static_cast<int64_t>(es), static_cast<size_t>(run) * es);
    size_t d = inner;
    while (d > 0) {
      --d;
      if (++idx[d] < shape_[d]) break;
      idx[d] = 0;
      if (d == 0) return;
    }
    if (inner == 0) return;
  }
}

}  // namespace torchless
