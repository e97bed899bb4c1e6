// TUF keys as Notary writes them: {"keytype": T, "keyval": {"public": base64, "private":
// null}}, identified by the sha256 of that object's canonical JSON. Key types: "ecdsa" and
// "rsa" (public = DER SubjectPublicKeyInfo), "ed25519" (public = the 32 raw bytes),
// "ecdsa-x509" and "rsa-x509" (public = a PEM certificate, or a leaf + CA chain).
// Signature methods: "ecdsa" (SHA-256, raw r||s, each padded to the curve's size),
// "eddsa" (ed25519 over the message itself), "rsapss" (SHA-256, MGF1-SHA-256, salt 32),
// "rsapkcs1v15" (SHA-256), as github.com/theupdateframework/notary/tuf/signed verifies them.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tuf/json.h"
#include "core/tuf/tuf_time.h"

namespace dtr::tuf {

inline constexpr const char* kEcdsaKey = "ecdsa";
inline constexpr const char* kEcdsaX509Key = "ecdsa-x509";
inline constexpr const char* kRsaKey = "rsa";
inline constexpr const char* kRsaX509Key = "rsa-x509";
inline constexpr const char* kEd25519Key = "ed25519";

class PublicKey {
 public:
  PublicKey() = default;
  PublicKey(std::string type, std::string value);

  const std::string& type() const { return type_; }
  // The decoded keyval.public bytes.
  const std::string& value() const { return value_; }
  const std::string& id() const { return id_; }
  bool is_x509() const { return type_ == kEcdsaX509Key || type_ == kRsaX509Key; }

  // {"keytype":...,"keyval":{"private":null,"public":...}}
  Json ToJson() const;
  // As notary-server's key endpoints answer: {"keytype":...,"keyval":{"public":...,"private":null}}
  std::string ToServerJson() const;

 private:
  std::string type_;
  std::string value_;
  std::string id_;
};

// Parses {"keytype", "keyval": {"public"}} (Go struct decoding); unknown key types are
// accepted here (as Notary does) and fail verification later.
Result<PublicKey> PublicKeyFromJson(const Json& j);

// Ok when `signature` is a valid signature of `message` by `key` with `method`.
Status VerifySignature(const PublicKey& key, std::string_view method, std::string_view signature,
                       std::string_view message);

// A parsed X.509 certificate with what Notary checks about it.
struct Certificate {
  std::string der;
  std::string common_name;
  bool is_ca = false;
  Time not_before, not_after;
  bool sha1_signature = false;
  std::string key_type;  // kRsaX509Key, kEcdsaX509Key, or "" for other algorithms
  int key_bits = 0;
};

// Every block of `pem` must be a certificate (Go's utils.LoadCertBundleFromPEM).
Result<std::vector<Certificate>> LoadCertificateBundle(std::string_view pem);
// Notary's utils.ValidateCertificate: a sane validity window, no SHA-1, RSA >= 2048 bits,
// and (when check_expiry) valid at `now` with a day of leeway on notBefore.
Status ValidateCertificate(const Certificate& c, bool check_expiry, Time now);
// The x509 key for a leaf and its intermediates: PEM re-encoded the way Go writes it.
Result<PublicKey> CertificateBundleKey(const Certificate& leaf,
                                       const std::vector<Certificate>& intermediates);

// A private key: generated for server-managed roles, or loaded from PKCS#8.
class PrivateKey {
 public:
  // "ecdsa" (P-256), "ed25519" or "rsa" (2048 bits).
  static Result<PrivateKey> Generate(std::string_view algorithm);
  // PKCS#8 DER (as Pkcs8Der writes it) or PEM; `public_key` is the TUF key it signs for
  // (it may be a certificate key) and must match the private key.
  static Result<PrivateKey> FromPkcs8(std::string_view der_or_pem, PublicKey public_key);

  const PublicKey& public_key() const { return public_; }
  const std::string& id() const { return public_.id(); }
  std::string Pkcs8Der() const;
  // "ecdsa", "eddsa" or "rsapss".
  std::string method() const;
  Result<std::string> Sign(std::string_view message) const;
  // A self-signed certificate for this key with CN `common_name` (Notary's root and
  // delegation certificates), valid from `not_before` to `not_after`, as an x509 TUF key.
  Result<PublicKey> SelfSignedCertificate(std::string_view common_name, Time not_before,
                                          Time not_after) const;
  // Same key, with its public half presented as `key` (e.g. a certificate key).
  PrivateKey WithPublicKey(PublicKey key) const;

 private:
  PrivateKey(std::shared_ptr<EVP_PKEY> k, PublicKey pub) : key_(std::move(k)), public_(pub) {}
  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_;
};

}  // namespace dtr::tuf
