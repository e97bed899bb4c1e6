// Moving an upload body into storage. The bytes go through large page-aligned buffers: the
// calling thread reads each one from the body and writes it, while a second thread hashes
// the buffers behind it, so hashing overlaps the network and the disk instead of adding to
// them. A body that fits in one buffer is hashed on the calling thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/digest.h"
#include "core/status.h"
#include "storage/blob_driver.h"

namespace dtr::registry {

// Where upload bytes come from: returns bytes read, 0 at the end, -1 with *error set.
using ReadFn = std::function<ssize_t(char* buf, size_t n, std::string* error)>;

struct CopiedBody {
  // Bytes read from the body, written to storage and fed to the hash, in that order.
  uint64_t bytes = 0;
  // Set when the body failed after `bytes` (the client went away, bad framing).
  std::optional<std::string> body_error;
  // Not ok when storage refused a write: the file may then hold part of the failed buffer,
  // and the hash has seen all of it.
  Status write_error;
};

// Reads `body` to its end or first failure, appending to `out` and updating `hash` (which
// nothing else may touch until this returns).
CopiedBody CopyUploadBody(const ReadFn& body, storage::FileWriter& out, Hasher& hash);

}  // namespace dtr::registry
