#include "storage/nfs_driver.h"

#include "storage/filesystem_driver.h"

// clang-format off
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw-nfs.h>
// clang-format on

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dtr::storage {

struct NfsConnection {
  std::mutex mu;  // libnfs contexts are not thread safe
  nfs_context* ctx = nullptr;
  uint64_t read_max = 1 << 20;
  uint64_t write_max = 1 << 20;
  std::string server;  // "HOST:/EXPORT", for messages
  // Set when an operation lost the server: libnfs does not recover such a context once its
  // reconnects failed, so the driver mounts a fresh one instead of using this one again.
  std::atomic<bool> broken{false};
  ~NfsConnection() {
    if (ctx != nullptr) nfs_destroy_context(ctx);
  }
};

namespace {

// Whether a failed call lost the server rather than got its answer. libnfs 4.0's
// synchronous calls report a lost or refused connection as -EIO with their own message
// ("nfs_service failed"; an NFS3ERR_IO answer names that status instead), a failed RPC
// (e.g. a reconnect that did not succeed) as -EFAULT and an RPC that timed out as -EINTR.
bool LostServer(int e, const std::string& detail) {
  switch (e) {
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case EFAULT:
    case EINTR:
      return true;
    case EIO:
      return detail.find("NFS3ERR") == std::string::npos;
    default:
      return false;
  }
}

// libnfs answers -errno and keeps a message in the context. A lost server marks the
// connection broken and is kUnavailable, naming the server.
Status Fail(NfsConnection& c, int rc, const std::string& what, const std::string& path) {
  int e = -rc;
  if (e == ENOENT || e == ENOTDIR) return NotFound(path + ": no such file or directory");
  if (e == EISDIR) return NotFound(path + " is a directory, not a file");
  const char* err = c.ctx != nullptr ? nfs_get_error(c.ctx) : nullptr;
  std::string detail = err != nullptr ? err : std::strerror(e);
  if (e == ENOSPC) return IOError(what + " " + path + ": the NFS server's disk is full");
  if (LostServer(e, detail)) {
    c.broken = true;
    return Status(Code::kUnavailable, "nfs " + what + " " + path + ": NFS server " + c.server +
                                          " unavailable: " + detail);
  }
  return IOError("nfs " + what + " " + path + ": " + detail);
}

std::chrono::system_clock::time_point Time(uint64_t sec, uint64_t nsec) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(sec) + std::chrono::nanoseconds(nsec)));
}

// mkdir -p on the export (paths relative to the mount).
Status MakeDirs(NfsConnection& c, const std::string& dir) {
  if (dir.empty() || dir == "/") return Status::Ok();
  int rc = nfs_mkdir2(c.ctx, dir.c_str(), 0755);
  if (rc == -ENOENT) {
    if (Status s = MakeDirs(c, ParentDir(dir)); !s.ok()) return s;
    rc = nfs_mkdir2(c.ctx, dir.c_str(), 0755);
  }
  if (rc == 0 || rc == -EEXIST) return Status::Ok();
  return Fail(c, rc, "mkdir", dir);
}

Status WriteAt(NfsConnection& c, nfsfh* fh, uint64_t offset, const char* p, size_t n,
               const std::string& path) {
  while (n > 0) {
    uint64_t k = std::min<uint64_t>(n, c.write_max);
    int rc = nfs_pwrite(c.ctx, fh, offset, k, p);
    if (rc < 0) return Fail(c, rc, "write", path);
    if (rc == 0) return IOError("nfs write " + path + ": the server wrote nothing");
    offset += static_cast<uint64_t>(rc);
    p += rc;
    n -= static_cast<size_t>(rc);
  }
  return Status::Ok();
}

