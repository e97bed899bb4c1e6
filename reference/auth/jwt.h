// JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515), signed with ES256 only, as the
// Docker registry token-auth spec uses them: b64url(header).b64url(claims).b64url(r || s).
//
// Verification fixes the algorithm rather than trusting the header: a token whose `alg` is not
// exactly "ES256" (`none`, HS256 made with the public key as an HMAC secret, RS256, ...) is
// refused before any key is used. The signature is checked before any claim is believed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/signing_key.h"
#include "core/status.h"

namespace dtr::auth {

// Tokens longer than this are refused unparsed; real ones are a few kilobytes at most.
inline constexpr size_t kMaxTokenLength = 64 * 1024;

// Signs `claims` (a JSON object) with header {"typ":"JWT","alg":"ES256","kid":<key id>}.
Result<std::string> Sign(const SigningKey& key, const nlohmann::json& claims);

struct VerifyOptions {
  // Both required: the `iss` the token must carry and the value `aud` must be or contain. An
  // empty one makes every token fail, so a misconfiguration fails closed.
  std::string issuer;
  std::string audience;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // Allowed clock skew for `exp` and `nbf`.
  std::chrono::seconds leeway{60};
};

// The claims of a token that is well formed, carries `kid` of `key`, is signed by `key`, has
// the expected `iss` and `aud`, and is valid at `now` (`exp` required, `nbf` optional).
// Otherwise kInvalidArgument with a message naming the check that failed; messages never
// contain the token or its signature.
// A NumericDate claim (RFC 7519 section 2: seconds since the epoch, possibly fractional) as
// whole seconds, clamped to int64; nullopt when it is not a finite number.
std::optional<int64_t> NumericDate(const nlohmann::json& j);

Result<nlohmann::json> Verify(std::string_view token, const PublicKey& key,
                              const VerifyOptions& options);

// A token taken apart without any check of signature or claims: for tools that inspect tokens
// another registry issued (the conformance suite). Never a basis for authorization.
struct UnverifiedToken {
  nlohmann::json header;
  nlohmann::json claims;
  std::string signing_input;  // "<header b64>.<claims b64>", what the signature covers
  std::string signature;      // raw bytes
};
Result<UnverifiedToken> ParseUnverified(std::string_view token);

}  // namespace dtr::auth
