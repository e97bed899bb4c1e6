#include "notary/server/sqlite_trust_store.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "core/digest.h"

namespace dtr::notary {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS tuf_files (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  gun TEXT NOT NULL,
  role TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (gun, role, version)
);
CREATE INDEX IF NOT EXISTS tuf_files_by_checksum ON tuf_files (gun, role, sha256);
CREATE TABLE IF NOT EXISTS tuf_changefeed (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  gun TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  category TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tuf_changefeed_by_gun ON tuf_changefeed (gun, id);
)";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

Result<std::unique_ptr<SqliteTrustStore>> SqliteTrustStore::Open(meta::SqliteDb* db) {
  Status s = db->With([](meta::SqliteConn& c) { return c.Exec(kSchema); });
  if (!s.ok()) return s;
  return std::unique_ptr<SqliteTrustStore>(new SqliteTrustStore(db));
}

Status SqliteTrustStore::UpdateMany(std::string_view gun,
                                    const std::vector<tuf::MetaUpdate>& updates) {
  return db_->Transaction([&](meta::SqliteConn& c) -> Status {
    std::set<std::pair<std::string, int64_t>> seen;
    for (const auto& u : updates) {
      if (!seen.insert({u.role, u.version}).second) {
        return Status(Code::kAlreadyExists, "duplicate version in one update", "VERSION");
      }
      auto newer =
          c.Prepare("SELECT 1 FROM tuf_files WHERE gun = ? AND role = ? AND version >= ? LIMIT 1");
      newer.Bind(1, gun).Bind(2, u.role).Bind(3, u.version);
      auto row = newer.Step();
      if (!row.ok()) return row.status();
      if (*row) {
        return Status(Code::kAlreadyExists,
                      "Error updating metadata. A newer version is already available", "VERSION");
      }
      std::string sum = ComputeDigest(u.data).hex();
      int64_t now = Now();
      auto ins = c.Prepare(
          "INSERT INTO tuf_files (gun, role, version, sha256, data, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?)");
      ins.Bind(1, gun).Bind(2, u.role).Bind(3, u.version).Bind(4, sum).Bind(5, u.data).Bind(6, now);
      if (Status s = ins.Run(); !s.ok()) {
        if (s.is(Code::kAlreadyExists)) return Status(Code::kAlreadyExists, s.message(), "VERSION");
        return s;
      }
      if (u.role == tuf::kTimestampRole) {
        auto feed = c.Prepare(
            "INSERT INTO tuf_changefeed (created_at, gun, version, sha256, category) "
            "VALUES (?, ?, ?, ?, 'update')");
        feed.Bind(1, now).Bind(2, gun).Bind(3, u.version).Bind(4, sum);
        if (Status s = feed.Run(); !s.ok()) return s;
      }
    }
    return Status::Ok();
  });
}

Result<std::optional<StoredFile>> SqliteTrustStore::GetOne(const std::string& where,
                                                           std::string_view gun,
                                                           std::string_view role,
                                                           std::string_view text_arg,
                                                           int64_t int_arg) {
  return db_->With([&](meta::SqliteConn& c) -> Result<std::optional<StoredFile>> {
    auto q = c.Prepare(
        "SELECT role, version, sha256, data, created_at FROM tuf_files WHERE gun = ? AND role = "
        "? " +
        where);
    q.Bind(1, gun).Bind(2, role);
    if (!text_arg.empty()) q.Bind(3, text_arg);
    if (int_arg >= 0) q.Bind(3, int_arg);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<StoredFile>();
    return std::optional<StoredFile>(
        StoredFile{q.Text(0), q.Int(1), q.Text(2), q.Text(3), q.Int(4)});
  });
}

Result<std::optional<StoredFile>> SqliteTrustStore::GetCurrent(std::string_view gun,
                                                               std::string_view role) {
  return GetOne("ORDER BY version DESC LIMIT 1", gun, role, "", -1);
}

Result<std::optional<StoredFile>> SqliteTrustStore::GetChecksum(std::string_view gun,
                                                                std::string_view role,
                                                                std::string_view sha256_hex) {
  if (sha256_hex.empty()) return std::optional<StoredFile>();
  return GetOne("AND sha256 = ? LIMIT 1", gun, role, sha256_hex, -1);
}

Result<std::optional<StoredFile>> SqliteTrustStore::GetVersion(std::string_view gun,
                                                               std::string_view role,
                                                               int64_t version) {
  if (version < 0) return std::optional<StoredFile>();
  return GetOne("AND version = ? LIMIT 1", gun, role, "", version);
}

Result<bool> SqliteTrustStore::Delete(std::string_view gun) {
  bool deleted = false;
  Status s = db_->Transaction([&](meta::SqliteConn& c) -> Status {
    auto del = c.Prepare("DELETE FROM tuf_files WHERE gun = ?");
    del.Bind(1, gun);
    if (Status st = del.Run(); !st.ok()) return st;
    deleted = sqlite3_changes(c.raw()) > 0;
    if (!deleted) return Status::Ok();
    auto feed = c.Prepare(
        "INSERT INTO tuf_changefeed (created_at, gun, version, sha256, category) "
        "VALUES (?, ?, 0, '', 'deletion')");
    feed.Bind(1, Now()).Bind(2, gun);
    return feed.Run();
  });
  if (!s.ok()) return s;
  return deleted;
}

Result<std::vector<Change>> SqliteTrustStore::GetChanges(int64_t change_id, int records,
                                                         std::string_view gun) {
  bool reversed = change_id < 0 || records < 0;
  int64_t limit = records < 0 ? -static_cast<int64_t>(records) : records;
  std::string sql =
      "SELECT id, created_at, gun, version, sha256, category FROM tuf_changefeed WHERE 1";
  if (!gun.empty()) sql += " AND gun = ?1";
  if (reversed) {
    if (change_id > 0) sql += " AND id < ?2";
    sql += " ORDER BY id DESC";
  } else {
    sql += " AND id > ?2 ORDER BY id ASC";
  }
  sql += " LIMIT ?3";
  return db_->With([&](meta::SqliteConn& c) -> Result<std::vector<Change>> {
    auto q = c.Prepare(sql);
    if (!gun.empty()) q.Bind(1, gun);
    if (!reversed || change_id > 0) q.Bind(2, change_id);
    q.Bind(3, limit);
    std::vector<Change> out;
    while (true) {
      auto row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.push_back(Change{q.Int(0), q.Int(1), q.Text(2), q.Int(3), q.Text(4), q.Text(5)});
    }
    if (reversed) std::reverse(out.begin(), out.end());
    return out;
  });
}

Result<bool> SqliteTrustStore::HasTrustData(std::string_view gun) {
  return db_->With([&](meta::SqliteConn& c) -> Result<bool> {
    auto q = c.Prepare("SELECT 1 FROM tuf_files WHERE gun = ? LIMIT 1");
    q.Bind(1, gun);
    return q.Step();
  });
}

Result<std::vector<std::string>> SqliteTrustStore::GunsForRepository(std::string_view ns_repo) {
  return db_->With([&](meta::SqliteConn& c) -> Result<std::vector<std::string>> {
    // substr rather than LIKE: repository names may hold '_', a LIKE wildcard.
    auto q = c.Prepare(
        "SELECT DISTINCT gun FROM tuf_files WHERE gun = ?1 OR (length(gun) > length(?1) + 1 "
        "AND substr(gun, -length(?1) - 1) = '/' || ?1 AND instr(substr(gun, 1, length(gun) - "
        "length(?1) - 1), '/') = 0) ORDER BY gun");
    q.Bind(1, ns_repo);
    std::vector<std::string> out;
    while (true) {
      auto row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.push_back(q.Text(0));
    }
    return out;
  });
}

}  // namespace dtr::notary