Status RemoveTree(NfsConnection& c, const std::string& full) {
  nfs_context* ctx = c.ctx;
  nfs_stat_64 st{};
  if (int rc = nfs_lstat64(ctx, full.c_str(), &st); rc < 0) return Fail(c, rc, "stat", full);
  if (!S_ISDIR(st.nfs_mode)) {
    int rc = nfs_unlink(ctx, full.c_str());
    return rc == 0 || rc == -ENOENT ? Status::Ok() : Fail(c, rc, "unlink", full);
  }
  nfsdir* dir = nullptr;
  if (int rc = nfs_opendir(ctx, full.c_str(), &dir); rc < 0) return Fail(c, rc, "list", full);
  std::vector<std::string> names;
  while (nfsdirent* e = nfs_readdir(ctx, dir)) {
    if (std::strcmp(e->name, ".") != 0 && std::strcmp(e->name, "..") != 0) {
      names.emplace_back(e->name);
    }
  }
  nfs_closedir(ctx, dir);
  for (const auto& n : names) {
    Status s = RemoveTree(c, full + "/" + n);
    if (!s.ok() && !s.is(Code::kNotFound)) return s;
  }
  int rc = nfs_rmdir(ctx, full.c_str());
  return rc == 0 || rc == -ENOENT ? Status::Ok() : Fail(c, rc, "rmdir", full);
}

struct OpenFile {
  nfsfh* fh;
  uint64_t size;
};

// Opens a file (not a folder) to read; the caller closes it.
Result<OpenFile> OpenToRead(NfsConnection& c, const std::string& full, const std::string& path) {
  nfsfh* fh = nullptr;
  if (int rc = nfs_open(c.ctx, full.c_str(), O_RDONLY, &fh); rc < 0) {
    return Fail(c, rc, "open", path);
  }
  nfs_stat_64 st{};
  Status s;
  if (int rc = nfs_fstat64(c.ctx, fh, &st); rc < 0) {
    s = Fail(c, rc, "stat", path);
  } else if (S_ISDIR(st.nfs_mode)) {
    s = NotFound(path + " is a directory, not a file");
  }
  if (!s.ok()) {
    nfs_close(c.ctx, fh);
    return s;
  }
  return OpenFile{fh, st.nfs_size};
}

class NfsReader : public FileReader {
 public:
  NfsReader(std::shared_ptr<NfsConnection> c, nfsfh* fh, std::string path, uint64_t offset)
      : c_(std::move(c)), fh_(fh), path_(std::move(path)), offset_(offset) {}
  ~NfsReader() override {
    std::lock_guard lock(c_->mu);
    nfs_close(c_->ctx, fh_);
  }
  Result<size_t> Read(char* buf, size_t n) override {
    std::lock_guard lock(c_->mu);
    int rc = nfs_pread(c_->ctx, fh_, offset_, std::min<uint64_t>(n, c_->read_max), buf);
    if (rc < 0) return Fail(*c_, rc, "read", path_);
    offset_ += static_cast<uint64_t>(rc);
    return static_cast<size_t>(rc);
  }

 private:
  std::shared_ptr<NfsConnection> c_;
  nfsfh* fh_;
  std::string path_;
  uint64_t offset_;
};

// Buffers up to one WRITE's worth, so that small writes do not each cost a round trip.
class NfsWriter : public FileWriter {
 public:
  NfsWriter(std::shared_ptr<NfsConnection> c, nfsfh* fh, std::string path, std::string full,
            uint64_t size)
      : c_(std::move(c)), fh_(fh), path_(std::move(path)), full_(std::move(full)), flushed_(size) {}
  ~NfsWriter() override { Close(); }

  Status Write(const char* data, size_t n) override {
    if (fh_ == nullptr) return Status(Code::kFailedPrecondition, "writer is closed");
    buf_.append(data, n);
    return buf_.size() >= c_->write_max ? Flush() : Status::Ok();
  }
  uint64_t size() const override { return flushed_ + buf_.size(); }
  Status Close() override {
    if (fh_ == nullptr) return Status::Ok();
    Status s = Flush();
    std::lock_guard lock(c_->mu);
    int rc = nfs_close(c_->ctx, fh_);
    fh_ = nullptr;
    if (s.ok() && rc < 0) s = Fail(*c_, rc, "close", path_);
    return s;
  }
  Status Commit() override {
    if (fh_ == nullptr) return Status(Code::kFailedPrecondition, "writer is closed");
    Status s = Flush();
    if (s.ok()) {
      std::lock_guard lock(c_->mu);
      if (int rc = nfs_fsync(c_->ctx, fh_); rc < 0) s = Fail(*c_, rc, "commit", path_);
    }
    Status closed = Close();
    return s.ok() ? closed : s;
  }
  Status Cancel() override {
    buf_.clear();
    Close();
    std::lock_guard lock(c_->mu);
    int rc = nfs_unlink(c_->ctx, full_.c_str());
    return rc == 0 || rc == -ENOENT ? Status::Ok() : Fail(*c_, rc, "unlink", path_);
  }

