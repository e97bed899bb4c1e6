// MetaStore: the metadata index (DTR's RethinkDB role). For the registry it indexes what
// the storage layout holds, so listing tags, repositories and referrers does not walk
// storage. The layout stays the source of truth: the index can be rebuilt from it
// (registry::Reindex). SQLite by default; every implementation passes meta/meta_suite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace dtr::meta {

struct ManifestRecord {
  std::string repo;
  std::string digest;
  std::string media_type;
  std::string artifact_type;
  std::string subject;  // digest of the subject, empty when none
  int64_t size = 0;
  std::string annotations_json;
  int64_t created_at = 0;  // unix seconds
};

struct TagRecord {
  std::string repo;
  std::string tag;
  std::string digest;
  int64_t updated_at = 0;
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  virtual Status EnsureRepository(const std::string& repo) = 0;
  virtual Status DeleteRepository(const std::string& repo) = 0;
  // Repositories after `last` (exclusive) in lexical order, at most `limit` (0 = all).
  virtual Result<std::vector<std::string>> ListRepositories(const std::string& last,
                                                            size_t limit) = 0;
  virtual Result<bool> RepositoryExists(const std::string& repo) = 0;

  virtual Status PutManifest(const ManifestRecord& m) = 0;
  // Removes the manifest and every tag that points at it; returns the removed tags.
  virtual Result<std::vector<std::string>> DeleteManifest(const std::string& repo,
                                                          const std::string& digest) = 0;
  virtual Result<std::vector<ManifestRecord>> Referrers(const std::string& repo,
                                                        const std::string& subject) = 0;

  virtual Status PutTag(const TagRecord& t) = 0;
  virtual Status DeleteTag(const std::string& repo, const std::string& tag) = 0;
  virtual Result<std::vector<std::string>> ListTags(const std::string& repo,
                                                    const std::string& last, size_t limit) = 0;
  virtual Result<std::optional<TagRecord>> GetTag(const std::string& repo,
                                                  const std::string& tag) = 0;

  // Small persistent key/value facts about the store itself (clean shutdown, versions).
  virtual Result<std::optional<std::string>> GetState(const std::string& key) = 0;
  virtual Status SetState(const std::string& key, const std::string& value) = 0;

  // Drops every registry index row (before a reindex).
  virtual Status ClearRegistryIndex() = 0;
};

}  // namespace dtr::meta
