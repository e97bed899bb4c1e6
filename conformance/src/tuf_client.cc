#include "tuf_client.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "auth.h"

namespace dtrc::tuf {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

void append_string(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

bool append_canonical(const json& v, std::string* out) {
  switch (v.type()) {
    case json::value_t::null:
      out->append("null");
      return true;
    case json::value_t::boolean:
      out->append(v.get<bool>() ? "true" : "false");
      return true;
    case json::value_t::number_integer:
      out->append(std::to_string(v.get<long long>()));
      return true;
    case json::value_t::number_unsigned:
      out->append(std::to_string(v.get<unsigned long long>()));
      return true;
    case json::value_t::number_float: {
      double f = v.get<double>();
      if (!std::isfinite(f) || std::floor(f) != f || std::fabs(f) >= 9.2e18) return false;
      out->append(std::to_string(static_cast<long long>(f)));
      return true;
    }
    case json::value_t::string:
      append_string(v.get_ref<const std::string&>(), out);
      return true;
    case json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out->push_back(',');
        first = false;
        if (!append_canonical(item, out)) return false;
      }
      out->push_back(']');
      return true;
    }
    case json::value_t::object: {
      // nlohmann's object is a std::map: keys already in byte order, as Go sorts them.
      out->push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        append_string(k, out);
        out->push_back(':');
        if (!append_canonical(item, out)) return false;
      }
      out->push_back('}');
      return true;
    }
    default:
      return false;
  }
}

std::string digest_raw(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string key_id_of(const std::string& type, const std::string& pub) {
  json j = {{"keytype", type}, {"keyval", {{"private", nullptr}, {"public", pub}}}};
  return hex(sha256_raw(*canonical_json(j)));
}

// The EVP key behind a notary public key.
Pkey load_public(const PublicKey& key, std::string* why) {
  bool ok = false;
  std::string raw = base64_decode_std(key.public_, &ok);
  if (!ok) {
    *why = "key " + key.id + ": public is not base64";
    return nullptr;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  if (key.type == "ecdsa" || key.type == "rsa") {
    Pkey k(d2i_PUBKEY(nullptr, &p, static_cast<long>(raw.size())));
    if (!k) *why = "key " + key.id + ": not a DER public key";
    return k;
  }
  if (key.type == "ecdsa-x509" || key.type == "rsa-x509") {
    BIO* bio = BIO_new_mem_buf(raw.data(), static_cast<int>(raw.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (cert == nullptr) {
      *why = "key " + key.id + ": not a PEM certificate";
      return nullptr;
    }
    Pkey k(X509_get_pubkey(cert));
    X509_free(cert);
    return k;
  }
  if (key.type == "ed25519") {
    Pkey k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, p, raw.size()));
    if (!k) *why = "key " + key.id + ": not a 32-byte ed25519 key";
    return k;
  }
  *why = "key " + key.id + ": unsupported key type " + key.type;
  return nullptr;
}

// Raw r||s (what notary's ecdsa signer writes) to the DER form OpenSSL verifies.
std::string ecdsa_raw_to_der(std::string_view sig) {
  size_t half = sig.size() / 2;
  ECDSA_SIG* s = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), int(half), nullptr);
  BIGNUM* ss =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + half, int(half), nullptr);
  ECDSA_SIG_set0(s, r, ss);
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(s, &der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), n) : "";
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  return out;
}

}  // namespace

std::optional<std::string> canonical_json(const json& v) {
  std::string out;
  if (!append_canonical(v, &out)) return std::nullopt;
  return out;
}

std::string base64_decode_std(std::string_view in, bool* ok) {
  *ok = false;
  if (in.size() % 4 != 0) return "";
  std::string out;
  int val = 0, bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    int d;
    if (c >= 'A' && c <= 'Z') {
      d = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      d = c - '0' + 52;
    } else if (c == '+') {
      d = 62;
    } else if (c == '/') {
      d = 63;
    } else if (c == '=' && i + 2 >= in.size()) {
      ++pad;
      continue;
    } else {
      return "";
    }
    if (pad) return "";
    val = (val << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
    }
  }
  *ok = true;
  return out;
}

std::string sha256_raw(std::string_view data) { return digest_raw(EVP_sha256(), data); }
std::string sha512_raw(std::string_view data) { return digest_raw(EVP_sha512(), data); }

