#include "content.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace dtrb {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
};

Sha256::Sha256() : ctx_(new Ctx) {
  ctx_->md = EVP_MD_CTX_new();
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 initialisation failed");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_->md);
  delete ctx_;
}

void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(ctx_->md, data, n); }

void Sha256::CopyFrom(const Sha256& other) { EVP_MD_CTX_copy_ex(ctx_->md, other.ctx_->md); }

std::string Sha256::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  return "sha256:" + HexEncode(out, len);
}

std::string HexEncode(const void* data, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string Sha256Digest(std::string_view data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.Finish();
}

Rng SeededRng() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    seed = std::random_device{}();
  }
  return Rng(seed);
}

std::string RandomHex(Rng& rng, size_t bytes) {
  std::string raw(bytes, '\0');
  for (char& c : raw) c = static_cast<char>(rng() & 0xff);
  return HexEncode(raw.data(), raw.size());
}

namespace {

constexpr size_t kPatternSize = 4u << 20;

struct Pattern {
  std::vector<char> data;
  unsigned char nonce[16];
  std::atomic<uint64_t> counter{0};
  std::mutex mu;
  std::map<uint64_t, std::unique_ptr<Sha256>> prefix_states;  // prefix length -> state

  Pattern() : data(kPatternSize) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(data.data()), static_cast<int>(data.size())) !=
            1 ||
        RAND_bytes(nonce, sizeof nonce) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    uint64_t start = 0;
    std::memcpy(&start, nonce, sizeof start);
    counter = start;  // a different sequence in every run
  }

  std::string_view Read(uint64_t offset, size_t max) const {
    size_t at = static_cast<size_t>(offset % kPatternSize);
    size_t n = kPatternSize - at;
    if (n > max) n = max;
    return {data.data() + at, n};
  }

  // The hash state after `prefix` pattern bytes, computed once per length.
  const Sha256& PrefixState(uint64_t prefix) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = prefix_states.find(prefix);
    if (it != prefix_states.end()) return *it->second;
    auto h = std::make_unique<Sha256>();
    for (uint64_t off = 0; off < prefix;) {
      uint64_t left = prefix - off;
      std::string_view piece =
          Read(off, left < kPatternSize ? static_cast<size_t>(left) : kPatternSize);
      h->Update(piece.data(), piece.size());
      off += piece.size();
    }
    return *prefix_states.emplace(prefix, std::move(h)).first->second;
  }
};

Pattern& SharedPattern() {
  static Pattern* p = new Pattern;  // never destroyed: workers may outlive static teardown
  return *p;
}

}  // namespace

void PrepareBlobs(uint64_t size) {
  if (size > BlobBody::kTail) SharedPattern().PrefixState(size - BlobBody::kTail);
}

BlobBody::BlobBody(uint64_t size, Rng& rng) : size_(size) {
  Pattern& p = SharedPattern();
  uint64_t n = p.counter.fetch_add(1);
  uint64_t r = rng();
  // Counter first, so even a blob of a few bytes differs from the previous one.
  std::memcpy(tail_, &n, 8);
  std::memcpy(tail_ + 8, &r, 8);
  std::memcpy(tail_ + 16, p.nonce, 16);
  if (size_ <= kTail) {
    // Tiny blob: all of it is the unique tail (its start).
    prefix_ = 0;
    digest_ = Sha256Digest(std::string_view(tail_, static_cast<size_t>(size_)));
    return;
  }
  prefix_ = size_ - kTail;
  Sha256 h;
  h.CopyFrom(p.PrefixState(prefix_));
  h.Update(tail_, kTail);
  digest_ = h.Finish();
}

std::string_view BlobBody::Read(uint64_t offset, size_t max) const {
  if (offset < prefix_) {
    uint64_t left = prefix_ - offset;
    return SharedPattern().Read(offset, left < max ? static_cast<size_t>(left) : max);
  }
  size_t at = static_cast<size_t>(offset - prefix_);
  size_t end = static_cast<size_t>(size_ - prefix_);
  size_t n = end - at;
  if (n > max) n = max;
  return {tail_ + at, n};
}

}  // namespace dtrb
