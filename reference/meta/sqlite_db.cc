#include "meta/sqlite_db.h"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace dtr::meta {

Status SqliteError(sqlite3* db, const std::string& what) {
  int code = sqlite3_errcode(db);
  std::string msg = what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status(Code::kUnavailable, msg);
  if (code == SQLITE_CONSTRAINT) return Status(Code::kAlreadyExists, msg);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status(Code::kCorruption, msg);
  return IOError(msg);
}

SqliteStmt& SqliteStmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> SqliteStmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, "sqlite step");
}

Status SqliteStmt::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

std::string SqliteStmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t), n);
}
int64_t SqliteStmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
bool SqliteStmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

SqliteStmt::~SqliteStmt() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

SqliteStmt SqliteConn::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) !=
        SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite prepare failed: ") + sqlite3_errmsg(db_) +
                               " in: " + sql);
    }
    it = cache_.emplace(sql, s).first;
  }
  return SqliteStmt(db_, it->second);
}

Status SqliteConn::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return IOError("sqlite: " + msg);
  }
  return Status::Ok();
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  std::unique_ptr<SqliteDb> db(new SqliteDb);
  db->path_ = path;
  auto c = db->Connect();
  if (!c.ok()) return c.status();
  if (Status s = (*c)->Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
  db->Release(std::move(c.value()));
  return db;
}

SqliteDb::~SqliteDb() = default;

Result<std::unique_ptr<SqliteConn>> SqliteDb::Connect() {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = IOError("cannot open SQLite database " + path_ + ": " +
                       (raw ? sqlite3_errmsg(raw) : "out of memory"));
    sqlite3_close(raw);
    return s;
  }
  sqlite3_busy_timeout(raw, 10000);
  auto conn = std::make_unique<SqliteConn>(raw);
  // synchronous=FULL: a committed index write survives power loss like the blobs do.
  if (Status s = conn->Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"); !s.ok()) {
    return s;
  }
  return conn;
}

std::unique_ptr<SqliteConn> SqliteDb::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = Connect();
  if (!c.ok()) throw std::runtime_error(c.status().message());
  return std::move(c.value());
}

void SqliteDb::Release(std::unique_ptr<SqliteConn> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 64) idle_.push_back(std::move(c));
}

Status SqliteDb::Transaction(const std::function<Status(SqliteConn&)>& fn) {
  return With([&](SqliteConn& c) -> Status {
    Status begin;
    for (int attempt = 0; attempt < 50; ++attempt) {
      begin = c.Exec("BEGIN IMMEDIATE");
      if (begin.ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10 + attempt * 5));
    }
    if (!begin.ok()) return Status(Code::kUnavailable, "metadata store busy: " + begin.message());
    Status s;
    try {
      s = fn(c);
    } catch (...) {
      c.Exec("ROLLBACK");
      throw;
    }
    if (!s.ok()) {
      c.Exec("ROLLBACK");
      return s;
    }
    if (Status cs = c.Exec("COMMIT"); !cs.ok()) {
      c.Exec("ROLLBACK");
      return cs;
    }
    return Status::Ok();
  });
}

}  // namespace dtr::meta
