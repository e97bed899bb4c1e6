#include "auth/signing_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/base64.h"
#include "auth/secret_file.h"

namespace dtr::auth {

namespace {

constexpr size_t kCoordinateBytes = 32;
constexpr const char* kCurve = "prime256v1";  // OpenSSL's name for P-256

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* owned) {
  return std::shared_ptr<EVP_PKEY>(owned, EVP_PKEY_free);
}

// Drains OpenSSL's thread-local error queue, so a failure here does not surface later as the
// reason for an unrelated call, and returns the most recent reason.
std::string TakeOpenSslError() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof(buf));
  return buf;
}

Status CheckIsP256(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC") != 1) {
    return InvalidArgument("key is not an EC key: ES256 needs EC P-256");
  }
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1 ||
      std::string_view(group, len) != kCurve) {
    return InvalidArgument("EC key is not on curve P-256 (got '" + std::string(group, len) + "')");
  }
  return Status::Ok();
}

Result<std::string> SpkiDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return Status(Code::kInternal, "i2d_PUBKEY: " + TakeOpenSslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string Base32NoPadding(std::string_view data) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8 | c) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[acc >> bits & 31];
    }
  }
  if (bits > 0) out += kAlphabet[acc << (5 - bits) & 31];
  return out;
}

std::string LibtrustKeyId(std::string_view spki_der) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(spki_der.data(), spki_der.size(), hash, &len, EVP_sha256(), nullptr);
  std::string b32 = Base32NoPadding(std::string_view(reinterpret_cast<char*>(hash), 30));
  std::string out;
  for (size_t i = 0; i < b32.size(); i += 4) {
    if (i > 0) out += ':';
    out += b32.substr(i, 4);
  }
  return out;
}

std::string Coordinate(EVP_PKEY* key, const char* param) {
  BIGNUM* bn = nullptr;
  std::string out(kCoordinateBytes, '\0');
  if (EVP_PKEY_get_bn_param(key, param, &bn) == 1) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), kCoordinateBytes);
  }
  BN_free(bn);
  return out;
}

}  // namespace

Result<PublicKey> PublicKey::FromPkey(std::shared_ptr<EVP_PKEY> key) {
  if (Status st = CheckIsP256(key.get()); !st.ok()) return st;
  auto der = SpkiDer(key.get());
  if (!der.ok()) return der.status();
  return PublicKey(std::move(key), LibtrustKeyId(*der));
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return InvalidArgument("not a PEM public key: " + TakeOpenSslError());
  return FromPkey(Share(key));
}

Result<PublicKey> PublicKey::FromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return InvalidArgument("JWK must be a JSON object");
  auto member = [&](const char* name) -> std::string {
    auto it = jwk.find(name);
    return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (member("kty") != "EC") return InvalidArgument("JWK kty must be \"EC\"");
  if (member("crv") != "P-256") return InvalidArgument("JWK crv must be \"P-256\"");
  auto x = Base64UrlDecode(member("x"));
  auto y = Base64UrlDecode(member("y"));
  if (!x.ok() || !y.ok() || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
    return InvalidArgument("JWK x and y must be base64url encodings of 32 bytes");
  }
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(kCurve), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return InvalidArgument("JWK is not a P-256 public key: " + TakeOpenSslError());
  }
  auto shared = Share(key);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return InvalidArgument("JWK point is not on curve P-256: " + TakeOpenSslError());
  }
  return FromPkey(std::move(shared));
}

nlohmann::json PublicKey::Jwk() const {
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"kid", key_id_},
          {"x", Base64UrlEncode(Coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X))},
          {"y", Base64UrlEncode(Coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y))},
          {"use", "sig"},
          {"alg", "ES256"}};
}

std::string PublicKey::Pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool PublicKey::VerifyEs256(std::string_view data, std::string_view signature) const {
  if (signature.size() != 2 * kCoordinateBytes) return false;
  auto bytes = reinterpret_cast<const unsigned char*>(signature.data());
  BnPtr r(BN_bin2bn(bytes, kCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(bytes + kCoordinateBytes, kCoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    TakeOpenSslError();
    return false;
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  MdCtxPtr md(EVP_MD_CTX_new());
  bool ok = der_len > 0 && md &&
            EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  OPENSSL_free(der);
  if (!ok) ERR_clear_error();
  return ok;
}

Result<SigningKey> SigningKey::FromPkey(EVP_PKEY* owned) {
  auto key = Share(owned);
  if (Status st = CheckIsP256(owned); !st.ok()) return st;
  // The public half gets its own EVP_PKEY so a PublicKey never carries private material.
  auto der = SpkiDer(owned);
  if (!der.ok()) return der.status();
  auto p = reinterpret_cast<const unsigned char*>(der->data());
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size()));
  if (pub == nullptr) return Status(Code::kInternal, "d2i_PUBKEY: " + TakeOpenSslError());
  auto public_key = PublicKey::FromPkey(Share(pub));
  if (!public_key.ok()) return public_key.status();
  return SigningKey(std::move(key), std::move(*public_key));
}

Result<SigningKey> SigningKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return Status(Code::kInternal, "EC keygen: " + TakeOpenSslError());
  return FromPkey(key);
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // A callback that supplies no passphrase, so an encrypted key fails instead of prompting.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  EVP_PKEY* key =
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (key == nullptr) return InvalidArgument("not a PEM private key: " + TakeOpenSslError());
  return FromPkey(key);
}

Result<SigningKey> SigningKey::LoadOrCreate(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return IOError("cannot stat " + path + ": " + std::strerror(errno));
    auto key = Generate();
    if (!key.ok()) return key;
    std::string pem = key->PrivatePem();
    if (pem.empty()) return Status(Code::kInternal, "cannot encode the new key as PEM");
    Status created = CreateExclusive(path, pem);
    if (created.ok()) return key;
    if (!created.is(Code::kAlreadyExists)) return created;
  }
  auto pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  auto key = FromPem(*pem);
  if (!key.ok()) return Status(key.status().code(), path + ": " + key.status().message());
  return key;
}

std::string SigningKey::PrivatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> SigningKey::SignEs256(std::string_view data) const {
  MdCtxPtr md(EVP_MD_CTX_new());
  size_t der_len = 0;
  auto in = reinterpret_cast<const unsigned char*>(data.data());
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len, in, data.size()) != 1) {
    return Status(Code::kInternal, "ES256 sign: " + TakeOpenSslError());
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len, in,
                     data.size()) != 1) {
    return Status(Code::kInternal, "ES256 sign: " + TakeOpenSslError());
  }
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Status(Code::kInternal, "ES256 sign: bad DER signature from OpenSSL");
  std::string raw(2 * kCoordinateBytes, '\0');
  auto out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kCoordinateBytes) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kCoordinateBytes, kCoordinateBytes) < 0) {
    return Status(Code::kInternal, "ES256 sign: r or s longer than 32 bytes");
  }
  return raw;
}

}  // namespace dtr::auth
