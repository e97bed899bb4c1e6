#include "meta/sqlite_meta_store.h"

#include <ctime>

namespace dtr::meta {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS repositories (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS manifests (
  repo TEXT NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  artifact_type TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL,
  annotations TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo, digest)
);
CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (repo, subject) WHERE subject != '';
CREATE TABLE IF NOT EXISTS tags (
  repo TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo, tag)
);
CREATE INDEX IF NOT EXISTS tags_digest ON tags (repo, digest);
CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

template <class Fn>
auto Guard(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status(Code::kInternal, std::string("metadata store: ") + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::Open(const std::string& path) {
  auto db = SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<SqliteMetaStore> store(new SqliteMetaStore);
  store->db_ = std::move(db.value());
  Status s = store->db_->With([](SqliteConn& c) { return c.Exec(kSchema); });
  if (!s.ok()) return s;
  return store;
}

Status SqliteMetaStore::EnsureRepository(const std::string& repo) {
  return Guard([&]() -> Status {
    return db_->With([&](SqliteConn& c) {
      return c.Prepare("INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)")
          .Bind(1, repo)
          .Bind(2, Now())
          .Run();
    });
  });
}

Status SqliteMetaStore::DeleteRepository(const std::string& repo) {
  return Guard([&]() -> Status {
    return db_->Transaction([&](SqliteConn& c) -> Status {
      for (const char* sql :
           {"DELETE FROM tags WHERE repo = ?", "DELETE FROM manifests WHERE repo = ?",
            "DELETE FROM repositories WHERE name = ?"}) {
        if (Status s = c.Prepare(sql).Bind(1, repo).Run(); !s.ok()) return s;
      }
      return Status::Ok();
    });
  });
}

Result<std::vector<std::string>> SqliteMetaStore::ListRepositories(const std::string& last,
                                                                   size_t limit) {
  return Guard([&]() -> Result<std::vector<std::string>> {
    return db_->With([&](SqliteConn& c) -> Result<std::vector<std::string>> {
      auto st = c.Prepare("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?");
      st.Bind(1, last).Bind(2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
      std::vector<std::string> out;
      while (true) {
        auto r = st.Step();
        if (!r.ok()) return r.status();
        if (!*r) break;
        out.push_back(st.Text(0));
      }
      return out;
    });
  });
}

Result<bool> SqliteMetaStore::RepositoryExists(const std::string& repo) {
  return Guard([&]() -> Result<bool> {
    return db_->With([&](SqliteConn& c) -> Result<bool> {
      auto st = c.Prepare("SELECT 1 FROM repositories WHERE name = ?");
      st.Bind(1, repo);
      return st.Step();
    });
  });
}

Status SqliteMetaStore::PutManifest(const ManifestRecord& m) {
  return Guard([&]() -> Status {
    return db_->Transaction([&](SqliteConn& c) -> Status {
      if (Status s =
              c.Prepare("INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)")
                  .Bind(1, m.repo)
                  .Bind(2, Now())
                  .Run();
          !s.ok()) {
        return s;
      }
      return c
          .Prepare(
              "INSERT INTO manifests (repo, digest, media_type, artifact_type, subject, size, "
              "annotations, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (repo, digest) DO NOTHING")
          .Bind(1, m.repo)
          .Bind(2, m.digest)
          .Bind(3, m.media_type)
          .Bind(4, m.artifact_type)
          .Bind(5, m.subject)
          .Bind(6, m.size)
          .Bind(7, m.annotations_json)
          .Bind(8, m.created_at ? m.created_at : Now())
          .Run();
    });
  });
}

Result<std::vector<std::string>> SqliteMetaStore::DeleteManifest(const std::string& repo,
                                                                 const std::string& digest) {
  return Guard([&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> tags;
    Status s = db_->Transaction([&](SqliteConn& c) -> Status {
      auto st = c.Prepare("SELECT tag FROM tags WHERE repo = ? AND digest = ? ORDER BY tag");
      st.Bind(1, repo).Bind(2, digest);
      while (true) {
        auto r = st.Step();
        if (!r.ok()) return r.status();
        if (!*r) break;
        tags.push_back(st.Text(0));
      }
      if (Status d = c.Prepare("DELETE FROM tags WHERE repo = ? AND digest = ?")
                         .Bind(1, repo)
                         .Bind(2, digest)
                         .Run();
          !d.ok()) {
        return d;
      }
      return c.Prepare("DELETE FROM manifests WHERE repo = ? AND digest = ?")
          .Bind(1, repo)
          .Bind(2, digest)
          .Run();
    });
    if (!s.ok()) return s;
    return tags;
  });
}

Result<std::vector<ManifestRecord>> SqliteMetaStore::Referrers(const std::string& repo,
                                                               const std::string& subject) {
  return Guard([&]() -> Result<std::vector<ManifestRecord>> {
    return db_->With([&](SqliteConn& c) -> Result<std::vector<ManifestRecord>> {
      auto st = c.Prepare(
          "SELECT digest, media_type, artifact_type, size, annotations, created_at FROM "
          "manifests WHERE repo = ? AND subject = ? ORDER BY digest");
      st.Bind(1, repo).Bind(2, subject);
      std::vector<ManifestRecord> out;
      while (true) {
        auto r = st.Step();
        if (!r.ok()) return r.status();
        if (!*r) break;
        ManifestRecord m;
        m.repo = repo;
        m.subject = subject;
        m.digest = st.Text(0);
        m.media_type = st.Text(1);
        m.artifact_type = st.Text(2);
        m.size = st.Int(3);
        m.annotations_json = st.Text(4);
        m.created_at = st.Int(5);
        out.push_back(std::move(m));
      }
      return out;
    });
  });
}

Status SqliteMetaStore::PutTag(const TagRecord& t) {
  return Guard([&]() -> Status {
    return db_->Transaction([&](SqliteConn& c) -> Status {
      if (Status s =
              c.Prepare("INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)")
                  .Bind(1, t.repo)
                  .Bind(2, Now())
                  .Run();
          !s.ok()) {
        return s;
      }
      return c
          .Prepare(
              "INSERT INTO tags (repo, tag, digest, updated_at) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest, "
              "updated_at = excluded.updated_at")
          .Bind(1, t.repo)
          .Bind(2, t.tag)
          .Bind(3, t.digest)
          .Bind(4, t.updated_at ? t.updated_at : Now())
          .Run();
    });
  });
}

Status SqliteMetaStore::DeleteTag(const std::string& repo, const std::string& tag) {
  return Guard([&]() -> Status {
    return db_->With([&](SqliteConn& c) {
      return c.Prepare("DELETE FROM tags WHERE repo = ? AND tag = ?")
          .Bind(1, repo)
          .Bind(2, tag)
          .Run();
    });
  });
}

Result<std::vector<std::string>> SqliteMetaStore::ListTags(const std::string& repo,
                                                           const std::string& last, size_t limit) {
  return Guard([&]() -> Result<std::vector<std::string>> {
    return db_->With([&](SqliteConn& c) -> Result<std::vector<std::string>> {
      auto st = c.Prepare("SELECT tag FROM tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?");
      st.Bind(1, repo).Bind(2, last).Bind(3,
                                          limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
      std::vector<std::string> out;
      while (true) {
        auto r = st.Step();
        if (!r.ok()) return r.status();
        if (!*r) break;
        out.push_back(st.Text(0));
      }
      return out;
    });
  });
}

Result<std::optional<TagRecord>> SqliteMetaStore::GetTag(const std::string& repo,
                                                         const std::string& tag) {
  return Guard([&]() -> Result<std::optional<TagRecord>> {
    return db_->With([&](SqliteConn& c) -> Result<std::optional<TagRecord>> {
      auto st = c.Prepare("SELECT digest, updated_at FROM tags WHERE repo = ? AND tag = ?");
      st.Bind(1, repo).Bind(2, tag);
      auto r = st.Step();
      if (!r.ok()) return r.status();
      if (!*r) return std::optional<TagRecord>();
      return std::optional<TagRecord>(TagRecord{repo, tag, st.Text(0), st.Int(1)});
    });
  });
}

Result<std::optional<std::string>> SqliteMetaStore::GetState(const std::string& key) {
  return Guard([&]() -> Result<std::optional<std::string>> {
    return db_->With([&](SqliteConn& c) -> Result<std::optional<std::string>> {
      auto st = c.Prepare("SELECT value FROM state WHERE key = ?");
      st.Bind(1, key);
      auto r = st.Step();
      if (!r.ok()) return r.status();
      if (!*r) return std::optional<std::string>();
      return std::optional<std::string>(st.Text(0));
    });
  });
}

Status SqliteMetaStore::SetState(const std::string& key, const std::string& value) {
  return Guard([&]() -> Status {
    return db_->With([&](SqliteConn& c) {
      return c
          .Prepare(
              "INSERT INTO state (key, value) VALUES (?, ?) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
          .Bind(1, key)
          .Bind(2, value)
          .Run();
    });
  });
}

Status SqliteMetaStore::ClearRegistryIndex() {
  return Guard([&]() -> Status {
    return db_->Transaction([&](SqliteConn& c) -> Status {
      return c.Exec("DELETE FROM tags; DELETE FROM manifests; DELETE FROM repositories;");
    });
  });
}

}  // namespace dtr::meta
