// PruningStore: the tag pruning policies of each repository, in the metadata database (the
// jobrunner's SQLite file, or whatever db App opens).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "jobs/rule_engine.h"
#include "meta/sqlite_db.h"

namespace dtr::jobs {

struct PruningPolicy {
  std::string id;
  std::string repository;  // "namespace/name"
  std::vector<Rule> rules;
  bool enabled = true;
  int64_t last_pruned_at = 0;  // unix milliseconds; 0: never
  int64_t created_at = 0;      // unix milliseconds
  // Created with ?initialEvaluation=true ("Prune all tags" in DTR's UI): tags that existed
  // before the policy may be pruned. Otherwise ("Prune future tags") only tags pushed or
  // moved after `created_at` are candidates.
  bool prune_existing = false;
};

class PruningStore {
 public:
  static Result<std::unique_ptr<PruningStore>> Open(meta::SqliteDb* db);

  Status Create(PruningPolicy* p);  // fills id and created_at
  Result<std::optional<PruningPolicy>> Get(const std::string& repository, const std::string& id);
  // Oldest first; all repositories when `repository` is empty.
  Result<std::vector<PruningPolicy>> List(const std::string& repository);
  Status Update(const PruningPolicy& p);  // rules and enabled; kNotFound when gone
  Result<bool> Delete(const std::string& repository, const std::string& id);
  Status DeleteRepository(const std::string& repository);
  Status MarkPruned(const std::string& id, int64_t at_ms);

 private:
  explicit PruningStore(meta::SqliteDb* db) : db_(db) {}
  meta::SqliteDb* db_;
};

}  // namespace dtr::jobs
