#include "core/tuf/keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>

#include "core/digest.h"
#include "core/tuf/encoding.h"

namespace dtr::tuf {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

Status Invalid(const std::string& m) { return InvalidArgument("signature was invalid: " + m); }

// DER SubjectPublicKeyInfo, with nothing after it (Go's x509.ParsePKIXPublicKey).
PkeyPtr ParsePkix(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr) return nullptr;
  PkeyPtr key(k);
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return nullptr;
  return key;
}

X509Ptr ParseDerCertificate(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return nullptr;
  X509Ptr cert(x);
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return nullptr;
  return cert;
}

// The key inside the first PEM block of `pem`, which must be a certificate.
PkeyPtr KeyFromCertificatePem(std::string_view pem) {
  auto blocks = PemDecodeAll(pem);
  if (blocks.empty()) return nullptr;
  X509Ptr cert = ParseDerCertificate(blocks[0].bytes);
  if (!cert) return nullptr;
  return PkeyPtr(X509_get_pubkey(cert.get()));
}

// The public key a TUF key stands for, when it is of the family `family` ("ecdsa", "rsa").
Result<PkeyPtr> KeyOfFamily(const PublicKey& key, std::string_view family) {
  PkeyPtr k;
  if (key.type() == family) {
    k = ParsePkix(key.value());
  } else if (key.type() == std::string(family) + "-x509") {
    k = KeyFromCertificatePem(key.value());
  } else {
    return Status(Code::kInvalidArgument,
                  "key type " + key.type() + " cannot verify " + std::string(family));
  }
  if (!k) return Invalid("cannot parse the " + key.type() + " public key");
  int want = family == "ecdsa" ? EVP_PKEY_EC : EVP_PKEY_RSA;
  if (EVP_PKEY_get_base_id(k.get()) != want)
    return Invalid("not an " + std::string(family) + " key");
  return k;
}

bool DigestVerify(EVP_PKEY* key, const EVP_MD* md, std::string_view sig, std::string_view msg,
                  int rsa_padding) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (rsa_padding != 0) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, rsa_padding) != 1) return false;
    if (rsa_padding == RSA_PKCS1_PSS_PADDING &&
        (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) {
      return false;
    }
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
}

Status VerifyEcdsa(const PublicKey& key, std::string_view sig, std::string_view msg) {
  auto k = KeyOfFamily(key, "ecdsa");
  if (!k.ok()) return k.status();
  char group[64] = {0};
  size_t glen = 0;
  if (EVP_PKEY_get_utf8_string_param(k->get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &glen) != 1) {
    return Invalid("unknown curve");
  }
  std::string_view g(group, glen);
  if (g != "prime256v1" && g != "secp384r1" && g != "secp521r1" && g != "secp224r1") {
    return Invalid("unsupported curve " + std::string(g));
  }
  size_t octets = (static_cast<size_t>(EVP_PKEY_get_bits(k->get())) + 7) / 8;
  if (sig.size() != 2 * octets) return Invalid("ecdsa signature has the wrong length");
  ECDSA_SIG* es = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()),
                        static_cast<int>(octets), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + octets,
                        static_cast<int>(octets), nullptr);
  if (es == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(es, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return Status(Code::kInternal, "out of memory");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  if (der_len <= 0) return Invalid("cannot encode the signature");
  bool ok = DigestVerify(k->get(), EVP_sha256(),
                         std::string_view(reinterpret_cast<char*>(der), der_len), msg, 0);
  OPENSSL_free(der);
  return ok ? Status::Ok() : Invalid("ecdsa verification failed");
}

Status VerifyEd25519(const PublicKey& key, std::string_view sig, std::string_view msg) {
  if (key.type() != kEd25519Key) {
    return Status(Code::kInvalidArgument, "key type " + key.type() + " cannot verify eddsa");
  }
  if (sig.size() != 64) return Invalid("ed25519 signature has the wrong length");
  if (key.value().size() != 32) return Invalid("ed25519 public key must be 32 bytes");
  PkeyPtr k(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key.value().data()), 32));
  if (!k) return Invalid("cannot load the ed25519 key");
  return DigestVerify(k.get(), nullptr, sig, msg, 0) ? Status::Ok()
                                                     : Invalid("ed25519 verification failed");
}

