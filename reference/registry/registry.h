// The registry's content model on top of a BlobDriver (the truth, in CNCF distribution's
// layout) and a MetaStore (the index for listings). Knows nothing of HTTP: handlers.cc maps
// it to the OCI distribution API. Errors carry the OCI error code as their tag.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/digest.h"
#include "core/manifest.h"
#include "core/status.h"
#include "meta/meta_store.h"
#include "registry/gc_guard.h"
#include "registry/upload_body.h"
#include "storage/blob_driver.h"

namespace dtr::registry {

// OCI error codes.
namespace oci {
inline constexpr const char* kBlobUnknown = "BLOB_UNKNOWN";
inline constexpr const char* kBlobUploadInvalid = "BLOB_UPLOAD_INVALID";
inline constexpr const char* kBlobUploadUnknown = "BLOB_UPLOAD_UNKNOWN";
inline constexpr const char* kDigestInvalid = "DIGEST_INVALID";
inline constexpr const char* kManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN";
inline constexpr const char* kManifestInvalid = "MANIFEST_INVALID";
inline constexpr const char* kManifestUnknown = "MANIFEST_UNKNOWN";
inline constexpr const char* kNameInvalid = "NAME_INVALID";
inline constexpr const char* kNameUnknown = "NAME_UNKNOWN";
inline constexpr const char* kSizeInvalid = "SIZE_INVALID";
inline constexpr const char* kUnauthorized = "UNAUTHORIZED";
inline constexpr const char* kDenied = "DENIED";
inline constexpr const char* kUnsupported = "UNSUPPORTED";
inline constexpr const char* kTooManyRequests = "TOOMANYREQUESTS";
inline constexpr const char* kRangeInvalid = "RANGE_INVALID";  // 416 on uploads
inline constexpr const char* kPaginationNumberInvalid = "PAGINATION_NUMBER_INVALID";
inline constexpr const char* kUnknown = "UNKNOWN";
}  // namespace oci

struct RegistryOptions {
  bool delete_enabled = true;
  bool read_only = false;
  size_t manifest_cache_bytes = 64 << 20;
  std::chrono::seconds upload_expiry{std::chrono::hours(24 * 7)};
};

struct BlobInfo {
  Digest digest;
  uint64_t size = 0;
};

struct StoredManifest {
  Digest digest;
  std::string media_type;
  std::shared_ptr<const std::string> content;
};

struct UploadStatus {
  std::string uuid;
  uint64_t offset = 0;  // bytes received
};

struct PutManifestResult {
  Digest digest;
  std::optional<Digest> subject;
};

class Registry {
 public:
  Registry(storage::BlobDriver* driver, meta::MetaStore* meta, RegistryOptions options);
  ~Registry();

  const RegistryOptions& options() const { return options_; }
  storage::BlobDriver* driver() { return driver_; }
  meta::MetaStore* meta() { return meta_; }

  bool RepositoryExists(const std::string& repo);

  // Blobs linked into `repo`.
  Result<BlobInfo> StatBlob(const std::string& repo, const Digest& digest);
  Result<std::unique_ptr<storage::FileReader>> OpenBlob(const Digest& digest, uint64_t offset);
  Status DeleteBlob(const std::string& repo, const Digest& digest);
  // Links a blob of `from` into `repo`; false when `from` does not hold it.
  Result<bool> MountBlob(const std::string& repo, const std::string& from, const Digest& digest);

  // Uploads.
  Result<UploadStatus> StartUpload(const std::string& repo);
  Result<UploadStatus> GetUpload(const std::string& repo, const std::string& uuid);
  // Appends a chunk. `expected_offset` (from Content-Range) must equal the current offset,
  // else kOutOfRange / RANGE_INVALID with nothing written. `expected_length` is checked
  // against what the body delivered.
  Result<UploadStatus> AppendUpload(const std::string& repo, const std::string& uuid,
                                    std::optional<uint64_t> expected_offset,
                                    std::optional<uint64_t> expected_length, const ReadFn& body);
  // Verifies the digest, makes the blob durable and visible, links it into repo.
  Result<BlobInfo> CompleteUpload(const std::string& repo, const std::string& uuid,
                                  const Digest& digest);
  Status CancelUpload(const std::string& repo, const std::string& uuid);
  // Removes upload sessions idle for longer than options.upload_expiry.
  size_t PurgeExpiredUploads();

  // Manifests.
  Result<StoredManifest> GetManifest(const std::string& repo, const std::string& reference);
  Result<PutManifestResult> PutManifest(const std::string& repo, const std::string& reference,
                                        const std::string& content_type, const std::string& body);
  Status DeleteManifest(const std::string& repo, const std::string& reference);

  Result<std::vector<std::string>> ListTags(const std::string& repo, const std::string& last,
                                            size_t limit);
  Result<std::vector<std::string>> Catalog(const std::string& last, size_t limit);
  Result<std::vector<meta::ManifestRecord>> Referrers(const std::string& repo,
                                                      const Digest& subject);

  // Rebuilds the MetaStore index from the storage layout.
  Status Reindex(size_t* repos, size_t* manifests, size_t* tags);

  // Repository names found in storage (not the index), for GC and reindexing.
  std::vector<std::string> StorageRepositories();
  // Manifest digests of `repo` in storage, with the time their revision link was written.
  std::vector<std::pair<Digest, std::chrono::system_clock::time_point>> StorageManifests(
      const std::string& repo);
  // Tag -> digest of `repo` in storage.
  std::vector<std::pair<std::string, Digest>> StorageTags(const std::string& repo);
  Result<StoredManifest> LoadManifestByDigest(const Digest& d) { return LoadManifest(d); }
  GcGuard& gc_guard() { return gc_guard_; }

 private:
  struct Upload;
  struct CacheEntry;

  Result<std::shared_ptr<Upload>> FindUpload(const std::string& repo, const std::string& uuid);
  Status Reconcile(Upload& u);
  Result<Digest> ReadLink(const std::string& path);
  Result<StoredManifest> LoadManifest(const Digest& digest);
  std::mutex& RepoLock(const std::string& repo);
  Status IndexManifest(const std::string& repo, const Digest& digest, const Manifest& m,
                       size_t size, int64_t created);

  storage::BlobDriver* driver_;
  meta::MetaStore* meta_;
  RegistryOptions options_;

  std::mutex uploads_mu_;
  std::unordered_map<std::string, std::shared_ptr<Upload>> uploads_;

  std::mutex cache_mu_;
  std::list<std::string> cache_lru_;
  std::unordered_map<std::string, std::pair<StoredManifest, std::list<std::string>::iterator>>
      cache_;
  size_t cache_bytes_ = 0;

  std::vector<std::mutex> repo_locks_;
  GcGuard gc_guard_;
};

}  // namespace dtr::registry
