// TrustStore: where notary-server keeps TUF metadata, one row per (GUN, role, version), and
// the changefeed (notary's server/storage MetaStore). The contract every implementation
// keeps (TrustStoreContract in sqlite_trust_store_test.cc checks it):
//  - UpdateMany stores several files atomically: all or none. A file whose version is not
//    newer than every stored version of its (GUN, role) fails the whole call with kAlreadyExists
//    and tag "VERSION". Each timestamp stored adds an "update" change.
//  - Delete removes every file of a GUN and, when there were any, adds a "deletion" change.
//  - Reads never see part of an UpdateMany.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tuf/repo.h"

namespace dtr::notary {

struct StoredFile {
  std::string role;
  int64_t version = 0;
  std::string sha256;  // hex
  std::string data;
  int64_t created_at = 0;  // unix seconds
};

struct Change {
  int64_t id = 0;
  int64_t created_at = 0;
  std::string gun;
  int64_t version = 0;
  std::string sha256;
  std::string category;  // "update" or "deletion"
};

// A tag signed in a GUN's targets (or a delegation), for DTR's tag APIs.
struct SignedTarget {
  std::string name;
  std::string sha256_hex;  // the digest the signers vouched for ("" if only sha512)
  int64_t length = 0;
  std::vector<std::string> roles;  // "targets", "targets/releases", ...
};

class TrustStore {
 public:
  virtual ~TrustStore() = default;

  virtual Status UpdateMany(std::string_view gun, const std::vector<tuf::MetaUpdate>& updates) = 0;
  // The newest version of a role; nullopt when there is none.
  virtual Result<std::optional<StoredFile>> GetCurrent(std::string_view gun,
                                                       std::string_view role) = 0;
  virtual Result<std::optional<StoredFile>> GetChecksum(std::string_view gun, std::string_view role,
                                                        std::string_view sha256_hex) = 0;
  virtual Result<std::optional<StoredFile>> GetVersion(std::string_view gun, std::string_view role,
                                                       int64_t version) = 0;
  // True when there was anything to delete.
  virtual Result<bool> Delete(std::string_view gun) = 0;
  // Changes after `change_id` (records > 0), or the `-records` before it (records < 0; a
  // change_id < 0 means "from the newest"), oldest first; filtered to one GUN when `gun` is
  // not empty.
  virtual Result<std::vector<Change>> GetChanges(int64_t change_id, int records,
                                                 std::string_view gun) = 0;
  // Whether a GUN has any trust data.
  virtual Result<bool> HasTrustData(std::string_view gun) = 0;
  // The GUNs with trust data for a DTR repository "ns/repo": "ns/repo" itself and any
  // "<host>/ns/repo" (clients name the registry host they pushed to).
  virtual Result<std::vector<std::string>> GunsForRepository(std::string_view ns_repo) = 0;

  // The tags signed in the GUN's current targets and delegations, by name. DTR's tag API
  // reports inNotary (present) and hashMismatch (sha256_hex differs from the tag's digest).
  Result<std::map<std::string, SignedTarget>> SignedTargets(std::string_view gun);
};

// Reads one GUN's files from a TrustStore, for the TUF core. It remembers when the file
// Current() last returned for a role was stored, so that a caller can serve those bytes
// without reading them again (one query less on every GET of timestamp.json).
class StoreSource : public tuf::MetadataSource {
 public:
  StoreSource(TrustStore* store, std::string gun) : store_(store), gun_(std::move(gun)) {}
  Result<std::optional<std::string>> Current(std::string_view role) override;
  Result<std::optional<std::string>> ByChecksum(std::string_view role,
                                                std::string_view sha256_hex) override;
  // created_at of the file the last Current(role) returned; 0 when it returned none.
  int64_t CurrentCreatedAt(std::string_view role) const;

 private:
  TrustStore* store_;
  std::string gun_;
  std::map<std::string, int64_t, std::less<>> current_created_at_;
};

}  // namespace dtr::notary
