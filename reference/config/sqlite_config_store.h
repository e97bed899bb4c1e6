// SqliteConfigStore: the embedded ConfigStore, in a SQLite database (its own file, or the
// app's metadata database). Revisions come from one counter row bumped inside each write's
// BEGIN IMMEDIATE transaction, so commits happen in revision order. Every write is also
// appended to a change log that watches poll: every `poll_interval`, and at once after a
// write through the same store object. So several processes that share the file see each
// other's changes, within a poll interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/config_store.h"
#include "meta/sqlite_db.h"

namespace dtr::config {

class WatchControl;

struct SqliteConfigOptions {
  // How often a watch looks for writes made through other store objects or processes.
  std::chrono::milliseconds poll_interval{100};
  // How many past changes are kept for watches that start in the past; older ones are
  // compacted away (a watch that needs them ends with kOutOfRange). 0 keeps everything.
  int64_t history = 100000;
};

class SqliteConfigStore final : public ConfigStore {
 public:
  // Uses `db`, which must outlive the store (e.g. the app's metadata database).
  static Result<std::unique_ptr<SqliteConfigStore>> Open(meta::SqliteDb* db,
                                                         SqliteConfigOptions options = {});
  // Opens or creates a database file of its own.
  static Result<std::unique_ptr<SqliteConfigStore>> OpenFile(const std::string& path,
                                                             SqliteConfigOptions options = {});
  ~SqliteConfigStore() override;

  Result<ConfigEntry> Get(std::string_view key) override;
  Result<int64_t> Put(std::string_view key, std::string_view value) override;
  Result<int64_t> CompareAndSwap(std::string_view key, int64_t expected_version,
                                 std::string_view value,
                                 int64_t* current_version = nullptr) override;
  Result<int64_t> Delete(std::string_view key,
                         std::optional<int64_t> expected_version = std::nullopt) override;
  Result<ConfigListing> List(std::string_view prefix) override;
  Result<std::unique_ptr<ConfigWatch>> Watch(std::string_view prefix, int64_t from_version,
                                             WatchCallback on_change,
                                             WatchEndCallback on_end = nullptr) override;
  std::string Describe() const override;

  // Drops the change history up to and including `revision` (as etcd's compaction does).
  Status Compact(int64_t revision);

 private:
  struct Mutation;
  struct ChangeBatch;
  SqliteConfigStore(meta::SqliteDb* db, SqliteConfigOptions options, std::string where);
  Result<int64_t> Apply(const Mutation& m, int64_t* current_version);
  Result<ChangeBatch> ReadChanges(const std::string& prefix, int64_t next, int limit);
  Result<int64_t> CurrentRevision();
  void WatchLoop(const std::string& prefix, int64_t next, const WatchCallback& on_change,
                 const WatchEndCallback& on_end, const WatchControl& control);

  std::unique_ptr<meta::SqliteDb> owned_;
  meta::SqliteDb* db_;
  SqliteConfigOptions options_;
  std::string where_;

  // Wakes this object's watches after its own writes.
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  uint64_t writes_ = 0;
};

}  // namespace dtr::config
