// The signed TUF metadata Notary exchanges: the envelope {"signed": ..., "signatures": [...]}
// and the four role types (root, targets and its delegations, snapshot, timestamp), decoded
// the way Notary's Go structs decode them and checked the way tuf/data checks their
// structure (types, versions >= 1, role specifications, hash sizes). Signatures, expiry and
// the relations between roles are checked in verify.h and repo.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tuf/json.h"
#include "core/tuf/keys.h"
#include "core/tuf/tuf_time.h"

namespace dtr::tuf {

inline constexpr const char* kRootRole = "root";
inline constexpr const char* kTargetsRole = "targets";
inline constexpr const char* kSnapshotRole = "snapshot";
inline constexpr const char* kTimestampRole = "timestamp";

// "targets/<name>[/...]": lowercase letters, digits, '-', '_', '/', clean, < 256 bytes.
bool IsDelegation(std::string_view role);
bool IsBaseRole(std::string_view role);
bool ValidRole(std::string_view role);
// path.Dir of a role name ("targets/a/b" -> "targets/a").
std::string ParentRole(std::string_view role);

struct Signature {
  std::string key_id;
  std::string method;  // lowercased, as Notary's decoder does
  std::string sig;     // raw bytes
};

// The envelope. `canonical` is what the signatures cover: the "signed" value decoded and
// re-encoded canonically (empty when it cannot be, e.g. not an object).
struct Signed {
  Json signed_value;
  std::string canonical;
  std::string canonical_error;
  std::vector<Signature> signatures;
};
Result<Signed> ParseSigned(std::string_view bytes);
// {"signed":<canonical>,"signatures":[...]} as Go's json.Marshal writes a data.Signed.
std::string SerializeSigned(std::string_view canonical, const std::vector<Signature>& sigs);

struct SignedCommon {
  std::string type;
  Time expires;
  int64_t version = 0;
};

struct RoleKeys {
  std::vector<std::string> key_ids;
  int64_t threshold = 0;
};

struct DelegationRole {
  std::string name;
  RoleKeys keys;
  std::vector<std::string> paths;
};

struct FileMeta {
  int64_t length = 0;
  std::map<std::string, std::string> hashes;  // algorithm -> raw digest
  std::optional<Json> custom;
};
// sha256 and sha512 of `data`, and its length (Notary's NewFileMeta with its default hashes).
FileMeta FileMetaFor(std::string_view data);
// Notary's data.CheckHashes: every sha256/sha512 given must match, and one must be given.
Status CheckHashes(std::string_view data, std::string_view role,
                   const std::map<std::string, std::string>& hashes);

struct Root {
  SignedCommon common;
  std::map<std::string, PublicKey> keys;
  std::map<std::string, std::optional<RoleKeys>> roles;
  bool consistent_snapshot = false;
};

struct Targets {
  SignedCommon common;
  std::map<std::string, FileMeta> targets;
  std::map<std::string, PublicKey> delegation_keys;
  std::vector<DelegationRole> delegation_roles;
};

// Snapshot and timestamp share a shape: checksums of other roles' files.
struct MetaFiles {
  SignedCommon common;
  std::map<std::string, FileMeta> meta;
};

// Each decodes the "signed" value and checks its structure; errors read like Notary's
// ("root type metadata invalid: missing snapshot role specification").
Result<Root> ParseRoot(const Json& signed_value);
Result<Targets> ParseTargets(const Json& signed_value, std::string_view role);
Result<MetaFiles> ParseSnapshot(const Json& signed_value);
Result<MetaFiles> ParseTimestamp(const Json& signed_value);
// Structure checks alone, for metadata built in memory.
Status CheckSnapshotStructure(const MetaFiles& s);
Status CheckTimestampStructure(const MetaFiles& t);

// The "signed" value of a snapshot or timestamp, for signing.
Json MetaFilesToJson(const MetaFiles& m);

}  // namespace dtr::tuf
