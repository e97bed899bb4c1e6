// Content digests (`algorithm:hex`) as the OCI image spec defines them, and the streaming
// hashers that compute them. Only sha256 and sha512 are registered algorithms here.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr {

enum class DigestAlgorithm { kSha256, kSha512 };

class Digest {
 public:
  Digest() = default;

  // Parses "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>". The error message
  // says what is wrong (unknown algorithm, wrong length, bad characters).
  static Result<Digest> Parse(std::string_view text);

  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const;
  const std::string& hex() const { return hex_; }
  std::string str() const;
  bool empty() const { return hex_.empty(); }

  friend bool operator==(const Digest& a, const Digest& b) {
    return a.algorithm_ == b.algorithm_ && a.hex_ == b.hex_;
  }
  friend bool operator<(const Digest& a, const Digest& b) { return a.str() < b.str(); }

 private:
  DigestAlgorithm algorithm_ = DigestAlgorithm::kSha256;
  std::string hex_;
};

// Incremental hash over a stream; Finish() may be called once.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  Digest Finish();
  DigestAlgorithm algorithm() const { return algorithm_; }

 private:
  DigestAlgorithm algorithm_;
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Digest ComputeDigest(std::string_view content, DigestAlgorithm a = DigestAlgorithm::kSha256);

}  // namespace dtr
