// Small helpers for the jobrunner's SQLite tables (pruning policies, webhooks): run one
// statement on a pooled connection and turn rows into values, with exceptions from the
// driver turned into Status values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "meta/sqlite_db.h"

namespace dtr::jobs::sql {

template <class Fn>
auto Guard(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status(Code::kInternal, std::string(what) + ": " + e.what());
  }
}

// Rows of `sql` after `bind`, each turned into a T by `row`.
template <class T, class Bind, class Row>
Result<std::vector<T>> Query(meta::SqliteDb* db, const std::string& sql, Bind&& bind, Row&& row) {
  return Guard("sqlite", [&]() -> Result<std::vector<T>> {
    return db->With([&](meta::SqliteConn& c) -> Result<std::vector<T>> {
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

// Runs `sql`; returns the number of rows it changed.
template <class Bind>
Result<int64_t> Exec(meta::SqliteDb* db, const std::string& sql, Bind&& bind) {
  return Guard("sqlite", [&]() -> Result<int64_t> {
    return db->With([&](meta::SqliteConn& c) -> Result<int64_t> {
      auto st = c.Prepare(sql);
      bind(st);
      if (Status s = st.Run(); !s.ok()) return s;
      return static_cast<int64_t>(sqlite3_changes(c.raw()));
    });
  });
}

inline Status Schema(meta::SqliteDb* db, const char* ddl) {
  return Guard("sqlite", [&]() -> Status {
    return db->With([&](meta::SqliteConn& c) { return c.Exec(ddl); });
  });
}

template <class T>
Result<std::optional<T>> First(Result<std::vector<T>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(std::move(rows->front()));
}

}  // namespace dtr::jobs::sql
