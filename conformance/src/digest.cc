#include "digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace dtrc {
namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 0xf]);
  }
  return out;
}

std::string evp_hex(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return hex(out, len);
}

}  // namespace

std::string sha256_digest(std::string_view data) { return "sha256:" + evp_hex(EVP_sha256(), data); }

std::string sha512_digest(std::string_view data) { return "sha512:" + evp_hex(EVP_sha512(), data); }

std::string digest_like(std::string_view like, std::string_view data) {
  if (like.substr(0, 7) == "sha512:") return sha512_digest(data);
  return sha256_digest(data);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string random_hex(std::size_t n) {
  std::string raw = random_bytes((n + 1) / 2);
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()).substr(0, n);
}

bool is_valid_digest(std::string_view d) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos) return false;
  auto alg = d.substr(0, colon);
  auto h = d.substr(colon + 1);
  std::size_t want = alg == "sha256" ? 64 : alg == "sha512" ? 128 : 0;
  if (want == 0 || h.size() != want) return false;
  for (char c : h) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

}  // namespace dtrc
