// BlobDriver: the seam between the registry and where bytes live (local disk, NFS, object
// stores). Paths are absolute, '/'-separated, driver-relative ("/docker/registry/v2/...").
// Drivers never see HTTP; every implementation must pass storage/driver_suite.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::storage {

struct FileInfo {
  std::string path;
  uint64_t size = 0;
  bool is_dir = false;
  std::chrono::system_clock::time_point mod_time;
};

class FileReader {
 public:
  virtual ~FileReader() = default;
  // Bytes read, 0 at the end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // A local file descriptor positioned nowhere in particular (use pread/sendfile with an
  // explicit offset), or -1 when the content is not a local file.
  virtual int native_fd() const { return -1; }
};

// Appends to a file that becomes visible and durable at its path only on Commit.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  virtual Status Write(const char* data, size_t n) = 0;
  // Bytes in the file, including what was there when it was opened for append.
  virtual uint64_t size() const = 0;
  // Flushes and releases the writer; the content can be appended to later.
  virtual Status Close() = 0;
  // Makes the content durable (fsync on disks, complete multipart on object stores).
  virtual Status Commit() = 0;
  // Discards the content.
  virtual Status Cancel() = 0;
};

class BlobDriver {
 public:
  virtual ~BlobDriver() = default;
  virtual std::string name() const = 0;

  // Whole small objects. PutContent replaces atomically and durably.
  virtual Result<std::string> GetContent(const std::string& path) = 0;
  virtual Status PutContent(const std::string& path, std::string_view content) = 0;

  // Reads from `offset`; kNotFound when missing, kOutOfRange past the end.
  virtual Result<std::unique_ptr<FileReader>> Reader(const std::string& path, uint64_t offset) = 0;
  // Opens for writing; append=true continues an existing file (kNotFound if missing when
  // append is asked for), append=false truncates.
  virtual Result<std::unique_ptr<FileWriter>> Writer(const std::string& path, bool append) = 0;

  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Direct children of a directory, as full paths, sorted. kNotFound when missing.
  virtual Result<std::vector<std::string>> List(const std::string& path) = 0;
  // Moves a file, replacing the destination; durable on return.
  virtual Status Move(const std::string& from, const std::string& to) = 0;
  // Deletes a file or a directory tree. kNotFound when missing.
  virtual Status Delete(const std::string& path) = 0;
  // Visits every file and directory below `path`, depth first, sorted.
  virtual Status Walk(const std::string& path,
                      const std::function<Status(const FileInfo&)>& visit) = 0;
  // A URL a client can fetch the file from directly (a presigned URL on object stores),
  // valid for `expires`; kUnsupported where there is none (local disks).
  virtual Result<std::string> URLFor(const std::string& path, std::string_view method,
                                     std::chrono::seconds expires) {
    (void)path;
    (void)method;
    (void)expires;
    return Status(Code::kUnsupported, name() + " storage cannot hand out URLs");
  }
};

}  // namespace dtr::storage