std::string hex(std::string_view raw) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::time_t> parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
      n != 19) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  std::time_t t = timegm(&tm);
  if (i < s.size() && s[i] == 'Z' && i + 1 == s.size()) return t;
  int oh = 0, om = 0;
  if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') &&
      std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
    long off = (oh * 60L + om) * 60L;
    return s[i] == '+' ? t - off : t + off;
  }
  return std::nullopt;
}

json PublicKey::to_json() const {
  return {{"keytype", type}, {"keyval", {{"private", nullptr}, {"public", public_}}}};
}

std::optional<PublicKey> public_key_from_json(const json& j, std::string* why) {
  if (!j.is_object() || !j.contains("keytype") || !j["keytype"].is_string() ||
      !j.contains("keyval") || !j["keyval"].is_object() || !j["keyval"].contains("public") ||
      !j["keyval"]["public"].is_string()) {
    *why = "not a notary key {\"keytype\",\"keyval\":{\"public\"}}";
    return std::nullopt;
  }
  PublicKey k;
  k.type = j["keytype"];
  k.public_ = j["keyval"]["public"];
  k.id = key_id_of(k.type, k.public_);
  if (!load_public(k, why)) return std::nullopt;
  return k;
}

bool verify_signature(const PublicKey& key, std::string_view method, std::string_view message,
                      std::string_view sig, std::string* why) {
  Pkey pkey = load_public(key, why);
  if (!pkey) return false;
  std::string der;
  const EVP_MD* md = EVP_sha256();
  bool pss = false;
  if (method == "ecdsa" && (key.type == "ecdsa" || key.type == "ecdsa-x509")) {
    if (sig.size() != 64) {
      *why = "ecdsa signature by " + key.id + " is not 64 bytes r||s";
      return false;
    }
    der = ecdsa_raw_to_der(sig);
    sig = der;
  } else if (method == "eddsa" && key.type == "ed25519") {
    md = nullptr;
  } else if (method == "rsapss" && (key.type == "rsa" || key.type == "rsa-x509")) {
    pss = true;
  } else {
    *why = "signature method " + std::string(method) + " does not fit key type " + key.type;
    return false;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey.get()) != 1) {
    *why = "cannot verify with key " + key.id;
    return false;
  }
  if (pss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  int ok =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (ok != 1) *why = "the signature by key " + key.id + " does not verify";
  return ok == 1;
}

struct PrivateKey::Impl {
  Pkey key;
};

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;
PrivateKey::~PrivateKey() = default;

PrivateKey PrivateKey::generate() {
  auto impl = std::make_unique<Impl>();
  impl->key.reset(EVP_EC_gen("P-256"));
  if (!impl->key) throw std::runtime_error("cannot generate a P-256 key");
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(impl->key.get(), &der);
  std::string pub = base64_encode(std::string_view(reinterpret_cast<char*>(der), n));
  OPENSSL_free(der);
  PrivateKey k(std::move(impl));
  k.public_ = PublicKey{"ecdsa", pub, key_id_of("ecdsa", pub)};
  return k;
}

PrivateKey PrivateKey::generate_root(const std::string& gun) {
  PrivateKey k = generate();
  X509* x = X509_new();
  X509_set_version(x, 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  std::time_t now = std::time(nullptr);
  ASN1_TIME_set(X509_getm_notBefore(x), now - 60);
  ASN1_TIME_set(X509_getm_notAfter(x), now + 10L * 365 * 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(gun.data()),
                             static_cast<int>(gun.size()), -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, k.impl_->key.get());
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {{NID_key_usage, "critical,digitalSignature"},
                                              {NID_ext_key_usage, "codeSigning"},
                                              {NID_basic_constraints, "critical,CA:FALSE"}};
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (ext != nullptr) X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, k.impl_->key.get(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  X509_free(x);
  std::string pub = base64_encode(pem);
  k.public_ = PublicKey{"ecdsa-x509", pub, key_id_of("ecdsa-x509", pub)};
  return k;
}

std::string PrivateKey::sign(std::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  size_t n = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    throw std::runtime_error("cannot sign");
  }
  std::string der(n, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &n,
                 reinterpret_cast<const unsigned char*>(message.data()), message.size());
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(n));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(s);
  return raw;
}

std::string sign_document(const json& signed_value, const std::vector<const PrivateKey*>& keys) {
  std::string canonical = *canonical_json(signed_value);
  std::string out = "{\"signed\":" + canonical + ",\"signatures\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"keyid\":\"" + keys[i]->id() + "\",\"method\":\"ecdsa\",\"sig\":\"" +
           base64_encode(keys[i]->sign(canonical)) + "\"}";
  }
  return out + "]}";
}

