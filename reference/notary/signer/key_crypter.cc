#include "notary/signer/key_crypter.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace dtr::notary {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

constexpr std::string_view kVersion = "v1";
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    out.clear();
  }
  return out;
}

Result<KeyCrypter> KeyCrypter::Derive(std::string_view passphrase, std::string_view salt,
                                      int iterations) {
  if (passphrase.empty()) return InvalidArgument("the signer passphrase is empty");
  std::string kek(32, '\0');
  if (PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), 32,
                        reinterpret_cast<unsigned char*>(kek.data())) != 1) {
    return Status(Code::kInternal, "key derivation failed");
  }
  return KeyCrypter(std::move(kek));
}

KeyCrypter::~KeyCrypter() { OPENSSL_cleanse(kek_.data(), kek_.size()); }

Result<std::string> KeyCrypter::Seal(std::string_view plaintext,
                                     std::string_view associated) const {
  std::string nonce = RandomBytes(kNonce);
  if (nonce.size() != kNonce) return Status(Code::kInternal, "no randomness");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string out(kVersion);
  out += nonce;
  size_t header = out.size();
  out.resize(header + plaintext.size() + kTag);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(kek_.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(associated.data()),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + header, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + header + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + header + plaintext.size()) !=
          1) {
    return Status(Code::kInternal, "encryption failed");
  }
  return out;
}

Result<std::string> KeyCrypter::Open(std::string_view sealed, std::string_view associated) const {
  if (sealed.size() < kVersion.size() + kNonce + kTag || sealed.substr(0, 2) != kVersion) {
    return Status(Code::kCorruption, "sealed key has an unknown format");
  }
  std::string_view nonce = sealed.substr(2, kNonce);
  std::string_view body = sealed.substr(2 + kNonce, sealed.size() - 2 - kNonce - kTag);
  std::string tag(sealed.substr(sealed.size() - kTag));
  std::string out(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(kek_.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(associated.data()),
                        static_cast<int>(associated.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), o, &len, reinterpret_cast<const unsigned char*>(body.data()),
                        static_cast<int>(body.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), o + len, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return Status(Code::kPermissionDenied,
                  "cannot decrypt a signing key: wrong signer passphrase or tampered key");
  }
  return out;
}

}  // namespace dtr::notary