Status VerifyRsa(const PublicKey& key, std::string_view sig, std::string_view msg, int padding) {
  auto k = KeyOfFamily(key, "rsa");
  if (!k.ok()) return k.status();
  if (EVP_PKEY_get_bits(k->get()) < 2048) return Invalid("RSA keys must be at least 2048 bits");
  if (sig.size() < 256) return Invalid("RSA signature too short");
  return DigestVerify(k->get(), EVP_sha256(), sig, msg, padding)
             ? Status::Ok()
             : Invalid("rsa verification failed");
}

std::string PublicDer(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(k, &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Time AsnTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return Time{};
  return Time{static_cast<int64_t>(timegm(&tm)), 0};
}

}  // namespace

PublicKey::PublicKey(std::string type, std::string value)
    : type_(std::move(type)), value_(std::move(value)) {
  std::string canonical = "{\"keytype\":";
  AppendCanonicalString(type_, &canonical);
  canonical += ",\"keyval\":{\"private\":null,\"public\":\"" + Base64Encode(value_) + "\"}}";
  id_ = ComputeDigest(canonical).hex();
}

Json PublicKey::ToJson() const {
  return Json::Object({{"keytype", Json::String(type_)},
                       {"keyval", Json::Object({{"private", Json::Null()},
                                                {"public", Json::String(Base64Encode(value_))}})}});
}

std::string PublicKey::ToServerJson() const {
  std::string out = "{\"keytype\":";
  AppendCanonicalString(type_, &out);
  return out + ",\"keyval\":{\"public\":\"" + Base64Encode(value_) + "\",\"private\":null}}";
}

Result<PublicKey> PublicKeyFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("a key must be an object");
  std::string type;
  if (const Json* t = j.FindMember("keytype"); t && !t->is_null()) {
    if (!t->is_string()) return InvalidArgument("keytype must be a string");
    type = t->str();
  }
  std::string value;
  if (const Json* kv = j.FindMember("keyval"); kv && !kv->is_null()) {
    if (!kv->is_object()) return InvalidArgument("keyval must be an object");
    if (const Json* pub = kv->FindMember("public"); pub && !pub->is_null()) {
      if (!pub->is_string()) return InvalidArgument("keyval.public must be a base64 string");
      auto raw = Base64Decode(pub->str());
      if (!raw.ok()) return InvalidArgument("keyval.public: " + raw.status().message());
      value = std::move(*raw);
    }
    if (const Json* priv = kv->FindMember("private"); priv && !priv->is_null()) {
      if (!priv->is_string() || !Base64Decode(priv->str()).ok()) {
        return InvalidArgument("keyval.private must be a base64 string");
      }
    }
  }
  return PublicKey(std::move(type), std::move(value));
}

Status VerifySignature(const PublicKey& key, std::string_view method, std::string_view signature,
                       std::string_view message) {
  std::string m(method);
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (m == "ecdsa") return VerifyEcdsa(key, signature, message);
  if (m == "eddsa") return VerifyEd25519(key, signature, message);
  if (m == "rsapss") return VerifyRsa(key, signature, message, RSA_PKCS1_PSS_PADDING);
  if (m == "rsapkcs1v15") return VerifyRsa(key, signature, message, RSA_PKCS1_PADDING);
  return InvalidArgument("signing method is not supported: " + std::string(method));
}