std::optional<SignedDoc> parse_signed(std::string_view body, std::string* why) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "not a JSON object";
    return std::nullopt;
  }
  if (!j.contains("signed") || !j["signed"].is_object() || !j.contains("signatures") ||
      !j["signatures"].is_array()) {
    *why = "not {\"signed\":{...},\"signatures\":[...]}";
    return std::nullopt;
  }
  SignedDoc doc;
  doc.value = j["signed"];
  auto canonical = canonical_json(doc.value);
  if (!canonical) {
    *why = "\"signed\" has no canonical form (a fractional number)";
    return std::nullopt;
  }
  doc.canonical = *canonical;
  for (const auto& s : j["signatures"]) {
    if (!s.is_object() || !s.contains("keyid") || !s["keyid"].is_string() ||
        !s.contains("method") || !s["method"].is_string() || !s.contains("sig") ||
        !s["sig"].is_string()) {
      *why = "a signature without string keyid, method and sig";
      return std::nullopt;
    }
    bool ok = false;
    std::string raw = base64_decode_std(s["sig"].get<std::string>(), &ok);
    if (!ok) {
      *why = "a signature that is not base64";
      return std::nullopt;
    }
    doc.signatures.push_back({s["keyid"], s["method"], raw});
  }
  return doc;
}

std::optional<Role> role_of(const json& root_value, const std::string& name, std::string* why) {
  if (!root_value.is_object() || !root_value.contains("roles") ||
      !root_value["roles"].is_object() || !root_value["roles"].contains(name) ||
      !root_value.contains("keys") || !root_value["keys"].is_object()) {
    *why = "the root has no role " + name;
    return std::nullopt;
  }
  const json& r = root_value["roles"][name];
  if (!r.is_object() || !r.contains("keyids") || !r["keyids"].is_array() ||
      !r.contains("threshold") || !r["threshold"].is_number_integer()) {
    *why = "the root's role " + name + " has no keyids and integer threshold";
    return std::nullopt;
  }
  Role role;
  role.threshold = r["threshold"].get<int>();
  for (const auto& id : r["keyids"]) {
    if (!id.is_string() || !root_value["keys"].contains(id.get<std::string>())) {
      *why = "the root's role " + name + " names a key the root does not hold";
      return std::nullopt;
    }
    auto key = public_key_from_json(root_value["keys"][id.get<std::string>()], why);
    if (!key) return std::nullopt;
    role.keys.emplace(id.get<std::string>(), *key);
  }
  return role;
}

std::string check_signatures(const SignedDoc& doc, const Role& role) {
  if (role.threshold < 1) return "threshold below 1";
  std::set<std::string> valid;
  std::string last_why = "no signature by a key of the role";
  for (const auto& s : doc.signatures) {
    auto it = role.keys.find(s.key_id);
    if (it == role.keys.end() || valid.count(s.key_id)) continue;
    std::string why;
    if (verify_signature(it->second, s.method, doc.canonical, s.sig, &why)) {
      valid.insert(s.key_id);
    } else {
      last_why = why;
    }
  }
  if (static_cast<int>(valid.size()) >= role.threshold) return "";
  return std::to_string(valid.size()) + " valid signature(s), threshold " +
         std::to_string(role.threshold) + ": " + last_why;
}

std::string check_common(const SignedDoc& doc, const std::string& type, std::time_t now,
                         long long want_version) {
  const json& v = doc.value;
  if (!v.contains("_type") || v["_type"] != type) return "_type is not \"" + type + "\"";
  if (!v.contains("version") || !v["version"].is_number_integer() ||
      v["version"].get<long long>() < 1) {
    return "version is not an integer >= 1";
  }
  if (want_version > 0 && v["version"].get<long long>() != want_version) {
    return "version is " + v["version"].dump() + ", expected " + std::to_string(want_version);
  }
  if (!v.contains("expires") || !v["expires"].is_string()) return "no expires string";
  auto exp = parse_rfc3339(v["expires"]);
  if (!exp) return "expires is not RFC 3339: " + v["expires"].dump();
  if (*exp <= now) return "expired at " + v["expires"].get<std::string>();
  return "";
}

