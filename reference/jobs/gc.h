// Online garbage collection (the onlinegc and onlinegc_blobs actions). Marks what tags
// reach — manifests, the children of indexes, referrers of reachable manifests, and the
// blobs they name — then deletes untagged unreachable manifests, repository layer links
// nobody needs, and blobs no manifest names, all only when older than a grace period.
// The registry stays writable throughout: GcGuard settles races with concurrent pushes.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/status.h"
#include "registry/registry.h"

namespace dtr::jobs {

struct GcOptions {
  std::chrono::seconds grace{std::chrono::hours(1)};
  bool delete_untagged = true;  // onlinegc: also untagged manifests; onlinegc_blobs: no
  bool dry_run = false;
  std::function<void(const std::string&)> log;
  std::function<bool()> cancelled;  // checked between deletions
};

struct GcReport {
  size_t repositories = 0;
  size_t manifests_marked = 0;
  size_t blobs_marked = 0;
  size_t manifests_deleted = 0;
  size_t links_deleted = 0;
  size_t blobs_deleted = 0;
  uint64_t bytes_freed = 0;
};

Result<GcReport> RunGarbageCollection(registry::Registry& reg, const GcOptions& options);

}  // namespace dtr::jobs
