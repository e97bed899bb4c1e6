#include "config/sqlite_config_store.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "config/watch_thread.h"

namespace dtr::config {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS config_kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS config_changes (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  deleted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS config_revision (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  revision INTEGER NOT NULL,
  compacted INTEGER NOT NULL
);
INSERT OR IGNORE INTO config_revision (id, revision, compacted) VALUES (0, 0, 0);
)";

// Compaction runs inside every n-th write (n up to 1024, and small when little history is
// kept), so it costs little and the change log stays near its bound.
int64_t CompactEvery(int64_t history) { return std::clamp<int64_t>(history / 8, 1, 1024); }
constexpr int kWatchBatch = 256;

// Runs fn in a read transaction, so that its statements see one snapshot.
template <class F>
Status ReadSnapshot(meta::SqliteConn& c, F&& fn) {
  if (Status s = c.Exec("BEGIN"); !s.ok()) return s;
  Status s;
  try {
    s = fn();
  } catch (...) {
    c.Exec("ROLLBACK");  // the connection goes back to the pool: never with a transaction open
    throw;
  }
  c.Exec(s.ok() ? "COMMIT" : "ROLLBACK");
  return s;
}

// A prefix scan's condition on `key`, with the prefix and its end as parameters 1 and 2.
std::string PrefixCondition(const std::string& prefix, const std::string& end) {
  if (prefix.empty()) return "1";
  return end.empty() ? "key >= ?1" : "key >= ?1 AND key < ?2";
}

void PrefixBind(meta::SqliteStmt& st, const std::string& prefix, const std::string& end) {
  if (!prefix.empty()) st.Bind(1, prefix);
  if (!end.empty()) st.Bind(2, end);
}

}  // namespace

struct SqliteConfigStore::Mutation {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: delete
  std::optional<int64_t> expected;        // the key's version that must hold (0: absent)
};

struct SqliteConfigStore::ChangeBatch {
  std::vector<ConfigChange> changes;
};

SqliteConfigStore::SqliteConfigStore(meta::SqliteDb* db, SqliteConfigOptions options,
                                     std::string where)
    : db_(db), options_(options), where_(std::move(where)) {}

SqliteConfigStore::~SqliteConfigStore() = default;

Result<std::unique_ptr<SqliteConfigStore>> SqliteConfigStore::Open(meta::SqliteDb* db,
                                                                   SqliteConfigOptions options) {
  Status s = db->Transaction([](meta::SqliteConn& c) { return c.Exec(kSchema); });
  if (!s.ok()) return Status(s.code(), "creating the configuration tables: " + s.message());
  return std::unique_ptr<SqliteConfigStore>(
      new SqliteConfigStore(db, options, "the application database"));
}

Result<std::unique_ptr<SqliteConfigStore>> SqliteConfigStore::OpenFile(
    const std::string& path, SqliteConfigOptions options) {
  auto db = meta::SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  auto store = Open(db->get(), options);
  if (!store.ok()) return store.status();
  (*store)->owned_ = std::move(db.value());
  (*store)->where_ = path;
  return store;
}

std::string SqliteConfigStore::Describe() const {
  return "SQLite configuration store (" + where_ + ")";
}

Result<ConfigEntry> SqliteConfigStore::Get(std::string_view key) {
  if (Status s = ValidateKey(key); !s.ok()) return s;
  return db_->With([&](meta::SqliteConn& c) -> Result<ConfigEntry> {
    auto st = c.Prepare("SELECT value, mod_revision FROM config_kv WHERE key = ?1");
    st.Bind(1, key);
    auto row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return NotFound("configuration key \"" + std::string(key) + "\" not found");
    return ConfigEntry{std::string(key), st.Text(0), st.Int(1)};
  });
}

Result<int64_t> SqliteConfigStore::Put(std::string_view key, std::string_view value) {
  return Apply({key, value, std::nullopt}, nullptr);
}

Result<int64_t> SqliteConfigStore::CompareAndSwap(std::string_view key, int64_t expected_version,
                                                  std::string_view value,
                                                  int64_t* current_version) {
  return Apply({key, value, expected_version}, current_version);
}

Result<int64_t> SqliteConfigStore::Delete(std::string_view key,
                                          std::optional<int64_t> expected_version) {
  return Apply({key, std::nullopt, expected_version}, nullptr);
}

