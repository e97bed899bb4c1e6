// The OpenStack Swift driver: the BlobDriver contract over Swift's object API (tempauth or
// Keystone v3), for one container that is created if missing.
//
// How files map to objects, under the configured prefix:
// - A file written with PutContent is one object at its name.
// - A file written through Writer is kept, until it is moved, as fixed-size segment objects
//   (`<prefix>/#dtr.segments/<generation>/<n>`, each `chunksize` bytes) plus a sidecar
//   object (`<name>#dtr.writer`) whose body is the tail below one chunk and whose metadata
//   counts the segments. So an upload survives a restart (a new Writer resumes from the
//   sidecar) and its bytes stay readable while in progress; Commit persists the tail.
// - Move turns such a file into a static large object (SLO): the tail becomes the last
//   segment and a manifest (`?multipart-manifest=put`) at the destination lists them; no
//   byte is copied. The segments live outside the file's folder, so deleting the upload's
//   folder leaves the moved blob whole; deleting the blob deletes its segments
//   (`?multipart-manifest=delete`). Over 1000 segments, sub-manifests of 1000 each.
// - Moving a plain object is a server-side copy; moving an SLO copies its manifest.
// - Directories are name prefixes. Names holding "#dtr." are reserved for the above.
// Memory per writer is bounded by (uploadconcurrency + 1) chunks; a reader holds two 4 MiB
// windows (one fetched ahead).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/blob_driver.h"
#include "storage/object_store_common.h"
#include "storage/swift_client.h"
#include "storage/swift_config.h"
#include "storage/swift_json.h"

namespace dtr::storage {

class SwiftDriver : public BlobDriver, public objstore::SegmentStore {
 public:
  explicit SwiftDriver(SwiftConfig config);
  std::string name() const override { return "swift"; }

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

  SwiftClient& client() { return client_; }

  // ---- used by the reader and writer (swift_files.cc) ----
  using Segmented = objstore::Segmented;
  struct ObjectInfo {
    uint64_t size = 0;
    bool slo = false;
    std::chrono::system_clock::time_point mod_time;
  };
  std::string Key(const std::string& path) const;
  static std::string SidecarKey(const std::string& key);
  std::string SegmentKey(const std::string& gen, uint64_t n) const;
  Result<std::optional<Segmented>> HeadSegmented(const std::string& key);
  Result<std::optional<ObjectInfo>> HeadObject(const std::string& key);
  Status PutObject(const std::string& op, const std::string& key, std::string_view body,
                   HttpHeaders headers = {});
  uint64_t chunk_size() const { return client_.config().chunk_size; }

  // objstore::SegmentStore
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Status PutSegment(const std::string& key, const std::string& gen, uint64_t n,
                    std::string_view bytes) override;
  Status PutSidecar(const std::string& key, const Segmented& s, std::string_view tail) override;
  // Removes every form of the file at `key` (object with its SLO segments, sidecar with its
  // segments); true if any existed.
  Result<bool> DeleteFile(const std::string& key) override;
  int upload_concurrency() const override { return client_.config().upload_concurrency; }

 private:
  Result<std::string> CheckedKey(const std::string& path) const;
  // Every listing page under `prefix` (with "/" as delimiter when `delimited`).
  Status ListPages(const std::string& prefix, bool delimited, int limit,
                   const std::function<bool(const std::vector<swiftjson::Entry>&)>& page);
  Status DeleteObject(const std::string& key, bool slo);
  Status DeleteSegments(const std::string& gen);
  // Turns the in-progress file at `src_key` into one object (an SLO over its segments when
  // it has any) at `dst`.
  Status Assemble(const std::string& src_key, const Segmented& s, const std::string& dst);
  Status PutManifest(const std::string& dst, const std::string& gen,
                     std::vector<swiftjson::SloSegment> segments);
  // The segments an SLO at `key` lists ("/container/object"), to delete after replacing it.
  Result<std::vector<std::string>> ManifestSegments(const std::string& key);
  void DeleteReplacedSegments(const std::vector<std::string>& paths);

  SwiftClient client_;
};

}  // namespace dtr::storage
