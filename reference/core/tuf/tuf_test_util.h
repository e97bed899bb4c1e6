// Test helpers for the TUF core: a small TUF client that makes and signs metadata with its
// own keys, an in-memory signer and an in-memory metadata store, and the fixtures made by
// the real notary client (fixtures/trust, see generate.sh there).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/tuf/json.h"
#include "core/tuf/keys.h"
#include "core/tuf/metadata.h"
#include "core/tuf/repo.h"

namespace dtr::tuf::testing {

// fixtures/trust/<path>; fails the test when missing.
std::string Fixture(const std::string& path);
// A time at which the fixtures are all valid (just after they were made).
Time FixtureTime();

// Signs a "signed" value with each key; returns the file bytes.
std::string SignWith(const Json& signed_value, const std::vector<const PrivateKey*>& keys);

class MemoryCrypto : public CryptoService {
 public:
  Result<PublicKey> Create(std::string_view gun, std::string_view role,
                           std::string_view algorithm) override;
  Result<std::optional<PublicKey>> GetKey(std::string_view key_id) override;
  Result<Signature> Sign(const PublicKey& key, std::string_view message) override;
  void Forget(const std::string& key_id) { keys_.erase(key_id); }

 private:
  struct Held {
    PrivateKey key;
    std::string gun, role;
    bool used = false;
  };
  std::map<std::string, Held> keys_;
};

class MemorySource : public MetadataSource {
 public:
  Result<std::optional<std::string>> Current(std::string_view role) override;
  Result<std::optional<std::string>> ByChecksum(std::string_view role,
                                                std::string_view sha256_hex) override;
  // Stores the updates as notary-server does: each version must be newer.
  Status Apply(const std::vector<MetaUpdate>& updates);
  size_t count() const;

 private:
  std::map<std::string, std::map<int64_t, std::string>> files_;
};

// A publisher of one GUN, as the notary client behaves: a root certificate key (CN = GUN),
// a targets key, a snapshot key it holds itself, and the server's timestamp key.
class TestPublisher {
 public:
  TestPublisher(std::string gun, CryptoService* server, Time now);
  // With the timestamp key a server handed out (GET .../timestamp.key).
  TestPublisher(std::string gun, PublicKey timestamp_key, Time now);

  const std::string& gun() const { return gun_; }
  PrivateKey& root_key() { return root_key_; }
  PrivateKey& targets_key() { return targets_key_; }
  PrivateKey& snapshot_key() { return snapshot_key_; }
  PublicKey& timestamp_key() { return timestamp_key_; }
  Time now() const { return now_; }

  // The root's "signed" value, and the root signed by the root key (remembered as the
  // current root for later publishes).
  Json RootValue(int64_t version, Time expires) const;
  std::string Root(int64_t version);
  const std::string& last_root() const { return last_root_; }
  std::string Targets(int64_t version, const std::map<std::string, std::string>& targets,
                      const std::vector<std::pair<std::string, PrivateKey*>>& delegations = {});
  // A snapshot describing `files` (role -> bytes).
  std::string Snapshot(int64_t version, const std::map<std::string, std::string>& files);
  // One publish: root (when root_version > 0), targets and snapshot.
  std::vector<MetaUpdate> Publish(int64_t root_version, int64_t version,
                                  const std::map<std::string, std::string>& targets);

  bool server_snapshot = false;  // the root names the server's snapshot key
  PublicKey server_snapshot_key;

 private:
  std::string gun_;
  Time now_;
  PrivateKey root_key_, targets_key_, snapshot_key_;
  PublicKey root_cert_;
  PublicKey timestamp_key_;
  std::string last_root_;
};

}  // namespace dtr::tuf::testing
