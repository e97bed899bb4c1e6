// Registry authentication as Docker clients do it: Basic, or the token flow (401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, a GET to the realm, then
// `Authorization: Bearer <token>`). One Auth is shared by every worker, so a token fetched by
// one is used by all.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace dtrb {

struct Challenge {
  std::string scheme;  // lower case: "basic", "bearer"
  std::map<std::string, std::string> params;
  std::string Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};
std::optional<Challenge> ParseChallenge(std::string_view header);

std::string Base64(std::string_view in);
std::string UrlEncode(std::string_view in);

// The realm URL with service and scopes: realm?service=S&scope=A&scope=B
std::string TokenUrl(const Challenge& c, const std::set<std::string>& scopes);

class Auth {
 public:
  // Fetches `url` (absolute) with optional Basic credentials; returns the token from the JSON
  // answer ("token" or "access_token"), or nullopt with `why` set.
  using TokenFetcher = std::function<std::optional<std::string>(
      const std::string& url, const std::string& authorization, std::string* why)>;

  Auth(std::string user, std::string password);

  bool has_credentials() const { return !user_.empty(); }
  std::string BasicHeader() const;

  // The Authorization value to send now ("" for none), and its generation.
  std::shared_ptr<const std::string> Current(uint64_t* generation) const;

  // Answers a 401's challenge. `used_generation` is the generation the failed request used:
  // when another worker answered meanwhile, returns true at once. Scopes for a repository
  // accumulate (pull, then pull+push), so one token serves every kind of request.
  bool Answer(std::string_view www_authenticate, uint64_t used_generation,
              const TokenFetcher& fetch, std::string* why);

 private:
  std::string user_, password_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> current_;
  uint64_t generation_ = 0;
  std::map<std::string, std::set<std::string>> actions_;  // "repository:name" -> actions
};

}  // namespace dtrb