std::string check_meta(const json& signed_value, const std::string& name, std::string_view bytes) {
  if (!signed_value.contains("meta") || !signed_value["meta"].is_object() ||
      !signed_value["meta"].contains(name)) {
    return "meta has no entry for " + name;
  }
  const json& m = signed_value["meta"][name];
  if (!m.is_object() || !m.contains("length") || !m["length"].is_number_integer() ||
      !m.contains("hashes") || !m["hashes"].is_object() || !m["hashes"].contains("sha256") ||
      !m["hashes"]["sha256"].is_string()) {
    return "meta." + name + " has no integer length and sha256 hash";
  }
  if (m["length"].get<long long>() != static_cast<long long>(bytes.size())) {
    return "meta." + name + ".length is " + m["length"].dump() + ", the file has " +
           std::to_string(bytes.size()) + " bytes";
  }
  if (m["hashes"]["sha256"] != base64_encode(sha256_raw(bytes))) {
    return "meta." + name + ".hashes.sha256 does not match the file";
  }
  if (m["hashes"].contains("sha512") && m["hashes"]["sha512"] != base64_encode(sha512_raw(bytes))) {
    return "meta." + name + ".hashes.sha512 does not match the file";
  }
  return "";
}

std::string check_timestamp(std::string_view body, const PublicKey& server_key,
                            std::string_view snapshot, std::time_t now) {
  std::string why;
  auto doc = parse_signed(body, &why);
  if (!doc) return "timestamp: " + why;
  Role role;
  role.keys.emplace(server_key.id, server_key);
  if (std::string e = check_signatures(*doc, role); !e.empty()) {
    return "timestamp not signed by the server's timestamp key " + server_key.id + ": " + e;
  }
  if (std::string e = check_common(*doc, "Timestamp", now); !e.empty()) return "timestamp: " + e;
  if (std::string e = check_meta(doc->value, "snapshot", snapshot); !e.empty()) {
    return "timestamp: " + e;
  }
  return "";
}

json file_meta(std::string_view bytes) {
  return {{"hashes",
           {{"sha256", base64_encode(sha256_raw(bytes))},
            {"sha512", base64_encode(sha512_raw(bytes))}}},
          {"length", bytes.size()}};
}

Publisher::Publisher(std::string g, PublicKey ts)
    : gun(std::move(g)),
      root_key(PrivateKey::generate_root(gun)),
      targets_key(PrivateKey::generate()),
      snapshot_key(PrivateKey::generate()),
      timestamp_key(std::move(ts)),
      now(std::time(nullptr)) {}

json Publisher::root_value(long long version, std::time_t expires) const {
  const PublicKey& snap = server_snapshot_key ? *server_snapshot_key : snapshot_key.public_key();
  auto role = [](const PublicKey& k) { return json{{"keyids", {k.id}}, {"threshold", 1}}; };
  const PublicKey& root = root_key.public_key();
  const PublicKey& targets = targets_key.public_key();
  return {{"_type", "Root"},
          {"consistent_snapshot", false},
          {"expires", rfc3339(expires)},
          {"keys",
           {{root.id, root.to_json()},
            {targets.id, targets.to_json()},
            {snap.id, snap.to_json()},
            {timestamp_key.id, timestamp_key.to_json()}}},
          {"roles",
           {{"root", role(root)},
            {"targets", role(targets)},
            {"snapshot", role(snap)},
            {"timestamp", role(timestamp_key)}}},
          {"version", version}};
}

json Publisher::targets_value(long long version, const std::map<std::string, std::string>& targets,
                              std::time_t expires) const {
  json files = json::object();
  for (const auto& [name, content] : targets) files[name] = file_meta(content);
  return {{"_type", "Targets"},
          {"delegations", {{"keys", json::object()}, {"roles", json::array()}}},
          {"expires", rfc3339(expires)},
          {"targets", files},
          {"version", version}};
}

json Publisher::snapshot_value(long long version, std::string_view root, std::string_view targets,
                               std::time_t expires) const {
  return {{"_type", "Snapshot"},
          {"expires", rfc3339(expires)},
          {"meta", {{"root", file_meta(root)}, {"targets", file_meta(targets)}}},
          {"version", version}};
}

std::string Publisher::root(long long version) const {
  return sign_document(root_value(version, now + 10L * 365 * 86400), {&root_key});
}

std::string Publisher::targets(long long version,
                               const std::map<std::string, std::string>& targets) const {
  return sign_document(targets_value(version, targets, now + 3L * 365 * 86400), {&targets_key});
}

std::string Publisher::snapshot(long long version, std::string_view root,
                                std::string_view targets) const {
  return sign_document(snapshot_value(version, root, targets, now + 3L * 365 * 86400),
                       {&snapshot_key});
}

}  // namespace dtrc::tuf
