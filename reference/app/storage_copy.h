// `dtr storage copy --from CONFIG --to CONFIG`: moves a registry's content between any two
// storage backends (filesystem to S3, S3 to Azure, ...) in distribution's layout, so an
// operator can change backends without losing tags.
//  - Order: blobs, then repository links (layers, manifest revisions), then tags last, so
//    no link on the destination ever names content that is not there yet.
//  - Verified: every blob is hashed while it streams and refused if it does not match its
//    digest; nothing half-written is left (writers are cancelled on error).
//  - Resumable: a file already on the destination with the same size (and, for small files,
//    the same bytes) is skipped, so an interrupted copy is simply run again; --verify also
//    re-hashes blobs already there.
//  - Uploads in progress (_uploads) are not copied.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "storage/blob_driver.h"

namespace dtr::app {

struct CopyOptions {
  bool verify_existing = false;
  std::function<void(const std::string&)> log;  // progress lines; may be empty
};

struct CopyReport {
  uint64_t files_copied = 0;
  uint64_t files_skipped = 0;  // already on the destination
  uint64_t bytes_copied = 0;
  uint64_t blobs_verified = 0;
};

Result<CopyReport> CopyStorage(storage::BlobDriver* from, storage::BlobDriver* to,
                               const CopyOptions& options);

}  // namespace dtr::app
