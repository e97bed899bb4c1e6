// The HTTP authentication headers (RFC 7235) of the registry token flow: the challenges a
// registry sends in `WWW-Authenticate` (RFC 6750 Bearer with the token spec's realm, service and
// scope; Basic) and the credentials a client sends in `Authorization` (RFC 7617 Basic, RFC 6750
// Bearer). Parsing works on any registry's headers, so the conformance suite and the bench use
// it as clients; formatting is what the reference sends.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.h"
#include "core/status.h"

namespace dtr::auth {

struct BearerChallenge {
  std::string realm;    // the token endpoint, e.g. "https://dtr.example.com/auth/token"
  std::string service;  // the audience tokens must name
  std::vector<ResourceActions> scopes;  // what the request needs; may be empty
  std::string error;  // "", "invalid_token" or "insufficient_scope" (RFC 6750 section 3.1)
};

// `Bearer realm="...",service="...",scope="..."[,error="..."]`. Values are quoted with '"' and
// '\' escaped and control characters dropped, so no input can split the header.
std::string FormatBearerChallenge(const BearerChallenge& challenge);
// `Basic realm="..."`
std::string FormatBasicChallenge(std::string_view realm);

// One challenge of a `WWW-Authenticate` value, which may hold several
// (`Basic realm="a", Bearer realm="b",scope="c"`).
struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted
  std::string token68;                        // the rare parameter-less form

  // The value of `name` (lowercase), or "" when absent.
  std::string Param(std::string_view name) const;
};
Result<std::vector<Challenge>> ParseChallenges(std::string_view header_value);

struct Credentials {
  enum class Scheme { kBasic, kBearer };
  Scheme scheme = Scheme::kBasic;
  std::string username;  // Basic
  std::string password;  // Basic; may contain ':'
  std::string token;     // Bearer
};
// Scheme names are case-insensitive. kUnsupported for other schemes, kInvalidArgument for
// malformed credentials; messages never echo the credentials.
Result<Credentials> ParseAuthorization(std::string_view header_value);
// `Basic <base64(user:password)>`
std::string FormatBasicAuthorization(std::string_view username, std::string_view password);

}  // namespace dtr::auth
