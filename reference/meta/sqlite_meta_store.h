// The embedded MetaStore: one SQLite file in WAL mode.
#pragma once

#include <memory>
#include <string>

#include "meta/meta_store.h"
#include "meta/sqlite_db.h"

namespace dtr::meta {

class SqliteMetaStore : public MetaStore {
 public:
  static Result<std::unique_ptr<SqliteMetaStore>> Open(const std::string& path);

  Status EnsureRepository(const std::string& repo) override;
  Status DeleteRepository(const std::string& repo) override;
  Result<std::vector<std::string>> ListRepositories(const std::string& last, size_t limit) override;
  Result<bool> RepositoryExists(const std::string& repo) override;
  Status PutManifest(const ManifestRecord& m) override;
  Result<std::vector<std::string>> DeleteManifest(const std::string& repo,
                                                  const std::string& digest) override;
  Result<std::vector<ManifestRecord>> Referrers(const std::string& repo,
                                                const std::string& subject) override;
  Status PutTag(const TagRecord& t) override;
  Status DeleteTag(const std::string& repo, const std::string& tag) override;
  Result<std::vector<std::string>> ListTags(const std::string& repo, const std::string& last,
                                            size_t limit) override;
  Result<std::optional<TagRecord>> GetTag(const std::string& repo, const std::string& tag) override;
  Result<std::optional<std::string>> GetState(const std::string& key) override;
  Status SetState(const std::string& key, const std::string& value) override;
  Status ClearRegistryIndex() override;

  SqliteDb& db() { return *db_; }

 private:
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace dtr::meta
