#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/check.h"

namespace torchless {
namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  fail(Error(Error::Code::kIo, what + ": " + std::strerror(errno)).path(path));
}

}  // namespace

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

void fsync_dir(const std::string& dir, const std::string& what_path) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) io_error("cannot open the directory to fsync it", what_path);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) io_error("fsync of the directory failed", what_path);
}

AtomicFile::AtomicFile(std::string path, std::function<void(uint64_t)> progress)
    : path_(std::move(path)), progress_(std::move(progress)) {
  const size_t slash = path_.rfind('/');
  const std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  tmp_ = dir_of(path_) + "/." + base + ".tmp-XXXXXX";
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) io_error("cannot create a temporary file next to it", path_);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  // In chunks of 16 MiB: after each, writeback of it starts (a hint, so commit()'s fsync has
  // little left to wait for) and progress is reported.
  constexpr size_t kChunk = size_t{16} << 20;
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const size_t want = std::min(n, kChunk - static_cast<size_t>(offset_ - flushed_));
    const ssize_t w = ::write(fd_, p, want);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) io_error("write failed", path_);
    p += w;
    n -= static_cast<size_t>(w);
    offset_ += static_cast<uint64_t>(w);
    if (offset_ - flushed_ == kChunk) {
      ::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(kChunk), SYNC_FILE_RANGE_WRITE);
      flushed_ = offset_;
      if (progress_) progress_(offset_);
    }
  }
}

void AtomicFile::reserve(uint64_t n) {
  // FALLOC_FL_KEEP_SIZE: the size still grows with the writes, so a killed writer's temporary
  // file shows how far it got. Filesystems without fallocate just skip the hint.
  if (n > offset_ && ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(n)) == 0) reserved_ = n;
}

void AtomicFile::write_zeros(size_t n) {
  static const char zeros[4096] = {};
  while (n > 0) {
    const size_t k = n < sizeof zeros ? n : sizeof zeros;
    write(zeros, k);
    n -= k;
  }
}

void AtomicFile::commit() {
  if (reserved_ > offset_ && ::ftruncate(fd_, static_cast<off_t>(offset_)) != 0) io_error("truncate failed", path_);
  if (progress_) progress_(offset_);
  if (::fchmod(fd_, 0644) != 0) io_error("chmod failed", path_);
  if (::fsync(fd_) != 0) io_error("fsync failed", path_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    io_error("close failed", path_);
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) io_error("rename failed", path_);
  committed_ = true;
  fsync_dir(dir_of(path_), path_);
}

}  // namespace torchless
