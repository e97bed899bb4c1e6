#include "storage/filesystem_driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace dtr::storage {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  int e = errno;
  if (e == ENOENT || e == ENOTDIR) return NotFound(path + ": no such file or directory");
  if (e == ENOSPC) return IOError(what + " " + path + ": the disk is full");
  return IOError(what + " " + path + ": " + std::strerror(e));
}

// pwrite until all of [p, p+n) is written at `offset`; the bytes written, and errno set
// when that is short of n.
size_t PwriteAll(int fd, const char* p, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      break;
    }
    done += static_cast<size_t>(w);
  }
  return done;
}

class FsReader : public FileReader {
 public:
  FsReader(int fd, uint64_t offset) : fd_(fd), offset_(offset) {}
  ~FsReader() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset_));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return IOError(std::string("read: ") + std::strerror(errno));
      offset_ += static_cast<uint64_t>(r);
      return static_cast<size_t>(r);
    }
  }
  int native_fd() const override { return fd_; }

 private:
  int fd_;
  uint64_t offset_;
};

// Starts writeback of every kWritebackWindow bytes as soon as they are written, so the
// disk works while the rest arrives and the fsync of Commit has little left to do. Only a
// hint to the kernel: durability still comes from that fsync.
constexpr uint64_t kWritebackWindow = 8 << 20;
// Whole pages handed over page-aligned, at a page-aligned file offset, bypass the page
// cache (O_DIRECT): the disk reads them from the caller's memory instead of the kernel
// copying them first. Upload bodies arrive that way (registry/upload_body.cc); this saved
// about a fifth of the server's CPU in a 1 GiB push. Everything else is written buffered.
constexpr uint64_t kDirectAlign = 4096;

class FsWriter : public FileWriter {
 public:
  FsWriter(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size), writeback_from_(size) {}
  ~FsWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
  }
  Status Write(const char* data, size_t n) override {
    if (fd_ < 0) return Status(Code::kFailedPrecondition, "writer is closed");
    if (n >= kDirectAlign && size_ % kDirectAlign == 0 &&
        reinterpret_cast<uintptr_t>(data) % kDirectAlign == 0 && OpenDirect()) {
      size_t whole = n - n % kDirectAlign;
      size_t w = PwriteAll(direct_fd_, data, whole, size_);
      size_ += w;
      data += w;
      n -= w;
      if (w < whole) {
        // EINVAL: this file system wants other alignment; write buffered from here on.
        if (errno != EINVAL) return Errno("write", path_);
        ::close(direct_fd_);
        direct_fd_ = -1;
        direct_failed_ = true;
      }
    }
    // pwrite at the end, not write: the direct writes do not move fd_'s file position (an
    // O_APPEND fd_ appends either way).
    size_t w = PwriteAll(fd_, data, n, size_);
    size_ += w;
    if (w < n) return Errno("write", path_);
    if (size_ - writeback_from_ >= kWritebackWindow) {
      // Failure only means the writeback waits for Commit.
      ::sync_file_range(fd_, static_cast<off_t>(writeback_from_),
                        static_cast<off_t>(size_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
      writeback_from_ = size_;
    }
    return Status::Ok();
  }
  uint64_t size() const override { return size_; }
  Status Close() override {
    if (direct_fd_ >= 0) ::close(direct_fd_);
    direct_fd_ = -1;
    if (fd_ >= 0 && ::close(fd_) != 0) {
      fd_ = -1;
      return Errno("close", path_);
    }
    fd_ = -1;
    return Status::Ok();
  }
  Status Commit() override {
    if (fd_ < 0) return Status(Code::kFailedPrecondition, "writer is closed");
    // One inode: this also makes the O_DIRECT writes durable (the disk's cache is flushed
    // and the file's new size committed).
    if (::fdatasync(fd_) != 0) return Errno("fsync", path_);
    return Close();
  }
  Status Cancel() override {
    Close();
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path_);
    return Status::Ok();
  }

 private:
  // Whether direct_fd_ is usable, opening it the first time. Some file systems refuse
  // O_DIRECT (EINVAL); those get buffered writes only.
  bool OpenDirect() {
    if (direct_fd_ >= 0) return true;
    if (direct_failed_) return false;
    direct_fd_ = ::open(path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (direct_fd_ < 0) direct_failed_ = true;
    return direct_fd_ >= 0;
  }

  int fd_;
  std::string path_;
  uint64_t size_;
  uint64_t writeback_from_;  // bytes before this have had their writeback started
  int direct_fd_ = -1;       // the same file opened O_DIRECT
  bool direct_failed_ = false;
};

Status RemoveTree(const std::string& full) {
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0) return Errno("stat", full);
  if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(full.c_str());
    if (d == nullptr) return Errno("opendir", full);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    ::closedir(d);
    for (const auto& n : names) {
      Status s = RemoveTree(full + "/" + n);
      if (!s.ok() && !s.is(Code::kNotFound)) return s;
    }
    if (::rmdir(full.c_str()) != 0 && errno != ENOENT) return Errno("rmdir", full);
    return Status::Ok();
  }
  if (::unlink(full.c_str()) != 0 && errno != ENOENT) return Errno("unlink", full);
  return Status::Ok();
}

}  // namespace

