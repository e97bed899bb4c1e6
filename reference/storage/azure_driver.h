// The Azure Blob Storage driver: the BlobDriver contract over block blobs in one container
// (created if missing), authorized with Shared Key; works against Azure and Azurite.
//
// How files map to blobs, under the configured root directory:
// - A file written with PutContent is one block blob (Put Blob).
// - A file written through Writer is a block blob built from blocks: each `chunksize` bytes
//   are staged with Put Block as they arrive (uploadconcurrency in flight), and Close or
//   Commit stages the rest and commits the blob's committed blocks plus the new ones (Put
//   Block List). So what was written is readable, durable and the right size after every
//   Close; a new Writer (another instance, or after a restart) reads the committed block
//   list and appends after it. Blocks staged but never committed (a crash) are dropped by
//   Azure at the next commit. Block ids are "dtr-<writer>-<n>" (same length for all).
// - Move is Copy Blob (server-side) then Delete Blob.
// - Directories are name prefixes.
// Memory per writer is bounded by (uploadconcurrency + 1) chunks; a reader holds two 4 MiB
// windows (one fetched ahead).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/azure_client.h"
#include "storage/azure_config.h"
#include "storage/azure_xml.h"
#include "storage/blob_driver.h"
#include "storage/object_store_common.h"

namespace dtr::storage {

class AzureDriver : public BlobDriver {
 public:
  explicit AzureDriver(AzureConfig config);
  std::string name() const override { return "azure"; }

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

  AzureClient& client() { return client_; }

  // ---- used by the reader and writer ----
  std::string Key(const std::string& path) const;
  // Size and mtime of a blob, nullopt when it does not exist.
  Result<std::optional<FileInfo>> HeadBlob(const std::string& key);
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length);
  Status PutBlob(const std::string& key, std::string_view body);
  Status PutBlock(const std::string& key, const std::string& id, std::string_view body);
  Status PutBlockList(const std::string& key, const std::vector<std::string>& ids);
  Result<azurexml::BlockList> GetBlockList(const std::string& key);
  Status DeleteBlob(const std::string& key);
  uint64_t chunk_size() const { return client_.config().chunk_size; }
  int upload_concurrency() const { return client_.config().upload_concurrency; }
  // A block id: base64 of "dtr-<16 hex>-<10 digits>", the same length for every block.
  static std::string BlockId(const std::string& writer, uint64_t n);

 private:
  Result<std::string> CheckedKey(const std::string& path) const;
  // Every listing page under `prefix` (with "/" as delimiter when `delimited`).
  Status ListPages(const std::string& prefix, bool delimited, int limit,
                   const std::function<bool(const azurexml::BlobList&)>& page);

  AzureClient client_;
};

}  // namespace dtr::storage