Result<std::vector<Certificate>> LoadCertificateBundle(std::string_view pem) {
  std::vector<Certificate> out;
  for (const auto& block : PemDecodeAll(pem)) {
    if (block.type != "CERTIFICATE") {
      return InvalidArgument("invalid pem block type: " + block.type);
    }
    X509Ptr x = ParseDerCertificate(block.bytes);
    if (!x) return InvalidArgument("cannot parse a certificate");
    Certificate c;
    c.der = block.bytes;
    X509_NAME* subject = X509_get_subject_name(x.get());
    for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
      const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
      c.common_name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
    }
    c.is_ca = (X509_get_extension_flags(x.get()) & EXFLAG_CA) != 0;
    c.not_before = AsnTime(X509_get0_notBefore(x.get()));
    c.not_after = AsnTime(X509_get0_notAfter(x.get()));
    int sig_nid = X509_get_signature_nid(x.get());
    c.sha1_signature = sig_nid == NID_sha1WithRSAEncryption || sig_nid == NID_ecdsa_with_SHA1 ||
                       sig_nid == NID_dsaWithSHA1;
    PkeyPtr k(X509_get_pubkey(x.get()));
    if (k) {
      int id = EVP_PKEY_get_base_id(k.get());
      if (id == EVP_PKEY_RSA) c.key_type = kRsaX509Key;
      if (id == EVP_PKEY_EC) c.key_type = kEcdsaX509Key;
      c.key_bits = EVP_PKEY_get_bits(k.get());
    }
    out.push_back(std::move(c));
  }
  if (out.empty()) return InvalidArgument("no valid certificates found");
  return out;
}

Status ValidateCertificate(const Certificate& c, bool check_expiry, Time now) {
  if (c.not_after < c.not_before) return InvalidArgument("certificate validity window is invalid");
  if (c.sha1_signature) {
    return InvalidArgument("certificate with CN " + c.common_name +
                           " uses invalid SHA1 signature algorithm");
  }
  if (c.key_type == kRsaX509Key && c.key_bits < 2048) {
    return InvalidArgument("RSA bit length is too short");
  }
  if (check_expiry && (now.AddSeconds(86400) < c.not_before || c.not_after < now)) {
    return InvalidArgument("certificate with CN " + c.common_name + " is expired");
  }
  return Status::Ok();
}

Result<PublicKey> CertificateBundleKey(const Certificate& leaf,
                                       const std::vector<Certificate>& intermediates) {
  if (leaf.key_type.empty()) return InvalidArgument("unsupported certificate key algorithm");
  std::string pem = PemEncode("CERTIFICATE", leaf.der);
  for (const auto& c : intermediates) pem += PemEncode("CERTIFICATE", c.der);
  return PublicKey(leaf.key_type, std::move(pem));
}

Result<PrivateKey> PrivateKey::Generate(std::string_view algorithm) {
  EVP_PKEY* raw = nullptr;
  std::string type;
  if (algorithm == kEcdsaKey) {
    raw = EVP_EC_gen("P-256");
    type = kEcdsaKey;
  } else if (algorithm == kEd25519Key) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    type = kEd25519Key;
  } else if (algorithm == kRsaKey) {
    raw = EVP_RSA_gen(2048);
    type = kRsaKey;
  } else {
    return InvalidArgument("private key type not supported for key generation: " +
                           std::string(algorithm));
  }
  if (raw == nullptr) return Status(Code::kInternal, "key generation failed");
  std::shared_ptr<EVP_PKEY> k(raw, EVP_PKEY_free);
  std::string pub;
  if (type == kEd25519Key) {
    unsigned char buf[32];
    size_t len = sizeof buf;
    if (EVP_PKEY_get_raw_public_key(k.get(), buf, &len) != 1) {
      return Status(Code::kInternal, "cannot read the ed25519 public key");
    }
    pub.assign(reinterpret_cast<char*>(buf), len);
  } else {
    pub = PublicDer(k.get());
  }
  return PrivateKey(k, PublicKey(type, pub));
}

