#include "auth/jwt.h"

#include <cmath>
#include <limits>
#include <optional>

#include "auth/base64.h"

namespace dtr::auth {

namespace {

using nlohmann::json;

Status Invalid(std::string message) { return InvalidArgument("token " + std::move(message)); }

struct Segments {
  std::string_view header, claims, signature;
  std::string_view signing_input;
};

Result<Segments> Split(std::string_view token) {
  if (token.size() > kMaxTokenLength) return Invalid("is longer than 64 KiB");
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return Invalid("is not three base64url segments separated by '.'");
  }
  Segments s{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1),
             token.substr(0, b)};
  // An empty signature is left for Verify to refuse after the alg check, so an `alg: none`
  // token is reported as such.
  if (s.header.empty() || s.claims.empty()) return Invalid("has an empty header or claims segment");
  return s;
}

Result<json> DecodeObject(std::string_view segment, const char* what) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes.ok())
    return Invalid(std::string(what) + " is not base64url: " + bytes.status().message());
  json j = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid(std::string(what) + " is not JSON");
  if (!j.is_object()) return Invalid(std::string(what) + " is not a JSON object");
  return j;
}

// Attacker-chosen text made safe to put in a log line.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 16)) out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
  return out;
}

Status CheckHeader(const json& header, const PublicKey& key) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Invalid("header has no alg");
  if (*alg != "ES256") {
    return Invalid("alg \"" + Printable(alg->get<std::string>()) +
                   "\" is not accepted: only ES256");
  }
  if (header.contains("crit")) return Invalid("header has crit extensions, none are understood");
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return Invalid("header has no kid");
  if (*kid != key.KeyId()) return Invalid("kid does not name the registry's signing key");
  return Status::Ok();
}

Status CheckClaims(const json& claims, const VerifyOptions& options) {
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(options.now.time_since_epoch()).count();
  int64_t leeway = options.leeway.count();

  auto exp_it = claims.find("exp");
  if (exp_it == claims.end()) return Invalid("has no exp claim");
  auto exp = NumericDate(*exp_it);
  if (!exp) return Invalid("exp claim is not a number");
  if (*exp <= now - leeway) return Invalid("has expired (exp " + std::to_string(*exp) + ")");

  if (auto nbf_it = claims.find("nbf"); nbf_it != claims.end()) {
    auto nbf = NumericDate(*nbf_it);
    if (!nbf) return Invalid("nbf claim is not a number");
    if (*nbf > now + leeway) return Invalid("is not valid yet (nbf " + std::to_string(*nbf) + ")");
  }

  auto iss = claims.find("iss");
  if (options.issuer.empty() || iss == claims.end() || !iss->is_string() ||
      *iss != options.issuer) {
    return Invalid("iss is not the expected issuer");
  }

  auto aud = claims.find("aud");
  bool aud_ok = false;
  if (!options.audience.empty() && aud != claims.end()) {
    if (aud->is_string()) {
      aud_ok = *aud == options.audience;
    } else if (aud->is_array()) {
      for (const auto& a : *aud) aud_ok = aud_ok || (a.is_string() && a == options.audience);
    }
  }
  if (!aud_ok) return Invalid("aud does not name this service");
  return Status::Ok();
}

}  // namespace

std::optional<int64_t> NumericDate(const json& j) {
  if (j.is_number_unsigned()) {
    auto v = j.get<uint64_t>();
    return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(v);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
    if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(std::floor(d));
  }
  return std::nullopt;
}

Result<std::string> Sign(const SigningKey& key, const nlohmann::json& claims) {
  if (!claims.is_object()) return InvalidArgument("JWT claims must be a JSON object");
  nlohmann::ordered_json header = {{"typ", "JWT"}, {"alg", "ES256"}, {"kid", key.PublicKeyId()}};
  std::string input;
  try {
    input = Base64UrlEncode(header.dump()) + '.' + Base64UrlEncode(claims.dump());
  } catch (const json::exception& e) {  // strings that are not UTF-8
    return InvalidArgument(std::string("JWT claims cannot be serialised: ") + e.what());
  }
  auto sig = key.SignEs256(input);
  if (!sig.ok()) return sig.status();
  return input + '.' + Base64UrlEncode(*sig);
}

Result<nlohmann::json> Verify(std::string_view token, const PublicKey& key,
                              const VerifyOptions& options) {
  auto segments = Split(token);
  if (!segments.ok()) return segments.status();
  auto header = DecodeObject(segments->header, "header");
  if (!header.ok()) return header.status();
  if (Status st = CheckHeader(*header, key); !st.ok()) return st;

  auto signature = Base64UrlDecode(segments->signature);
  if (!signature.ok()) return Invalid("signature is not base64url");
  if (signature->size() != 64) {
    return Invalid("signature is " + std::to_string(signature->size()) +
                   " bytes; ES256 signatures are 64");
  }
  if (!key.VerifyEs256(segments->signing_input, *signature)) {
    return Invalid("signature does not verify");
  }

  auto claims = DecodeObject(segments->claims, "claims");
  if (!claims.ok()) return claims.status();
  if (Status st = CheckClaims(*claims, options); !st.ok()) return st;
  return std::move(*claims);
}

Result<UnverifiedToken> ParseUnverified(std::string_view token) {
  auto segments = Split(token);
  if (!segments.ok()) return segments.status();
  auto header = DecodeObject(segments->header, "header");
  if (!header.ok()) return header.status();
  auto claims = DecodeObject(segments->claims, "claims");
  if (!claims.ok()) return claims.status();
  auto signature = Base64UrlDecode(segments->signature);
  if (!signature.ok()) return Invalid("signature is not base64url");
  return UnverifiedToken{std::move(*header), std::move(*claims),
                         std::string(segments->signing_input), std::move(*signature)};
}

}  // namespace dtr::auth
