// KeyCrypter: how notary-signer keeps private keys at rest. A 256-bit key-encryption key is
// derived once from the passphrase with PBKDF2-HMAC-SHA256 and a per-database salt; each
// private key is sealed with AES-256-GCM under a fresh 96-bit nonce, bound to its key id
// (additional authenticated data), so a sealed key cannot be swapped onto another id.
// Sealed form: "v1" || nonce(12) || ciphertext || tag(16).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr::notary {

class KeyCrypter {
 public:
  static constexpr int kIterations = 200000;

  // Derives the key-encryption key. `salt` is random, stored beside the keys.
  static Result<KeyCrypter> Derive(std::string_view passphrase, std::string_view salt,
                                   int iterations = kIterations);
  KeyCrypter(const KeyCrypter&) = default;
  KeyCrypter& operator=(const KeyCrypter&) = default;
  ~KeyCrypter();

  Result<std::string> Seal(std::string_view plaintext, std::string_view associated) const;
  // kPermissionDenied when the passphrase is wrong or the data was tampered with.
  Result<std::string> Open(std::string_view sealed, std::string_view associated) const;

 private:
  explicit KeyCrypter(std::string kek) : kek_(std::move(kek)) {}
  std::string kek_;
};

std::string RandomBytes(size_t n);

}  // namespace dtr::notary