std::string ParentDir(const std::string& p) {
  auto slash = p.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

std::string TempSuffix() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(rng() % 1000000);
}

Status CheckPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgument("storage path must be absolute: " + path);
  }
  // Reject traversal: the layout never produces "." or ".." components.
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view comp = std::string_view(path).substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (comp == "." || comp == "..") return InvalidArgument("invalid storage path: " + path);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "/") return Status::Ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::Ok() : IOError(dir + " exists and is not a directory");
  }
  if (Status s = MakeDirs(ParentDir(dir)); !s.ok()) return s;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync", dir);
}

FilesystemDriver::FilesystemDriver(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::string> FilesystemDriver::Full(const std::string& path) const {
  if (Status s = CheckPath(path); !s.ok()) return s;
  return root_ + (path == "/" ? "" : path);
}

Result<std::string> FilesystemDriver::GetContent(const std::string& path) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  int fd = ::open(full->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      Status s =
          errno == EISDIR ? NotFound(path + " is a directory, not a file") : Errno("read", path);
      ::close(fd);
      return s;
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

Status FilesystemDriver::PutContent(const std::string& path, std::string_view content) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  std::string dir = ParentDir(*full);
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  std::string tmp = *full + TempSuffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  Status s;
  if (PwriteAll(fd, content.data(), content.size(), 0) < content.size()) s = Errno("write", path);
  if (s.ok() && ::fdatasync(fd) != 0) s = Errno("fsync", path);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), full->c_str()) != 0) s = Errno("rename", path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(dir);
}

Result<std::unique_ptr<FileReader>> FilesystemDriver::Reader(const std::string& path,
                                                             uint64_t offset) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  int fd = ::open(full->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return NotFound(path + " is not a file");
  }
  if (offset > static_cast<uint64_t>(st.st_size)) {
    ::close(fd);
    return Status(Code::kOutOfRange,
                  "offset " + std::to_string(offset) + " is past the end of " + path);
  }
  return std::unique_ptr<FileReader>(new FsReader(fd, offset));
}

Result<std::unique_ptr<FileWriter>> FilesystemDriver::Writer(const std::string& path, bool append) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  if (!append) {
    if (Status s = MakeDirs(ParentDir(*full)); !s.ok()) return s;
  }
  int flags = O_WRONLY | O_CLOEXEC | (append ? O_APPEND : (O_CREAT | O_TRUNC));
  int fd = ::open(full->c_str(), flags, 0644);
  if (fd < 0) return Errno("open", path);
  uint64_t size = 0;
  if (append) {
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Errno("stat", path);
    }
    size = static_cast<uint64_t>(st.st_size);
  }
  return std::unique_ptr<FileWriter>(new FsWriter(fd, *full, size));
}

Result<FileInfo> FilesystemDriver::Stat(const std::string& path) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  struct stat st;
  if (::stat(full->c_str(), &st) != 0) return Errno("stat", path);
  FileInfo fi;
  fi.path = path;
  fi.is_dir = S_ISDIR(st.st_mode);
  fi.size = fi.is_dir ? 0 : static_cast<uint64_t>(st.st_size);
  fi.mod_time = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                      std::chrono::nanoseconds(st.st_mtim.tv_nsec));
  return fi;
}

Result<std::vector<std::string>> FilesystemDriver::List(const std::string& path) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  DIR* d = ::opendir(full->c_str());
  if (d == nullptr) return Errno("list", path);
  std::vector<std::string> out;
  std::string prefix = path == "/" ? "/" : path + "/";
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) {
      continue;
    }
    if (std::strstr(e->d_name, ".tmp-") != nullptr) continue;  // in-flight PutContent
    out.push_back(prefix + e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status FilesystemDriver::Move(const std::string& from, const std::string& to) {
  auto src = Full(from);
  auto dst = Full(to);
  if (!src.ok()) return src.status();
  if (!dst.ok()) return dst.status();
  std::string dir = ParentDir(*dst);
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  if (::rename(src->c_str(), dst->c_str()) != 0) return Errno("move", from);
  return SyncDir(dir);
}

Status FilesystemDriver::Delete(const std::string& path) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  if (path == "/") return InvalidArgument("refusing to delete the storage root");
  return RemoveTree(*full);
}

Status FilesystemDriver::Walk(const std::string& path,
                              const std::function<Status(const FileInfo&)>& visit) {
  auto children = List(path);
  if (!children.ok()) return children.status();
  for (const auto& child : *children) {
    auto fi = Stat(child);
    if (!fi.ok()) {
      if (fi.status().is(Code::kNotFound)) continue;  // removed while walking
      return fi.status();
    }
    if (Status s = visit(*fi); !s.ok()) return s;
    if (fi->is_dir) {
      if (Status s = Walk(child, visit); !s.ok() && !s.is(Code::kNotFound)) return s;
    }
  }
  return Status::Ok();
}

}  // namespace dtr::storage