Result<int64_t> SqliteConfigStore::Apply(const Mutation& m, int64_t* current_version) {
  if (Status s = ValidateKey(m.key); !s.ok()) return s;
  if (m.value) {
    if (Status s = ValidateValue(*m.value); !s.ok()) return s;
  }
  int64_t revision = 0;
  int64_t current = 0;
  Status s = db_->Transaction([&](meta::SqliteConn& c) -> Status {
    {
      auto st = c.Prepare("SELECT mod_revision FROM config_kv WHERE key = ?1");
      st.Bind(1, m.key);
      auto row = st.Step();
      if (!row.ok()) return row.status();
      current = *row ? st.Int(0) : 0;
    }
    std::string name = "configuration key \"" + std::string(m.key) + "\"";
    if (!m.value && current == 0) return NotFound(name + " not found");
    if (m.expected && *m.expected != current) {
      return Status(Code::kFailedPrecondition, name + " is at version " + std::to_string(current) +
                                                   ", not " + std::to_string(*m.expected));
    }
    int64_t compacted = 0;
    {
      auto st = c.Prepare("SELECT revision, compacted FROM config_revision WHERE id = 0");
      auto row = st.Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status(Code::kCorruption, "the configuration revision row is missing");
      revision = st.Int(0) + 1;
      compacted = st.Int(1);
    }
    if (m.value) {
      auto st = c.Prepare(
          "INSERT INTO config_kv (key, value, create_revision, mod_revision) "
          "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
          "mod_revision = excluded.mod_revision");
      st.Bind(1, m.key).Bind(2, *m.value).Bind(3, revision);
      if (Status r = st.Run(); !r.ok()) return r;
    } else {
      auto st = c.Prepare("DELETE FROM config_kv WHERE key = ?1");
      st.Bind(1, m.key);
      if (Status r = st.Run(); !r.ok()) return r;
    }
    {
      auto st = c.Prepare(
          "INSERT INTO config_changes (revision, key, value, deleted) VALUES (?1, ?2, ?3, ?4)");
      st.Bind(1, revision).Bind(2, m.key).Bind(3, m.value.value_or("")).Bind(4, m.value ? 0 : 1);
      if (Status r = st.Run(); !r.ok()) return r;
    }
    if (options_.history > 0 && revision % CompactEvery(options_.history) == 0 &&
        revision - options_.history > compacted) {
      compacted = revision - options_.history;
      auto st = c.Prepare("DELETE FROM config_changes WHERE revision <= ?1");
      st.Bind(1, compacted);
      if (Status r = st.Run(); !r.ok()) return r;
    }
    auto st = c.Prepare("UPDATE config_revision SET revision = ?1, compacted = ?2 WHERE id = 0");
    st.Bind(1, revision).Bind(2, compacted);
    return st.Run();
  });
  if (!s.ok()) {
    if (s.is(Code::kFailedPrecondition) && current_version != nullptr) *current_version = current;
    return s;
  }
  {
    std::lock_guard lock(wake_mu_);
    ++writes_;
  }
  wake_cv_.notify_all();
  return revision;
}

Status SqliteConfigStore::Compact(int64_t revision) {
  return db_->Transaction([&](meta::SqliteConn& c) -> Status {
    auto del = c.Prepare("DELETE FROM config_changes WHERE revision <= ?1");
    del.Bind(1, revision);
    if (Status s = del.Run(); !s.ok()) return s;
    auto st = c.Prepare("UPDATE config_revision SET compacted = MAX(compacted, ?1) WHERE id = 0");
    st.Bind(1, revision);
    return st.Run();
  });
}

Result<ConfigListing> SqliteConfigStore::List(std::string_view prefix_view) {
  std::string prefix(prefix_view);
  std::string end = PrefixEnd(prefix);
  ConfigListing out;
  Status s = db_->With([&](meta::SqliteConn& c) {
    return ReadSnapshot(c, [&]() -> Status {
      {
        auto st = c.Prepare("SELECT revision FROM config_revision WHERE id = 0");
        auto row = st.Step();
        if (!row.ok()) return row.status();
        out.revision = *row ? st.Int(0) : 0;
      }
      auto st = c.Prepare("SELECT key, value, mod_revision FROM config_kv WHERE " +
                          PrefixCondition(prefix, end) + " ORDER BY key");
      PrefixBind(st, prefix, end);
      while (true) {
        auto row = st.Step();
        if (!row.ok()) return row.status();
        if (!*row) return Status::Ok();
        out.entries.push_back(ConfigEntry{st.Text(0), st.Text(1), st.Int(2)});
      }
    });
  });
  if (!s.ok()) return s;
  return out;
}