Result<PrivateKey> PrivateKey::FromPkcs8(std::string_view der_or_pem, PublicKey public_key) {
  EVP_PKEY* raw = nullptr;
  if (der_or_pem.find("-----BEGIN") != std::string_view::npos) {
    BIO* bio = BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size()));
    raw = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  } else {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der_or_pem.data());
    raw = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der_or_pem.size()));
  }
  if (raw == nullptr) return InvalidArgument("cannot parse the private key");
  std::shared_ptr<EVP_PKEY> k(raw, EVP_PKEY_free);
  // The public half must be the one the TUF key names.
  PkeyPtr expected;
  if (public_key.type() == kEd25519Key) {
    unsigned char buf[32];
    size_t len = sizeof buf;
    if (EVP_PKEY_get_raw_public_key(k.get(), buf, &len) != 1 ||
        std::string(reinterpret_cast<char*>(buf), len) != public_key.value()) {
      return InvalidArgument("private key does not match public key");
    }
    return PrivateKey(k, std::move(public_key));
  }
  expected = public_key.is_x509() ? KeyFromCertificatePem(public_key.value())
                                  : ParsePkix(public_key.value());
  if (!expected || EVP_PKEY_eq(expected.get(), k.get()) != 1) {
    return InvalidArgument("private key does not match public key");
  }
  return PrivateKey(k, std::move(public_key));
}

std::string PrivateKey::Pkcs8Der() const {
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(key_.get(), &der);  // PKCS#8 for EC, RSA and ed25519 in OpenSSL 3
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  return out;
}

std::string PrivateKey::method() const {
  switch (EVP_PKEY_get_base_id(key_.get())) {
    case EVP_PKEY_EC:
      return "ecdsa";
    case EVP_PKEY_ED25519:
      return "eddsa";
    default:
      return "rsapss";
  }
}

Result<std::string> PrivateKey::Sign(std::string_view message) const {
  int id = EVP_PKEY_get_base_id(key_.get());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = id == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key_.get()) != 1) {
    return Status(Code::kInternal, "cannot start signing");
  }
  if (id == EVP_PKEY_RSA && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
                             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) {
    return Status(Code::kInternal, "cannot set up RSA-PSS");
  }
  size_t len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    return Status(Code::kInternal, "signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, msg,
                     message.size()) != 1) {
    return Status(Code::kInternal, "signing failed");
  }
  sig.resize(len);
  if (id != EVP_PKEY_EC) return sig;
  // DER (r, s) -> r || s, each left-padded to the curve size.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (es == nullptr) return Status(Code::kInternal, "cannot decode the ecdsa signature");
  size_t octets = (static_cast<size_t>(EVP_PKEY_get_bits(key_.get())) + 7) / 8;
  std::string raw(2 * octets, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()),
               static_cast<int>(octets));
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + octets,
               static_cast<int>(octets));
  ECDSA_SIG_free(es);
  return raw;
}

Result<PublicKey> PrivateKey::SelfSignedCertificate(std::string_view common_name, Time not_before,
                                                    Time not_after) const {
  X509Ptr x(X509_new());
  if (!x) return Status(Code::kInternal, "out of memory");
  X509_set_version(x.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(not_before.seconds));
  ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(not_after.seconds));
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.data()),
                             static_cast<int>(common_name.size()), -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key_.get());
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x.get(), x.get(), nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {{NID_key_usage, "critical,digitalSignature"},
                                              {NID_ext_key_usage, "codeSigning"},
                                              {NID_basic_constraints, "critical,CA:FALSE"}};
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (ext == nullptr) return Status(Code::kInternal, "cannot add a certificate extension");
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  int id = EVP_PKEY_get_base_id(key_.get());
  if (X509_sign(x.get(), key_.get(), id == EVP_PKEY_ED25519 ? nullptr : EVP_sha256()) <= 0) {
    return Status(Code::kInternal, "cannot sign the certificate");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  if (len <= 0) return Status(Code::kInternal, "cannot encode the certificate");
  std::string pem = PemEncode("CERTIFICATE", std::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  if (id == EVP_PKEY_RSA) return PublicKey(kRsaX509Key, pem);
  if (id == EVP_PKEY_EC) return PublicKey(kEcdsaX509Key, pem);
  return InvalidArgument("certificates are made for ecdsa and rsa keys only");
}

PrivateKey PrivateKey::WithPublicKey(PublicKey key) const {
  return PrivateKey(key_, std::move(key));
}

}  // namespace dtr::tuf
