// The local filesystem driver: files under a root directory, written with
// temp file + fsync + rename so that a crash never leaves a torn file at a visible path.
#pragma once

#include <string>

#include "storage/blob_driver.h"

namespace dtr::storage {

class FilesystemDriver : public BlobDriver {
 public:
  explicit FilesystemDriver(std::string root);
  std::string name() const override { return "filesystem"; }

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

  const std::string& root() const { return root_; }

 private:
  Result<std::string> Full(const std::string& path) const;
  std::string root_;
};

// Path helpers shared with the NFS driver, which keeps the same layout on a remote disk.
// The folder holding `path` ("/" for a top-level name).
std::string ParentDir(const std::string& path);
// A unique suffix for a temporary file beside its target; List hides names holding ".tmp-".
std::string TempSuffix();
// kInvalidArgument unless `path` is absolute with no "." or ".." component.
Status CheckPath(const std::string& path);

// Creates every missing directory of `dir` (like mkdir -p).
Status MakeDirs(const std::string& dir);
// fsyncs a directory so that a rename or create inside it survives a crash.
Status SyncDir(const std::string& dir);

}  // namespace dtr::storage