 private:
  Status Flush() {
    if (buf_.empty()) return Status::Ok();
    std::lock_guard lock(c_->mu);
    Status s = WriteAt(*c_, fh_, flushed_, buf_.data(), buf_.size(), path_);
    if (s.ok()) flushed_ += buf_.size();
    buf_.clear();
    return s;
  }

  std::shared_ptr<NfsConnection> c_;
  nfsfh* fh_;
  std::string path_;
  std::string full_;
  uint64_t flushed_;
  std::string buf_;
};

}  // namespace

Result<std::unique_ptr<NfsDriver>> NfsDriver::Open(NfsConfig config) {
  std::unique_ptr<NfsDriver> d(new NfsDriver(std::move(config)));
  const std::string& path = d->config_.path;
  d->connections_.resize(static_cast<size_t>(d->config_.connections));
  // The URL names the export and maybe a folder below it: mount the longest prefix the
  // server accepts (a folder that does not exist yet is refused like a forbidden one).
  Status first;
  for (std::string mount = path;; mount = ParentDir(mount)) {
    d->export_ = mount;
    auto c = d->Connect();
    if (c.ok()) {
      d->connections_[0] = *c;
      break;
    }
    if (first.ok()) first = c.status();
    if (!c.status().is(Code::kPermissionDenied) || mount == "/") return first;
  }
  d->root_ = d->export_ == "/" ? path : path.substr(d->export_.size());
  if (d->root_ == "/") d->root_.clear();
  if (!d->root_.empty()) {
    NfsConnection& c = *d->connections_[0];
    std::lock_guard lock(c.mu);
    if (Status s = MakeDirs(c, d->root_); !s.ok()) return s;
  }
  return d;
}

NfsDriver::~NfsDriver() = default;

Result<std::shared_ptr<NfsConnection>> NfsDriver::Connect() const {
  auto c = std::make_shared<NfsConnection>();
  c->server = config_.server + ":" + export_;
  c->ctx = nfs_init_context();
  if (c->ctx == nullptr) return Status(Code::kInternal, "nfs: cannot create a libnfs context");
  // libnfs's own URL options (uid, gid, nfsport, ...) go into the context.
  nfs_url* url = nfs_parse_url_dir(c->ctx, config_.url.c_str());
  if (url == nullptr) {
    return InvalidArgument("storage.nfs.url: " + std::string(nfs_get_error(c->ctx)));
  }
  nfs_destroy_url(url);
  nfs_set_version(c->ctx, NFS_V3);
  // Other connections and other processes change the tree: never trust a cached listing.
  nfs_set_dircache(c->ctx, 0);
  int secs = static_cast<int>(std::max<int64_t>(1, config_.timeout.count() / 1000));
  nfs_set_timeout(c->ctx, secs * 1000);
  nfs_set_autoreconnect(c->ctx, config_.max_retries);
  if (config_.uid) nfs_set_uid(c->ctx, *config_.uid);
  if (config_.gid) nfs_set_gid(c->ctx, *config_.gid);
  if (int rc = nfs_mount(c->ctx, config_.server.c_str(), export_.c_str()); rc < 0) {
    std::string err = nfs_get_error(c->ctx);
    std::string msg = "nfs: cannot mount " + export_ + " from " + config_.server + ": " + err;
    if (err.find("MNT3ERR_") != std::string::npos) return Status(Code::kPermissionDenied, msg);
    return Status(Code::kUnavailable, msg);
  }
  if (uint64_t m = nfs_get_readmax(c->ctx); m > 0) c->read_max = std::min<uint64_t>(m, 4 << 20);
  if (uint64_t m = nfs_get_writemax(c->ctx); m > 0) c->write_max = std::min<uint64_t>(m, 4 << 20);
  return c;
}

