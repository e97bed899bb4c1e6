// Password hashing and secret tokens. Passwords are stored as
//   pbkdf2-sha256$<iterations>$<salt, base64>$<derived key, base64>
// (PBKDF2-HMAC-SHA256, RFC 8018, with a random 16-byte salt), so the cost can be raised later
// without invalidating stored hashes: each hash carries its own iteration count.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dtr::auth {

// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
inline constexpr int kDefaultPbkdf2Iterations = 210000;
// Bounds a stored hash may claim, so a corrupt or hostile record cannot make a login spin.
inline constexpr int kMaxPbkdf2Iterations = 10'000'000;

// Hashes with a fresh random salt. Tests pass a low iteration count to stay fast; it must lie in
// [1, kMaxPbkdf2Iterations]. Throws std::runtime_error only for an iteration count outside that
// range or if OpenSSL's random generator or KDF fails, which leaves no safe way to continue.
std::string HashPassword(std::string_view password, int iterations = kDefaultPbkdf2Iterations);

// True when `password` matches `encoded` (compared in constant time). False for any encoding
// that is malformed, uses another scheme or claims iterations outside [1, kMaxPbkdf2Iterations].
bool VerifyPassword(std::string_view password, std::string_view encoded);

// PBKDF2-HMAC-SHA256 itself: `length` bytes derived from password and salt.
std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, int iterations,
                         size_t length);

// `bytes` bytes from OpenSSL's CSPRNG, URL-safe base64 without padding: API tokens, secrets,
// token ids. Throws std::runtime_error if the generator fails.
std::string RandomToken(size_t bytes = 32);

// Lowercase hex SHA-256, e.g. for storing API tokens by hash rather than in the clear.
std::string Sha256Hex(std::string_view data);

// Equality whose running time depends only on the lengths, for comparing secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace dtr::auth
