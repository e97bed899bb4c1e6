#include "jobs/webhook_store.h"

#include "jobs/job_store.h"
#include "jobs/sqlite_rows.h"
#include "meta/sqlite_identity_store.h"

namespace dtr::jobs {

using meta::SqliteStmt;

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  key TEXT NOT NULL DEFAULT '',
  endpoint TEXT NOT NULL,
  author_id TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  last_successful_at INTEGER NOT NULL DEFAULT 0,
  inactive INTEGER NOT NULL DEFAULT 0,
  tls_cert TEXT NOT NULL DEFAULT '',
  skip_tls_verification INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS webhooks_type_key ON webhooks (type, key);
)sql";

const char* kCols =
    "id, type, key, endpoint, author_id, created_at, last_successful_at, inactive, tls_cert, "
    "skip_tls_verification";

Webhook Row(SqliteStmt& s) {
  Webhook w;
  w.id = s.Text(0);
  w.type = s.Text(1);
  w.key = s.Text(2);
  w.endpoint = s.Text(3);
  w.author_id = s.Text(4);
  w.created_at = s.Int(5);
  w.last_successful_at = s.Int(6);
  w.inactive = s.Int(7) != 0;
  w.tls_cert = s.Text(8);
  w.skip_tls_verification = s.Int(9) != 0;
  return w;
}

}  // namespace

Result<std::unique_ptr<WebhookStore>> WebhookStore::Open(meta::SqliteDb* db) {
  if (Status s = sql::Schema(db, kSchema); !s.ok()) return s;
  return std::unique_ptr<WebhookStore>(new WebhookStore(db));
}

Status WebhookStore::Create(Webhook* w) {
  w->id = meta::NewId();
  w->created_at = NowMs();
  return sql::Exec(db_,
                   std::string("INSERT INTO webhooks (") + kCols +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [&](SqliteStmt& st) {
                     st.Bind(1, w->id).Bind(2, w->type).Bind(3, w->key).Bind(4, w->endpoint);
                     st.Bind(5, w->author_id).Bind(6, w->created_at);
                     st.Bind(7, w->last_successful_at).Bind(8, int64_t{w->inactive});
                     st.Bind(9, w->tls_cert).Bind(10, int64_t{w->skip_tls_verification});
                   })
      .status();
}

Result<std::optional<Webhook>> WebhookStore::Get(const std::string& id) {
  return sql::First(sql::Query<Webhook>(
      db_, std::string("SELECT ") + kCols + " FROM webhooks WHERE id = ?",
      [&](SqliteStmt& st) { st.Bind(1, id); }, Row));
}

Result<std::vector<Webhook>> WebhookStore::List(const WebhookFilter& f) {
  bool by_type = !f.type.empty() && f.type != "any";
  bool by_author = !f.author_id.empty();
  std::string where = " WHERE 1=1";
  if (by_type) where += " AND type = ?";
  if (by_author) where += " AND author_id = ?";
  if (f.key) where += " AND key = ?";
  return sql::Query<Webhook>(
      db_, std::string("SELECT ") + kCols + " FROM webhooks" + where + " ORDER BY created_at, id",
      [&](SqliteStmt& st) {
        int i = 1;
        if (by_type) st.Bind(i++, f.type);
        if (by_author) st.Bind(i++, f.author_id);
        if (f.key) st.Bind(i++, *f.key);
      },
      Row);
}

Status WebhookStore::Update(const Webhook& w) {
  auto n = sql::Exec(db_,
                     "UPDATE webhooks SET inactive = ?, tls_cert = ?, skip_tls_verification = ? "
                     "WHERE id = ?",
                     [&](SqliteStmt& st) {
                       st.Bind(1, int64_t{w.inactive}).Bind(2, w.tls_cert);
                       st.Bind(3, int64_t{w.skip_tls_verification}).Bind(4, w.id);
                     });
  if (!n.ok()) return n.status();
  if (*n == 0) return NotFound("no webhook " + w.id);
  return Status::Ok();
}

Result<bool> WebhookStore::Delete(const std::string& id) {
  auto n =
      sql::Exec(db_, "DELETE FROM webhooks WHERE id = ?", [&](SqliteStmt& st) { st.Bind(1, id); });
  if (!n.ok()) return n.status();
  return *n > 0;
}

Status WebhookStore::MarkDelivered(const std::string& id, int64_t at_ms) {
  return sql::Exec(db_,
                   "UPDATE webhooks SET last_successful_at = MAX(last_successful_at, ?) WHERE "
                   "id = ?",
                   [&](SqliteStmt& st) { st.Bind(1, at_ms).Bind(2, id); })
      .status();
}

Result<std::vector<Webhook>> WebhookStore::Matching(const std::string& type, const std::string& ns,
                                                    const std::string& name) {
  std::string repo = name.empty() ? std::string() : ns + "/" + name;
  return sql::Query<Webhook>(
      db_,
      std::string("SELECT ") + kCols +
          " FROM webhooks WHERE type = ? AND inactive = 0 AND key IN ('', ?, ?) "
          "ORDER BY created_at, id",
      [&](SqliteStmt& st) {
        st.Bind(1, type).Bind(2, ns);
        // No repository: bind the namespace twice rather than match a key "".
        st.Bind(3, repo.empty() ? ns : repo);
      },
      Row);
}

}  // namespace dtr::jobs