Result<std::shared_ptr<NfsConnection>> NfsDriver::Connection() {
  size_t i = next_.fetch_add(1) % connections_.size();
  std::lock_guard lock(mu_);
  if (!connections_[i] || connections_[i]->broken) {
    auto c = Connect();
    if (!c.ok()) return c.status();
    connections_[i] = *c;
  }
  return connections_[i];
}

Result<std::string> NfsDriver::Full(const std::string& path) const {
  if (Status s = CheckPath(path); !s.ok()) return s;
  std::string full = root_ + (path == "/" ? "" : path);
  return full.empty() ? "/" : full;
}

Result<NfsDriver::Held> NfsDriver::Hold(const std::string& path) {
  auto full = Full(path);
  if (!full.ok()) return full.status();
  auto conn = Connection();
  if (!conn.ok()) return conn.status();
  std::unique_lock lock((*conn)->mu);
  return Held{std::move(*conn), std::move(lock), std::move(*full)};
}

Result<std::string> NfsDriver::GetContent(const std::string& path) {
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  auto file = OpenToRead(c, held->full, path);
  if (!file.ok()) return file.status();
  Status s;
  std::string out(file->size, '\0');
  uint64_t at = 0;
  while (true) {
    if (at == out.size()) out.resize(out.size() + (1 << 16));  // it grew meanwhile
    uint64_t want = std::min<uint64_t>(out.size() - at, c.read_max);
    int got = nfs_pread(c.ctx, file->fh, at, want, out.data() + at);
    if (got < 0) s = Fail(c, got, "read", path);
    if (got <= 0) break;
    at += static_cast<uint64_t>(got);
  }
  out.resize(at);
  nfs_close(c.ctx, file->fh);
  if (!s.ok()) return s;
  return out;
}

Status NfsDriver::PutContent(const std::string& path, std::string_view content) {
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  const std::string* full = &held->full;
  if (Status s = MakeDirs(c, ParentDir(*full)); !s.ok()) return s;
  std::string tmp = *full + TempSuffix();
  nfsfh* fh = nullptr;
  if (int rc = nfs_create(c.ctx, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644, &fh); rc < 0) {
    return Fail(c, rc, "create", path);
  }
  Status s = WriteAt(c, fh, 0, content.data(), content.size(), path);
  if (s.ok()) {
    if (int rc = nfs_fsync(c.ctx, fh); rc < 0) s = Fail(c, rc, "commit", path);
  }
  if (int rc = nfs_close(c.ctx, fh); rc < 0 && s.ok()) s = Fail(c, rc, "close", path);
  if (s.ok()) {
    if (int rc = nfs_rename(c.ctx, tmp.c_str(), full->c_str()); rc < 0) {
      s = Fail(c, rc, "rename", path);
      if (s.is(Code::kNotFound)) s = IOError("nfs rename " + path + ": " + s.message());
    }
  }
  if (!s.ok()) nfs_unlink(c.ctx, tmp.c_str());
  return s;
}

Result<std::unique_ptr<FileReader>> NfsDriver::Reader(const std::string& path, uint64_t offset) {
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  auto file = OpenToRead(c, held->full, path);
  if (!file.ok()) return file.status();
  if (offset > file->size) {
    nfs_close(c.ctx, file->fh);
    return Status(Code::kOutOfRange,
                  "offset " + std::to_string(offset) + " is past the end of " + path);
  }
  return std::unique_ptr<FileReader>(new NfsReader(held->conn, file->fh, path, offset));
}

Result<std::unique_ptr<FileWriter>> NfsDriver::Writer(const std::string& path, bool append) {
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  const std::string* full = &held->full;
  nfsfh* fh = nullptr;
  uint64_t size = 0;
  if (append) {
    if (int rc = nfs_open(c.ctx, full->c_str(), O_WRONLY, &fh); rc < 0) {
      return Fail(c, rc, "open", path);
    }
    nfs_stat_64 st{};
    if (int rc = nfs_fstat64(c.ctx, fh, &st); rc < 0) {
      Status s = Fail(c, rc, "stat", path);
      nfs_close(c.ctx, fh);
      return s;
    }
    size = st.nfs_size;
  } else {
    if (Status s = MakeDirs(c, ParentDir(*full)); !s.ok()) return s;
    int flags = O_WRONLY | O_CREAT | O_TRUNC;
    if (int rc = nfs_create(c.ctx, full->c_str(), flags, 0644, &fh); rc < 0) {
      return Fail(c, rc, "create", path);
    }
  }
  return std::unique_ptr<FileWriter>(new NfsWriter(held->conn, fh, path, *full, size));
}

