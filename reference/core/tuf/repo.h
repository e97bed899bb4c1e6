// What notary-server decides about a trusted collection (GUN), without doing any I/O: the
// current metadata comes through MetadataSource and signatures through CryptoService,
// both supplied by the caller.
//
// ValidateUpdate is notary-server's validateUpdate: a new root must be version current or
// current+1, valid for the GUN and (when replacing one) signed by the old root's keys;
// each targets role is loaded after its ancestors and verified with its parent's keys; an
// uploaded snapshot must be signed by the root's snapshot keys and agree with every role
// loaded; with no snapshot uploaded the server signs one (if it holds the snapshot key);
// the server always signs a fresh timestamp. Versions are not compared with stored ones
// here: storing refuses a version that is not newer (storage's job, atomically).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tuf/keys.h"
#include "core/tuf/metadata.h"
#include "core/tuf/tuf_time.h"

namespace dtr::tuf {

struct MetaUpdate {
  std::string role;
  int64_t version = 0;
  std::string data;
};

// The metadata a server holds for one GUN.
class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  // The newest version of `role`, or nullopt.
  virtual Result<std::optional<std::string>> Current(std::string_view role) = 0;
  // The version of `role` whose sha256 is `sha256_hex`, or nullopt.
  virtual Result<std::optional<std::string>> ByChecksum(std::string_view role,
                                                        std::string_view sha256_hex) = 0;
};

// Holds the server-managed private keys (notary-signer's API).
class CryptoService {
 public:
  virtual ~CryptoService() = default;
  // A key for `role` of `gun`: one created earlier and never used to sign is handed out
  // again, otherwise a new one.
  virtual Result<PublicKey> Create(std::string_view gun, std::string_view role,
                                   std::string_view algorithm) = 0;
  // The public key, when the service holds the private key of `key_id`.
  virtual Result<std::optional<PublicKey>> GetKey(std::string_view key_id) = 0;
  // Signs `message` with the private key of `key` (marking it used); kNotFound when the
  // service does not hold it.
  virtual Result<Signature> Sign(const PublicKey& key, std::string_view message) = 0;
};

// How long server-signed metadata is valid (notary-server's defaults).
struct ServerExpiries {
  int64_t snapshot_seconds = 3 * 365 * 86400;
  int64_t timestamp_seconds = 14 * 86400;
};

// Error tags (Status::tag) of a refused update, as notary-server names them in the
// INVALID_UPDATE detail: ErrValidation, ErrBadRoot, ErrBadTargets, ErrBadSnapshot,
// ErrBadHierarchy. Other failures (storage, signer) carry no tag.
inline constexpr const char* kErrValidation = "ErrValidation";
inline constexpr const char* kErrBadRoot = "ErrBadRoot";
inline constexpr const char* kErrBadTargets = "ErrBadTargets";
inline constexpr const char* kErrBadSnapshot = "ErrBadSnapshot";
inline constexpr const char* kErrBadHierarchy = "ErrBadHierarchy";

// The updates to store, in order: root, targets roles, snapshot (uploaded or generated),
// and the generated timestamp.
Result<std::vector<MetaUpdate>> ValidateUpdate(std::string_view gun,
                                               const std::vector<MetaUpdate>& updates,
                                               MetadataSource& store, CryptoService& crypto,
                                               Time now, const ServerExpiries& expiries = {});

// notary-server's GetOrCreateTimestamp: the current timestamp, re-signed (with a new
// snapshot when the server manages an expired one) when it has expired or no longer
// matches the snapshot. `to_store` lists what must be stored before serving `data`.
struct ServedTimestamp {
  std::string data;
  bool fresh = false;  // generated now
  std::vector<MetaUpdate> to_store;
};
// kNotFound when the GUN has no timestamp or its snapshot is missing.
Result<ServedTimestamp> CurrentTimestamp(std::string_view gun, MetadataSource& store,
                                         CryptoService& crypto, Time now,
                                         const ServerExpiries& expiries = {});

// The server-managed key of `role` (timestamp or snapshot): the one the current root names
// if the signer holds it, else a new one (GetOrCreateTimestampKey / GetOrCreateSnapshotKey).
Result<PublicKey> GetOrCreateServerKey(std::string_view gun, std::string_view role,
                                       MetadataSource& store, CryptoService& crypto,
                                       std::string_view algorithm);

}  // namespace dtr::tuf
