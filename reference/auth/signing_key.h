// EC P-256 keys that sign and verify registry tokens with ES256 (RFC 7518 section 3.4), and the
// names Docker gives them: the libtrust key id that goes into a JWT's `kid`, and the public key
// as a JWK (RFC 7517). A SigningKey holds the private key; a PublicKey never does, so it can be
// handed to any component that only verifies. Both are cheap to copy and safe to use from many
// threads at once.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace dtr::auth {

class PublicKey {
 public:
  // From PEM "PUBLIC KEY" (SubjectPublicKeyInfo). Only EC P-256 keys are accepted.
  static Result<PublicKey> FromPem(std::string_view pem);
  // From {"kty":"EC","crv":"P-256","x":...,"y":...}; the point must lie on the curve. A "kid"
  // member is ignored: the id is always computed from the key.
  static Result<PublicKey> FromJwk(const nlohmann::json& jwk);

  // libtrust fingerprint: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32
  // without padding, in 12 groups of 4 joined by ':' ("PYYO:TEWU:...:Z7Q6").
  const std::string& KeyId() const { return key_id_; }
  // {"kty":"EC","crv":"P-256","kid":...,"x":...,"y":...,"use":"sig","alg":"ES256"}
  nlohmann::json Jwk() const;
  std::string Pem() const;

  // True when `signature` is a raw ES256 signature of `data`: r and s, 32 bytes each, big-endian.
  bool VerifyEs256(std::string_view data, std::string_view signature) const;

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  friend class SigningKey;
  static Result<PublicKey> FromPkey(std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<EVP_PKEY> key_;
  std::string key_id_;
};

class SigningKey {
 public:
  static Result<SigningKey> Generate();
  // From PEM "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC 1), unencrypted, EC P-256 only.
  static Result<SigningKey> FromPem(std::string_view pem);
  // Loads the key at `path`, or creates one there (PKCS#8 PEM, mode 0600) if the file does not
  // exist. The parent directory must exist. Creation is durable and safe against a concurrent
  // creator: whichever process links its file first wins and the other loads that key.
  static Result<SigningKey> LoadOrCreate(const std::string& path);

  std::string PrivatePem() const;
  const PublicKey& public_key() const { return public_key_; }
  const std::string& PublicKeyId() const { return public_key_.KeyId(); }
  nlohmann::json PublicJwk() const { return public_key_.Jwk(); }

  // Raw ES256 signature of `data` (64 bytes, r || s), as JWS wants it rather than OpenSSL's DER.
  Result<std::string> SignEs256(std::string_view data) const;

 private:
  SigningKey(std::shared_ptr<EVP_PKEY> key, PublicKey public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}
  static Result<SigningKey> FromPkey(EVP_PKEY* owned);

  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_key_;
};

}  // namespace dtr::auth
