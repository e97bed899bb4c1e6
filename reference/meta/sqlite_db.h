// A thin RAII layer over the SQLite C API: a connection pool with WAL, prepared statements
// with typed binds, and transactions. Used by the SQLite MetaStore and ConfigStore.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace dtr::meta {

class SqliteConn;

class SqliteStmt {
 public:
  SqliteStmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  SqliteStmt& Bind(int i, std::string_view v);
  SqliteStmt& Bind(int i, int64_t v);
  SqliteStmt& BindNull(int i);
  // Steps once: true when a row is available.
  Result<bool> Step();
  Status Run();  // steps to completion
  std::string Text(int col) const;
  int64_t Int(int col) const;
  bool IsNull(int col) const;
  ~SqliteStmt();

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class SqliteConn {
 public:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;
  // A cached prepared statement, reset and ready to bind.
  SqliteStmt Prepare(const std::string& sql);
  Status Exec(const std::string& sql);
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteDb {
 public:
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();

  // Runs fn with a pooled connection.
  template <class F>
  auto With(F&& fn) {
    auto c = Acquire();
    struct Return {
      SqliteDb* db;
      std::unique_ptr<SqliteConn>* c;
      ~Return() { db->Release(std::move(*c)); }
    } ret{this, &c};
    return fn(*c);
  }
  // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back when fn fails.
  Status Transaction(const std::function<Status(SqliteConn&)>& fn);

 private:
  std::unique_ptr<SqliteConn> Acquire();
  void Release(std::unique_ptr<SqliteConn> c);
  Result<std::unique_ptr<SqliteConn>> Connect();

  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqliteConn>> idle_;
};

Status SqliteError(sqlite3* db, const std::string& what);

// Shared by the SQLite stores: run `fn`, turning an exception (a statement that failed to
// prepare) into kInternal named after `store`.
template <class Fn>
auto GuardSql(const char* store, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status(Code::kInternal, std::string(store) + ": " + e.what());
  }
}

// Runs a statement that returns rows, converting each with `row`.
template <class T, class Bind, class Row>
Result<std::vector<T>> QueryRows(const char* store, SqliteDb* db, const std::string& sql,
                                 Bind&& bind, Row&& row) {
  return GuardSql(store, [&]() -> Result<std::vector<T>> {
    return db->With([&](SqliteConn& c) -> Result<std::vector<T>> {
      auto st = c.Prepare(sql);
      bind(st);
      std::vector<T> out;
      while (true) {
        auto r = st.Step();
        if (!r.ok()) return r.status();
        if (!*r) break;
        out.push_back(row(st));
      }
      return out;
    });
  });
}

// Runs a statement to completion; returns the number of rows it changed.
template <class Bind>
Result<int64_t> ExecSql(const char* store, SqliteDb* db, const std::string& sql, Bind&& bind) {
  return GuardSql(store, [&]() -> Result<int64_t> {
    return db->With([&](SqliteConn& c) -> Result<int64_t> {
      auto st = c.Prepare(sql);
      bind(st);
      if (Status s = st.Run(); !s.ok()) return s;
      return static_cast<int64_t>(sqlite3_changes(c.raw()));
    });
  });
}

template <class T>
Result<std::optional<T>> FirstRow(Result<std::vector<T>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(std::move(rows->front()));
}

}  // namespace dtr::meta
