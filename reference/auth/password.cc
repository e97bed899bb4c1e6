#include "auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>

#include "auth/base64.h"
#include "core/digest.h"

namespace dtr::auth {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return out;
}

std::string Encode(int iterations, std::string_view salt, std::string_view key) {
  std::string out(kScheme);
  out += '$';
  out += std::to_string(iterations);
  out += '$';
  out += Base64Encode(salt);
  out += '$';
  out += Base64Encode(key);
  return out;
}

// Splits "a$b$c$d" into exactly four fields.
bool SplitFields(std::string_view s, std::string_view (&fields)[4]) {
  for (int i = 0; i < 3; ++i) {
    size_t dollar = s.find('$');
    if (dollar == std::string_view::npos) return false;
    fields[i] = s.substr(0, dollar);
    s.remove_prefix(dollar + 1);
  }
  if (s.find('$') != std::string_view::npos) return false;
  fields[3] = s;
  return true;
}

}  // namespace

std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, int iterations,
                         size_t length) {
  std::string out(length, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(length),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("OpenSSL PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

std::string HashPassword(std::string_view password, int iterations) {
  if (iterations < 1 || iterations > kMaxPbkdf2Iterations) {
    throw std::runtime_error("HashPassword: iteration count out of range");
  }
  std::string salt = RandomBytes(kSaltBytes);
  return Encode(iterations, salt, Pbkdf2Sha256(password, salt, iterations, kKeyBytes));
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  std::string_view fields[4];
  if (!SplitFields(encoded, fields) || fields[0] != kScheme) return false;
  int iterations = 0;
  auto [end, ec] =
      std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), iterations);
  if (ec != std::errc() || end != fields[1].data() + fields[1].size() || iterations < 1 ||
      iterations > kMaxPbkdf2Iterations) {
    return false;
  }
  auto salt = Base64Decode(fields[2]);
  auto want = Base64Decode(fields[3]);
  if (!salt.ok() || !want.ok() || salt->empty() || want->size() != kKeyBytes) return false;
  std::string got = Pbkdf2Sha256(password, *salt, iterations, want->size());
  return CRYPTO_memcmp(got.data(), want->data(), got.size()) == 0;
}

std::string RandomToken(size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

std::string Sha256Hex(std::string_view data) { return ComputeDigest(data).hex(); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dtr::auth
