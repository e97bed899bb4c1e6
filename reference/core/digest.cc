#include "core/digest.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "core/hex.h"

namespace dtr {

namespace {
bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("digest must have the form <algorithm>:<hex>");
  }
  std::string_view alg = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  Digest d;
  size_t want;
  if (alg == "sha256") {
    d.algorithm_ = DigestAlgorithm::kSha256;
    want = 64;
  } else if (alg == "sha512") {
    d.algorithm_ = DigestAlgorithm::kSha512;
    want = 128;
  } else {
    return Status(Code::kUnsupported, "unsupported digest algorithm '" +
                                          std::string(alg.substr(0, 32)) +
                                          "': use sha256 or sha512");
  }
  if (hex.size() != want) {
    return InvalidArgument(std::string(alg) + " digest must have " + std::to_string(want) +
                           " hex characters, got " + std::to_string(hex.size()));
  }
  if (!IsLowerHex(hex)) {
    return InvalidArgument("digest hex part must be lowercase hexadecimal");
  }
  d.hex_ = std::string(hex);
  return d;
}

std::string_view Digest::algorithm_name() const {
  return algorithm_ == DigestAlgorithm::kSha256 ? "sha256" : "sha512";
}

std::string Digest::str() const {
  std::string s(algorithm_name());
  s += ':';
  s += hex_;
  return s;
}

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Hasher::Hasher(DigestAlgorithm algorithm) : algorithm_(algorithm), ctx_(new Ctx) {
  ctx_->md = EVP_MD_CTX_new();
  const EVP_MD* md = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL digest initialisation failed");
  }
}

Hasher::~Hasher() = default;

void Hasher::Update(const void* data, size_t size) { EVP_DigestUpdate(ctx_->md, data, size); }

Digest Hasher::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  std::string text =
      (algorithm_ == DigestAlgorithm::kSha256 ? "sha256:" : "sha512:") + HexLower(out, len);
  return Digest::Parse(text).value();
}

Digest ComputeDigest(std::string_view content, DigestAlgorithm a) {
  Hasher h(a);
  h.Update(content);
  return h.Finish();
}

}  // namespace dtr
