// The NFS driver: speaks NFSv3 itself through libnfs, so no kernel mount is needed. Files
// live below the root given by the URL (nfs://HOST/EXPORT/PATH). Writes follow the
// filesystem driver: PutContent writes a temporary file, COMMITs it (fsync) and renames it
// over the target; a writer appends in place and Commit sends COMMIT; Move is RENAME.
// NFSv3 servers make namespace operations (CREATE, MKDIR, RENAME, REMOVE) stable before
// they reply, so a rename that returned has survived.
//
// libnfs 4.0 contexts are not thread safe: the driver holds a few connections, each used by
// one operation at a time; a reader or writer keeps the connection its file was opened on.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/blob_driver.h"
#include "storage/nfs_config.h"

namespace dtr::storage {

struct NfsConnection;

class NfsDriver : public BlobDriver {
 public:
  // Mounts the export (the longest prefix of the URL's path the server lets us mount) and
  // creates the root below it when missing.
  static Result<std::unique_ptr<NfsDriver>> Open(NfsConfig config);
  ~NfsDriver() override;
  std::string name() const override { return "nfs"; }

  Result<std::string> GetContent(const std::string& path) override;
  Status PutContent(const std::string& path, std::string_view content) override;
  Result<std::unique_ptr<FileReader>> Reader(const std::string& path, uint64_t offset) override;
  Result<std::unique_ptr<FileWriter>> Writer(const std::string& path, bool append) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<std::vector<std::string>> List(const std::string& path) override;
  Status Move(const std::string& from, const std::string& to) override;
  Status Delete(const std::string& path) override;
  Status Walk(const std::string& path,
              const std::function<Status(const FileInfo&)>& visit) override;

 private:
  explicit NfsDriver(NfsConfig config) : config_(std::move(config)) {}
  // A connection for one operation (round robin; opened on first use, and again once an
  // operation on it lost the server).
  Result<std::shared_ptr<NfsConnection>> Connection();
  Result<std::shared_ptr<NfsConnection>> Connect() const;
  // The path on the export: the root plus `path`; kInvalidArgument for a bad path.
  Result<std::string> Full(const std::string& path) const;
  // A connection held for one operation on `path` (mapped by Full).
  struct Held {
    std::shared_ptr<NfsConnection> conn;
    std::unique_lock<std::mutex> lock;
    std::string full;
  };
  Result<Held> Hold(const std::string& path);
  Result<std::vector<FileInfo>> ListInfo(const std::string& path);

  NfsConfig config_;
  std::string export_;  // what is mounted
  std::string root_;    // below the export: "" or "/a/b"
  std::mutex mu_;
  std::vector<std::shared_ptr<NfsConnection>> connections_;
  std::atomic<size_t> next_{0};
};

}  // namespace dtr::storage
