// Content digests and random content for the conformance suite: sha256/sha512 in the
// `algorithm:hex` form the OCI image spec defines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dtrc {

// "sha256:<64 hex>" of `data`.
std::string sha256_digest(std::string_view data);
// "sha512:<128 hex>" of `data`.
std::string sha512_digest(std::string_view data);
// Digest of `data` with the algorithm named in `like` ("sha256:..." or "sha512:...").
std::string digest_like(std::string_view like, std::string_view data);

// `n` random bytes (not for secrets: content that must be unique per run).
std::string random_bytes(std::size_t n);
// `n` random lowercase hex characters.
std::string random_hex(std::size_t n);

// True when `d` has the shape algorithm ":" hex with a known algorithm and length.
bool is_valid_digest(std::string_view d);

}  // namespace dtrc
