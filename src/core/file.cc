#include "core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/check.h"

namespace torchless {

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const std::string& path, bool map) {
  return guard(nullptr, path, [&]() -> std::shared_ptr<const MappedFile> {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      struct stat st {};
      if (err != ENOENT && ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        fail(Error::Code::kUnsupported, "not a regular file");  // sockets refuse open() itself
      fail(err == ENOENT ? Error::Code::kNotFound : Error::Code::kIo,
           std::string("cannot open: ") + std::strerror(err));
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(Error::Code::kIo, std::string("fstat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(Error::Code::kUnsupported, "not a regular file");
    if (st.st_size == 0) corrupt("empty file");
    std::shared_ptr<MappedFile> f(new MappedFile());
    f->path_ = path;
    f->size_ = static_cast<uint64_t>(st.st_size);
    if (map) {
      void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) fail(Error::Code::kIo, std::string("mmap: ") + std::strerror(errno));
      f->data_ = static_cast<const std::byte*>(p);
      f->mapped_ = true;
    } else {
      f->owned_.resize(f->size_);
      uint64_t done = 0;
      while (done < f->size_) {
        const ssize_t r = ::pread(fd, f->owned_.data() + done, f->size_ - done, static_cast<off_t>(done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail(Error::Code::kIo, std::string("read: ") + std::strerror(errno));
        if (r == 0) corrupt_at("file shrank while being read", done);
        done += static_cast<uint64_t>(r);
      }
      f->data_ = reinterpret_cast<const std::byte*>(f->owned_.data());
    }
    return f;
  });
}

std::shared_ptr<const MappedFile> MappedFile::from_bytes(std::string name, std::string bytes) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = std::move(name);
  f->owned_ = std::move(bytes);
  f->size_ = f->owned_.size();
  f->data_ = reinterpret_cast<const std::byte*>(f->owned_.data());
  return f;
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<std::byte*>(data_), size_);
}

Storage MappedFile::storage(const std::shared_ptr<const MappedFile>& file, uint64_t off, uint64_t n) {
  if (!in_range(off, n, file->size_)) throw Error(Error::Code::kInternal, "storage range outside the file");
  return Storage::wrap(file->data_ + off, n, file);
}


}  // namespace torchless