Result<FileInfo> NfsDriver::Stat(const std::string& path) {
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  const std::string* full = &held->full;
  nfs_stat_64 st{};
  if (int rc = nfs_stat64(c.ctx, full->c_str(), &st); rc < 0) return Fail(c, rc, "stat", path);
  FileInfo fi;
  fi.path = path;
  fi.is_dir = S_ISDIR(st.nfs_mode);
  fi.size = fi.is_dir ? 0 : st.nfs_size;
  fi.mod_time = Time(st.nfs_mtime, st.nfs_mtime_nsec);
  return fi;
}

Result<std::vector<FileInfo>> NfsDriver::ListInfo(const std::string& path) {
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  const std::string* full = &held->full;
  nfsdir* dir = nullptr;
  if (int rc = nfs_opendir(c.ctx, full->c_str(), &dir); rc < 0) {
    return Fail(c, rc, "list", path);
  }
  std::vector<FileInfo> out;
  std::string prefix = path == "/" ? "/" : path + "/";
  // READDIRPLUS brings each entry's attributes: no lookup per child.
  while (nfsdirent* e = nfs_readdir(c.ctx, dir)) {
    if (std::strcmp(e->name, ".") == 0 || std::strcmp(e->name, "..") == 0) continue;
    if (std::strstr(e->name, ".tmp-") != nullptr) continue;  // in-flight PutContent
    FileInfo fi;
    fi.path = prefix + e->name;
    fi.is_dir = e->type == NF3DIR;
    fi.size = fi.is_dir ? 0 : e->size;
    fi.mod_time = Time(static_cast<uint64_t>(e->mtime.tv_sec), e->mtime_nsec);
    out.push_back(std::move(fi));
  }
  nfs_closedir(c.ctx, dir);
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

Result<std::vector<std::string>> NfsDriver::List(const std::string& path) {
  auto infos = ListInfo(path);
  if (!infos.ok()) return infos.status();
  std::vector<std::string> out;
  out.reserve(infos->size());
  for (auto& fi : *infos) out.push_back(std::move(fi.path));
  return out;
}

Status NfsDriver::Move(const std::string& from, const std::string& to) {
  auto dst = Full(to);
  if (!dst.ok()) return dst.status();
  auto held = Hold(from);
  if (!held.ok()) return held.status();
  NfsConnection& c = *held->conn;
  const std::string* src = &held->full;
  int rc = nfs_rename(c.ctx, src->c_str(), dst->c_str());
  if (rc == -ENOENT) {
    // Either the source is missing or the destination's folder is: tell which.
    nfs_stat_64 st{};
    if (int s = nfs_lstat64(c.ctx, src->c_str(), &st); s < 0) return Fail(c, s, "move", from);
    if (Status s = MakeDirs(c, ParentDir(*dst)); !s.ok()) return s;
    rc = nfs_rename(c.ctx, src->c_str(), dst->c_str());
  }
  return rc == 0 ? Status::Ok() : Fail(c, rc, "move", from);
}

Status NfsDriver::Delete(const std::string& path) {
  if (path == "/") return InvalidArgument("refusing to delete the storage root");
  auto held = Hold(path);
  if (!held.ok()) return held.status();
  Status s = RemoveTree(*held->conn, held->full);
  return s.is(Code::kNotFound) ? NotFound(path + ": no such file or directory") : s;
}

Status NfsDriver::Walk(const std::string& path,
                       const std::function<Status(const FileInfo&)>& visit) {
  auto children = ListInfo(path);
  if (!children.ok()) return children.status();
  for (const auto& fi : *children) {
    if (Status s = visit(fi); !s.ok()) return s;
    if (fi.is_dir) {
      // A folder removed while walking is skipped.
      if (Status s = Walk(fi.path, visit); !s.ok() && !s.is(Code::kNotFound)) return s;
    }
  }
  return Status::Ok();
}

}  // namespace dtr::storage
