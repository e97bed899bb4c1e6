// How dtr-conformance authenticates like a real registry client: it answers
// WWW-Authenticate challenges itself (Basic; Bearer token flow per the Docker token-auth
// spec, anonymous or with credentials) and caches tokens per scope set. Pure functions
// and state here; the HTTP round trips live in http_client.cc.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dtrc {

struct Challenge {
  std::string scheme;                         // lower case: "basic", "bearer", ...
  std::map<std::string, std::string> params;  // keys lower case
};

// Parses every WWW-Authenticate value (a header may hold several challenges).
std::vector<Challenge> parse_www_authenticate(const std::vector<std::string>& values);

std::string base64_encode(std::string_view in);
// base64url without padding (the encoding of JWT segments), and its inverse; the decoder
// takes padded or unpadded input and gives nullopt for anything else.
std::string base64url_encode(std::string_view in);
std::optional<std::string> base64url_decode(std::string_view in);
// Percent-encodes everything outside RFC 3986 unreserved characters.
std::string url_encode(std::string_view in);

// "/v2/<name>/blobs/..." -> "<name>"; "" for /v2/, _catalog and anything else.
std::string repository_of(std::string_view path);

// realm?service=S&scope=a&scope=b (scopes in the given order).
std::string token_request_url(const Challenge& bearer);

// The token in a token-endpoint answer ({"token"} or {"access_token"}) and its lifetime.
struct Token {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};
std::optional<Token> parse_token_response(std::string_view body);

// Tokens by scope set, and which scope set served each repository last, so a later
// request to the same repository sends its token before being challenged.
class TokenCache {
 public:
  static std::string key_for(const Challenge& bearer);  // realm|service|sorted scopes
  std::optional<std::string> get(const std::string& key) const;
  void put(const std::string& key, Token token);
  void remember(const std::string& repo, const std::string& key) { by_repo_[repo] = key; }
  std::optional<std::string> for_repo(const std::string& repo) const;

 private:
  std::map<std::string, Token> tokens_;
  std::map<std::string, std::string> by_repo_;
};

}  // namespace dtrc
