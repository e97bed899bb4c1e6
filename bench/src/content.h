// Content the benchmark pushes: blobs with correct sha256 digests that are unique per run
// and per blob, made without the client burning CPU on hashing while it measures.
//
// A blob of size S is a 4 MiB random pattern (shared by every blob, repeated as needed) cut to
// S - 32 bytes, followed by a 32-byte tail unique to the blob (counter + random + process
// nonce). The SHA-256 state after the shared prefix is computed once per size and cached,
// so each new blob costs one 32-byte hash update, even at 1 GiB. The server cannot tell: it
// must receive, hash and store every byte.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "http_client.h"

namespace dtrb {

// Streaming SHA-256 (OpenSSL EVP) that also works as a response body sink.
class Sha256 : public BodySink {
 public:
  Sha256();
  ~Sha256() override;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t n);
  void Data(const char* data, size_t n) override { Update(data, n); }
  // Continues from another hasher's state (the state is copied).
  void CopyFrom(const Sha256& other);
  // "sha256:<hex>"; the hasher is spent afterwards.
  std::string Finish();

 private:
  struct Ctx;
  Ctx* ctx_;
};

std::string Sha256Digest(std::string_view data);
std::string HexEncode(const void* data, size_t n);

// Per-thread random numbers (not for secrets).
using Rng = std::mt19937_64;
Rng SeededRng();
std::string RandomHex(Rng& rng, size_t bytes);

// Computes the shared prefix's hash state for blobs of `size` bytes now (it takes 0.5 s per
// GiB), so that making such blobs later, inside a timed operation, costs nothing.
void PrepareBlobs(uint64_t size);

class BlobBody : public Body {
 public:
  static constexpr size_t kTail = 32;
  // A new unique blob of `size` bytes.
  BlobBody(uint64_t size, Rng& rng);
  uint64_t size() const override { return size_; }
  std::string_view Read(uint64_t offset, size_t max) const override;
  const std::string& digest() const { return digest_; }

 private:
  uint64_t size_;
  uint64_t prefix_;  // bytes taken from the shared pattern
  char tail_[kTail];
  std::string digest_;
};

}  // namespace dtrb
