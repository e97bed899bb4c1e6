// The S3 driver (and `cleversafe`, the same with IBM COS defaults): the BlobDriver contract
// over any store that speaks the S3 API (AWS, Swift's s3api, IBM COS, MinIO, s3rver).
//
// How files map to objects, under the configured root directory:
// - A file written with PutContent, or assembled by Move, is one object at its key.
// - A file written through Writer is kept, until it is moved, as fixed-size segment objects
//   (`<key>#dtr.seg/<generation>/<n>`, each `chunksize` bytes) plus a sidecar object
//   (`<key>#dtr.writer`) whose body is the tail below one chunk and whose metadata counts
//   the segments. So an upload survives a restart (a new Writer resumes from the sidecar),
//   its bytes stay readable while in progress (the registry re-hashes them after a restart;
//   S3 cannot read the parts of an unfinished multipart upload), and Commit only has to
//   persist the tail. Move assembles the segments at the destination with one server-side
//   multipart copy (UploadPartCopy; a client-side copy where the store lacks it), so a
//   pushed blob is copied once, like distribution's driver does.
// - Directories are key prefixes. Names holding "#dtr." are reserved for the above.
// Memory per writer is bounded by (uploadconcurrency + 1) chunks; a reader holds two 4 MiB
// windows (one fetched ahead). Every request has timeouts; idempotent ones are retried with
// backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/blob_driver.h"
#include "storage/object_store_common.h"
#include "storage/s3_client.h"
#include "storage/s3_config.h"
#include "storage/s3_xml.h"

namespace dtr::storage {

class S3Driver : public BlobDriver, public objstore::SegmentStore {
 public:
  explicit S3Driver(S3Config config);
  std::string name() const override { return client_.config().driver; }

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
  Result<std::string> URLFor(const std::string& path, std::string_view method,
                             std::chrono::seconds expires) override;

  // Creates the bucket if it does not exist (for tests and first-time setups; the driver
  // itself never creates buckets).
  Status CreateBucket();
  S3Client& client() { return client_; }

  // ---- used by the reader and writer (s3_files.cc) ----
  using Segmented = objstore::Segmented;
  std::string Key(const std::string& path) const;
  static std::string SidecarKey(const std::string& key);
  static std::string SegmentKey(const std::string& key, const std::string& gen, uint64_t n);
  Result<std::optional<Segmented>> HeadSegmented(const std::string& key);
  // Size and mtime of a plain object, nullopt when it does not exist.
  Result<std::optional<FileInfo>> HeadObject(const std::string& key);
  Status PutObject(const std::string& op, const std::string& key, std::string_view body,
                   std::vector<std::pair<std::string, std::string>> headers = {});
  Status DeleteKeys(const std::vector<std::string>& keys);
  uint64_t chunk_size() const { return client_.config().chunk_size; }

  // objstore::SegmentStore
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Status PutSegment(const std::string& key, const std::string& gen, uint64_t n,
                    std::string_view bytes) override;
  Status PutSidecar(const std::string& key, const Segmented& s, std::string_view tail) override;
  // Removes every form of the file at `key` (object, sidecar, segments); true if any existed.
  Result<bool> DeleteFile(const std::string& key) override;
  int upload_concurrency() const override { return client_.config().upload_concurrency; }

 private:
  Result<std::string> CheckedKey(const std::string& path) const;
  // Every listing page under `prefix` (with "/" as delimiter when `delimited`).
  Status ListPages(const std::string& prefix, bool delimited, int max_keys,
                   const std::function<bool(const s3xml::Listing&)>& page);
  Status CopyObject(const std::string& src, const std::string& dst, uint64_t size);
  // A multipart upload at `dst` whose parts are `sources` (key, offset, length), copied on
  // the server where it can, through this process where it cannot.
  struct PartSource {
    std::string key;
    uint64_t offset = 0;
    uint64_t length = 0;
    bool whole = false;  // the entire object `key` (no range header)
  };
  Status MultipartCopy(const std::string& dst, const std::vector<PartSource>& sources);
  Status Assemble(const std::string& src_key, const Segmented& s, const std::string& dst);
  std::vector<std::pair<std::string, std::string>> WriteHeaders() const;

  S3Client client_;
  std::atomic<bool> part_copy_unsupported_{false};
  std::atomic<bool> multi_delete_unsupported_{false};
};

}  // namespace dtr::storage
