// Moving an upload body into storage. The bytes go through a ring of page-aligned slots:
// the calling thread reads the body into them, one thread hashes each slot and another
// writes runs of them (up to 1 MiB at a time), so the network, the hash and the disk overlap
// instead of adding up. A body that fits in one slot is hashed and written on the calling
// thread.
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
  // Bytes written to storage. Unless a write failed, that is every byte read from the body,
  // and the hash has seen exactly them.
  uint64_t bytes = 0;
  // Set when the body failed after `bytes` (the client went away, bad framing).
  std::optional<std::string> body_error;
  // Not ok when storage refused a write: the file may then hold part of the failed write,
  // and the hash may have seen more than the file holds.
  Status write_error;
};

// Reads `body` to its end or first failure, appending to `out` and updating `hash` (which
// nothing else may touch until this returns).
CopiedBody CopyUploadBody(const ReadFn& body, storage::FileWriter& out, Hasher& hash);

}  // namespace dtr::registry
