#include "jobs/pruning_store.h"

#include <nlohmann/json.hpp>

#include "jobs/job_store.h"
#include "jobs/sqlite_rows.h"
#include "meta/sqlite_identity_store.h"

namespace dtr::jobs {

using meta::SqliteStmt;
using nlohmann::json;

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS pruning_policies (
  id TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  rules TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  last_pruned_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  prune_existing INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pruning_policies_repository ON pruning_policies (repository);
)sql";

const char* kCols = "id, repository, rules, enabled, last_pruned_at, created_at, prune_existing";

PruningPolicy Row(SqliteStmt& s) {
  PruningPolicy p;
  p.id = s.Text(0);
  p.repository = s.Text(1);
  // Rules were validated when stored; a row edited by hand to something invalid has no
  // rules and so matches nothing.
  auto rules = ParseRules(json::parse(s.Text(2), nullptr, false));
  if (rules.ok()) p.rules = std::move(*rules);
  p.enabled = s.Int(3) != 0;
  p.last_pruned_at = s.Int(4);
  p.created_at = s.Int(5);
  p.prune_existing = s.Int(6) != 0;
  return p;
}

}  // namespace

Result<std::unique_ptr<PruningStore>> PruningStore::Open(meta::SqliteDb* db) {
  if (Status s = sql::Schema(db, kSchema); !s.ok()) return s;
  return std::unique_ptr<PruningStore>(new PruningStore(db));
}

Status PruningStore::Create(PruningPolicy* p) {
  p->id = meta::NewId();
  p->created_at = NowMs();
  auto r = sql::Exec(
      db_, std::string("INSERT INTO pruning_policies (") + kCols + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
      [&](SqliteStmt& st) {
        st.Bind(1, p->id).Bind(2, p->repository).Bind(3, RulesToJson(p->rules).dump());
        st.Bind(4, int64_t{p->enabled}).Bind(5, p->last_pruned_at);
        st.Bind(6, p->created_at).Bind(7, int64_t{p->prune_existing});
      });
  return r.status();
}

Result<std::optional<PruningPolicy>> PruningStore::Get(const std::string& repository,
                                                       const std::string& id) {
  return sql::First(sql::Query<PruningPolicy>(
      db_,
      std::string("SELECT ") + kCols + " FROM pruning_policies WHERE repository = ? AND id = ?",
      [&](SqliteStmt& st) { st.Bind(1, repository).Bind(2, id); }, Row));
}

Result<std::vector<PruningPolicy>> PruningStore::List(const std::string& repository) {
  if (repository.empty()) {
    return sql::Query<PruningPolicy>(
        db_, std::string("SELECT ") + kCols + " FROM pruning_policies ORDER BY created_at, id",
        [](SqliteStmt&) {}, Row);
  }
  return sql::Query<PruningPolicy>(
      db_,
      std::string("SELECT ") + kCols +
          " FROM pruning_policies WHERE repository = ? ORDER BY created_at, id",
      [&](SqliteStmt& st) { st.Bind(1, repository); }, Row);
}

Status PruningStore::Update(const PruningPolicy& p) {
  auto n = sql::Exec(db_,
                     "UPDATE pruning_policies SET rules = ?, enabled = ? WHERE id = ? AND "
                     "repository = ?",
                     [&](SqliteStmt& st) {
                       st.Bind(1, RulesToJson(p.rules).dump()).Bind(2, int64_t{p.enabled});
                       st.Bind(3, p.id).Bind(4, p.repository);
                     });
  if (!n.ok()) return n.status();
  if (*n == 0) return NotFound("no pruning policy " + p.id + " in " + p.repository);
  return Status::Ok();
}

Result<bool> PruningStore::Delete(const std::string& repository, const std::string& id) {
  auto n = sql::Exec(db_, "DELETE FROM pruning_policies WHERE repository = ? AND id = ?",
                     [&](SqliteStmt& st) { st.Bind(1, repository).Bind(2, id); });
  if (!n.ok()) return n.status();
  return *n > 0;
}

Status PruningStore::DeleteRepository(const std::string& repository) {
  return sql::Exec(db_, "DELETE FROM pruning_policies WHERE repository = ?",
                   [&](SqliteStmt& st) { st.Bind(1, repository); })
      .status();
}

Status PruningStore::MarkPruned(const std::string& id, int64_t at_ms) {
  return sql::Exec(db_, "UPDATE pruning_policies SET last_pruned_at = ? WHERE id = ?",
                   [&](SqliteStmt& st) { st.Bind(1, at_ms).Bind(2, id); })
      .status();
}

}  // namespace dtr::jobs
