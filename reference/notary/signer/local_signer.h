// LocalSigner: notary-signer's key store and signing service. Private keys of server-managed
// roles (timestamp, snapshot) live only here, sealed with a KeyCrypter in their own SQLite
// database (table signer_keys), and never leave: callers get public keys and signatures.
// Like notary-signer, Create hands out a key that was created but never used to sign
// (so a client that asks twice before publishing gets the same key) and signing marks a
// key used. Decrypted keys are cached in memory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/tuf/repo.h"
#include "meta/sqlite_db.h"
#include "notary/signer/key_crypter.h"

namespace dtr::notary {

// The signer passphrase: DTR_SIGNER_PASSPHRASE, else the contents of the file named by
// DTR_SIGNER_PASSPHRASE_FILE, else `<dir>/passphrase` (created with 32 random bytes, mode
// 0600, on first use: keeps a fresh `dtr serve` working without configuration).
Result<std::string> LoadSignerPassphrase(const std::string& dir);

class LocalSigner : public tuf::CryptoService {
 public:
  // Opens (creating) `<dir>/signer.db`. Fails with kPermissionDenied when `passphrase` is
  // not the one the existing keys were sealed with. The key-encryption key is derived
  // here when keys exist, else when the first key is made.
  static Result<std::unique_ptr<LocalSigner>> Open(const std::string& dir,
                                                   const std::string& passphrase);
  ~LocalSigner() override;

  Result<tuf::PublicKey> Create(std::string_view gun, std::string_view role,
                                std::string_view algorithm) override;
  Result<std::optional<tuf::PublicKey>> GetKey(std::string_view key_id) override;
  Result<tuf::Signature> Sign(const tuf::PublicKey& key, std::string_view message) override;

 private:
  LocalSigner(std::unique_ptr<meta::SqliteDb> db, std::string dir, std::string passphrase)
      : db_(std::move(db)), dir_(std::move(dir)), passphrase_(std::move(passphrase)) {}
  Status Unlock();
  Result<std::optional<tuf::PrivateKey>> Load(const std::string& key_id);

  std::unique_ptr<meta::SqliteDb> db_;
  std::string dir_;
  std::string passphrase_;
  std::mutex unlock_mu_;
  std::optional<KeyCrypter> crypter_;
  std::mutex mu_;
  std::map<std::string, tuf::PrivateKey> cache_;
  std::map<std::string, bool> marked_used_;
};

}  // namespace dtr::notary
