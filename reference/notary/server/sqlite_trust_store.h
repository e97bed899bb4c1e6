// TrustStore in SQLite: tables `tuf_files` and `tuf_changefeed` in the application's
// metadata database (the layout of notary-server's SQL storage).
#pragma once

#include <memory>

#include "meta/sqlite_db.h"
#include "notary/server/trust_store.h"

namespace dtr::notary {

class SqliteTrustStore : public TrustStore {
 public:
  // Creates the tables when missing. `db` must outlive the store.
  static Result<std::unique_ptr<SqliteTrustStore>> Open(meta::SqliteDb* db);

  Status UpdateMany(std::string_view gun, const std::vector<tuf::MetaUpdate>& updates) override;
  Result<std::optional<StoredFile>> GetCurrent(std::string_view gun,
                                               std::string_view role) override;
  Result<std::optional<StoredFile>> GetChecksum(std::string_view gun, std::string_view role,
                                                std::string_view sha256_hex) override;
  Result<std::optional<StoredFile>> GetVersion(std::string_view gun, std::string_view role,
                                               int64_t version) override;
  Result<bool> Delete(std::string_view gun) override;
  Result<std::vector<Change>> GetChanges(int64_t change_id, int records,
                                         std::string_view gun) override;
  Result<bool> HasTrustData(std::string_view gun) override;
  Result<std::vector<std::string>> GunsForRepository(std::string_view ns_repo) override;

 private:
  explicit SqliteTrustStore(meta::SqliteDb* db) : db_(db) {}
  Result<std::optional<StoredFile>> GetOne(const std::string& where, std::string_view gun,
                                           std::string_view role, std::string_view text_arg,
                                           int64_t int_arg);
  meta::SqliteDb* db_;
};

}  // namespace dtr::notary
