#include "torchless/tensor.h"

#include <openssl/evp.h>

#include <cstring>

#include "core/check.h"

namespace torchless {

Result<Storage> Storage::allocate(size_t nbytes) {
  return guard("tensor", "", [&] {
    // new[] of std::byte value-initialises (zero) the buffer.
    std::shared_ptr<std::byte[]> buf(new std::byte[nbytes == 0 ? 1 : nbytes]());
    Storage s;
    s.data_ = buf.get();
    s.nbytes_ = nbytes;
    s.owner_ = std::move(buf);
    return s;
  });
}

Storage Storage::wrap(const std::byte* data, size_t nbytes, std::shared_ptr<const void> keepalive) {
  Storage s;
  s.data_ = data;
  s.nbytes_ = nbytes;
  s.owner_ = std::move(keepalive);
  return s;
}

Storage Storage::slice(size_t offset, size_t n) const {
  if (!in_range(offset, n, nbytes_)) return Storage();
  return wrap(data_ + offset, n, owner_);
}

Storage Storage::aligned(size_t align) const {
  if (align <= 1 || reinterpret_cast<uintptr_t>(data_) % align == 0) return *this;
  Storage copy = unwrap(allocate(nbytes_));
  if (nbytes_) std::memcpy(copy.mutable_data(), data_, nbytes_);
  return copy;
}

Result<Tensor> Tensor::make(Storage storage, DType dtype, std::vector<int64_t> shape,
                            std::vector<int64_t> strides, int64_t storage_offset,
                            uint64_t max_numel) {
  return guard(nullptr, "", [&] {
    if (shape.size() != strides.size())
      corrupt("tensor has " + std::to_string(shape.size()) + " sizes but " +
              std::to_string(strides.size()) + " strides");
    if (shape.size() > 64) over_limit("tensor.max_ndim", 64, shape.size(), "tensor has too many dimensions");
    if (storage_offset < 0) corrupt("negative storage offset");
    int64_t numel = 1;
    int64_t last = storage_offset;  // element index of the last element
    bool empty = false;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0) corrupt("negative size in dimension " + std::to_string(i));
      if (strides[i] < 0) corrupt("negative stride in dimension " + std::to_string(i));
      numel = mul_i64(numel, shape[i], "tensor element count");
      if (shape[i] == 0) empty = true;
    }
    if (static_cast<uint64_t>(numel) > max_numel)
      over_limit("tensor.max_numel", max_numel, static_cast<uint64_t>(numel), "tensor has too many elements");
    const int64_t es = static_cast<int64_t>(dtype_size(dtype));
    if (!empty) {
      for (size_t i = 0; i < shape.size(); ++i)
        last = add_i64(last, mul_i64(shape[i] - 1, strides[i], "tensor extent"), "tensor extent");
      const int64_t end_byte = mul_i64(add_i64(last, 1, "tensor extent"), es, "tensor extent");
      if (static_cast<uint64_t>(end_byte) > storage.nbytes())
        corrupt("tensor extent (" + std::to_string(end_byte) + " bytes) exceeds its storage (" +
                std::to_string(storage.nbytes()) + " bytes)");
    }
    Tensor t;
    t.storage_ = std::move(storage);
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.strides_ = std::move(strides);
    t.offset_ = storage_offset;
    return t;
  });
}

Result<Tensor> Tensor::contiguous_over(Storage storage, DType dtype, std::vector<int64_t> shape) {
  return guard(nullptr, "", [&] {
    std::vector<int64_t> strides(shape.size());
    int64_t run = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      strides[i] = run;
      if (shape[i] < 0) corrupt("negative size in dimension " + std::to_string(i));
      run = mul_i64(run, shape[i], "tensor element count");
    }
    const uint64_t nbytes = mul_u64(static_cast<uint64_t>(run), dtype_size(dtype));
    if (nbytes != storage.nbytes())
      corrupt("tensor needs " + std::to_string(nbytes) + " bytes but has " +
              std::to_string(storage.nbytes()));
    return unwrap(make(std::move(storage), dtype, std::move(shape), std::move(strides), 0));
  });
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape_) n *= s;  // checked in make()
  return n;
}

bool Tensor::is_contiguous() const {
  int64_t run = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 0) return true;
    if (shape_[i] != 1 && strides_[i] != run) return false;
    run *= shape_[i];
  }
  return true;
}

const std::byte* Tensor::data() const {
  return storage_.data() + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

Result<Tensor> Tensor::contiguous(uint64_t max_bytes) const {
  if (is_contiguous() && storage_.nbytes() == nbytes() && offset_ == 0) return *this;
  return guard(nullptr, "", [&] {
    const uint64_t n = mul_u64(static_cast<uint64_t>(numel()), dtype_size(dtype_));
    if (n > max_bytes) over_limit("tensor.max_bytes", max_bytes, n, "materialising the tensor");
    Storage s = unwrap(Storage::allocate(n));
    std::byte* out = s.mutable_data();
    for_each_chunk([&](const std::byte* p, size_t len) {
      std::memcpy(out, p, len);
      out += len;
    });
    return unwrap(contiguous_over(std::move(s), dtype_, shape_));
  });
}

std::string sha256_hex(const Tensor& t) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  t.for_each_chunk([&](const std::byte* p, size_t n) { EVP_DigestUpdate(ctx, p, n); });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hex[md[i] >> 4];
    s += hex[md[i] & 15];
  }
  return s;
}

}  // namespace torchless
