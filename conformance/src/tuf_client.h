// The suite's own TUF client for the `trust` group: just enough of notary's wire format to
// publish a repository and to check what a Notary v1 server serves, written from notary's
// formats and independent of any server it checks.
//   - canonical JSON as notary's go-canonical-json writes it (sorted keys, no whitespace,
//     only `"` and `\` escaped, integers only);
//   - keys in notary's JSON ({"keytype","keyval":{"private":null,"public":base64}}), their
//     IDs (sha256 of that canonical JSON), P-256 ECDSA signatures as raw r||s over the
//     canonical `signed` bytes; verification also of ecdsa-x509 and ed25519 ("eddsa") keys,
//     what notary-server's own signers use;
//   - root/targets/snapshot metadata built and signed, and the checks a client makes on
//     what it downloads (signatures against a role's keys and threshold, hashes, lengths,
//     versions, expiry).
// Errors are values: checks return "" when fine, else why not.
#pragma once

#include <nlohmann/json.hpp>

#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dtrc::tuf {

using nlohmann::json;

// notary's canonical form of `v`; nullopt for a number with a fraction (none has one).
std::optional<std::string> canonical_json(const json& v);

std::string base64_decode_std(std::string_view in, bool* ok);
std::string sha256_raw(std::string_view data);
std::string sha512_raw(std::string_view data);
std::string hex(std::string_view raw);

// "2036-11-24T02:03:56Z" for a Unix time; parse accepts a fraction and Z or an offset.
std::string rfc3339(std::time_t t);
std::optional<std::time_t> parse_rfc3339(const std::string& s);

// A public key as notary writes it.
struct PublicKey {
  std::string type;     // ecdsa, ecdsa-x509, ed25519, rsa, rsa-x509
  std::string public_;  // the keyval.public base64 text
  std::string id;       // sha256 hex of the canonical key JSON
  json to_json() const;
};
std::optional<PublicKey> public_key_from_json(const json& j, std::string* why);
// True when `sig` (raw bytes) is a valid signature of `message` by `key` with `method`.
bool verify_signature(const PublicKey& key, std::string_view method, std::string_view message,
                      std::string_view sig, std::string* why);

// A P-256 private key; as a root key its public form is a self-signed ecdsa-x509
// certificate whose common name is the GUN, as notary-server's trust pinning requires.
class PrivateKey {
 public:
  static PrivateKey generate();
  static PrivateKey generate_root(const std::string& gun);
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  ~PrivateKey();
  const PublicKey& public_key() const { return public_; }
  const std::string& id() const { return public_.id; }
  std::string sign(std::string_view message) const;  // raw r||s, 64 bytes

 private:
  struct Impl;
  explicit PrivateKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  PublicKey public_;
};

// {"signed":<canonical>,"signatures":[{"keyid","method":"ecdsa","sig"}...]}
std::string sign_document(const json& signed_value, const std::vector<const PrivateKey*>& keys);

// A downloaded signed document: its `signed` value and canonical bytes, its signatures.
struct Signature {
  std::string key_id, method, sig;  // sig raw
};
struct SignedDoc {
  json value;
  std::string canonical;
  std::vector<Signature> signatures;
};
std::optional<SignedDoc> parse_signed(std::string_view body, std::string* why);

// A role as a root names it: keys by ID and a threshold.
struct Role {
  std::map<std::string, PublicKey> keys;
  int threshold = 1;
};
// The role `name` of a root value (keys looked up in its "keys").
std::optional<Role> role_of(const json& root_value, const std::string& name, std::string* why);
// "" when at least `threshold` distinct keys of `role` signed `doc`.
std::string check_signatures(const SignedDoc& doc, const Role& role);
// "" when the common fields are right: _type, integer version >= 1 (== want_version when >0),
// expires in the future of `now`.
std::string check_common(const SignedDoc& doc, const std::string& type, std::time_t now,
                         long long want_version = 0);
// "" when meta[name] of a snapshot or timestamp names `bytes`: length and sha256 (and
// sha512 when given).
std::string check_meta(const json& signed_value, const std::string& name, std::string_view bytes);
// The full check of a timestamp: signed by `server_key`, common fields, names `snapshot`.
std::string check_timestamp(std::string_view body, const PublicKey& server_key,
                            std::string_view snapshot, std::time_t now);

// {"hashes":{"sha256":b64,"sha512":b64},"length":n}
json file_meta(std::string_view bytes);

// A client's keys for one GUN, and the metadata it builds and signs with them.
class Publisher {
 public:
  Publisher(std::string gun, PublicKey timestamp_key);

  std::string gun;
  PrivateKey root_key, targets_key, snapshot_key;
  PublicKey timestamp_key;
  std::optional<PublicKey> server_snapshot_key;  // set: the server signs snapshots
  std::time_t now;

  json root_value(long long version, std::time_t expires) const;
  json targets_value(long long version, const std::map<std::string, std::string>& targets,
                     std::time_t expires) const;
  json snapshot_value(long long version, std::string_view root, std::string_view targets,
                      std::time_t expires) const;
  std::string root(long long version) const;  // signed by root_key, expires in 10 years
  std::string targets(long long version, const std::map<std::string, std::string>& targets) const;
  std::string snapshot(long long version, std::string_view root, std::string_view targets) const;
};

}  // namespace dtrc::tuf