Result<int64_t> SqliteConfigStore::CurrentRevision() {
  return db_->With([&](meta::SqliteConn& c) -> Result<int64_t> {
    auto st = c.Prepare("SELECT revision FROM config_revision WHERE id = 0");
    auto row = st.Step();
    if (!row.ok()) return row.status();
    return *row ? st.Int(0) : int64_t{0};
  });
}

Result<SqliteConfigStore::ChangeBatch> SqliteConfigStore::ReadChanges(const std::string& prefix,
                                                                      int64_t next, int limit) {
  std::string end = PrefixEnd(prefix);
  ChangeBatch out;
  Status s = db_->With([&](meta::SqliteConn& c) {
    return ReadSnapshot(c, [&]() -> Status {
      {
        auto st = c.Prepare("SELECT compacted FROM config_revision WHERE id = 0");
        auto row = st.Step();
        if (!row.ok()) return row.status();
        if (*row && next <= st.Int(0)) {
          return Status(Code::kOutOfRange,
                        "configuration changes up to revision " + std::to_string(st.Int(0)) +
                            " were compacted; the watch needed them from revision " +
                            std::to_string(next));
        }
      }
      auto st = c.Prepare("SELECT revision, key, value, deleted FROM config_changes WHERE " +
                          PrefixCondition(prefix, end) +
                          " AND revision >= ?3 ORDER BY revision LIMIT ?4");
      PrefixBind(st, prefix, end);
      st.Bind(3, next).Bind(4, int64_t{limit});
      while (true) {
        auto row = st.Step();
        if (!row.ok()) return row.status();
        if (!*row) return Status::Ok();
        ConfigChange ch;
        ch.version = st.Int(0);
        ch.key = st.Text(1);
        ch.value = st.Text(2);
        ch.type = st.Int(3) != 0 ? ConfigChange::Type::kDelete : ConfigChange::Type::kPut;
        out.changes.push_back(std::move(ch));
      }
    });
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::unique_ptr<ConfigWatch>> SqliteConfigStore::Watch(std::string_view prefix,
                                                              int64_t from_version,
                                                              WatchCallback on_change,
                                                              WatchEndCallback on_end) {
  if (!on_change) return InvalidArgument("a watch needs a callback");
  int64_t next = from_version;
  if (next <= 0) {
    auto rev = CurrentRevision();
    if (!rev.ok()) return rev.status();
    next = *rev + 1;
  }
  auto loop = [this, prefix = std::string(prefix), next, on_change = std::move(on_change),
               on_end = std::move(on_end)](const WatchControl& control) {
    WatchLoop(prefix, next, on_change, on_end, control);
  };
  auto interrupt = [this] {
    std::lock_guard lock(wake_mu_);
    wake_cv_.notify_all();
  };
  return std::unique_ptr<ConfigWatch>(new WatchThread(std::move(loop), std::move(interrupt)));
}

void SqliteConfigStore::WatchLoop(const std::string& prefix, int64_t next,
                                  const WatchCallback& on_change, const WatchEndCallback& on_end,
                                  const WatchControl& control) {
  while (!control.cancelled()) {
    uint64_t seen;
    {
      std::lock_guard lock(wake_mu_);
      seen = writes_;
    }
    Result<ChangeBatch> batch = Status(Code::kInternal, "not read");
    try {
      batch = ReadChanges(prefix, next, kWatchBatch);
    } catch (const std::exception& e) {  // the pool could not open a connection
      batch = Status(Code::kUnavailable, e.what());
    }
    if (!batch.ok() && batch.status().is(Code::kOutOfRange)) {
      if (on_end) on_end(batch.status());
      return;
    }
    // Other errors (a busy or briefly unreadable database) are retried at the next poll.
    if (batch.ok()) {
      for (const ConfigChange& ch : batch->changes) {
        if (control.cancelled()) return;
        on_change(ch);
        next = ch.version + 1;
      }
      if (batch->changes.size() == static_cast<size_t>(kWatchBatch)) continue;
    }
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, options_.poll_interval,
                      [&] { return writes_ != seen || control.cancelled(); });
  }
}

}  // namespace dtr::config
