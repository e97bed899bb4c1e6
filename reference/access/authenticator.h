// Authenticator: turns a request's credentials into a Principal. Basic credentials are a
// password or an API token; bearer credentials are JWTs from our token service, verified
// on every request (signature, expiry, issuer, audience; ES256 only). Failed logins are
// rate-limited per user and per address, and a verified password is remembered briefly so
// the slow hash is not paid on every request. A verified bearer token is remembered for a
// second (never past its expiry, and forgotten when an account changes): a client sends one
// token on many requests, and an ECDSA verification plus an account read on each would cost
// more than serving a manifest.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "access/principal.h"
#include "auth/signing_key.h"
#include "core/status.h"
#include "http/message.h"
#include "meta/identity_store.h"

namespace dtr::access {

struct AuthConfig {
  std::string issuer = "dtr-reference";
  std::string service = "dtr";
  std::chrono::seconds token_ttl{300};
  std::chrono::seconds refresh_ttl{std::chrono::hours(24 * 30)};
  int max_failures = 10;  // per user and per address, in `failure_window`
  std::chrono::seconds failure_window{60};
  std::chrono::seconds password_cache_ttl{60};
  // How long a verified bearer token's principal is reused without checking its signature
  // and reading its account again. In this process an account change is seen at once (the
  // store's accounts version); another process's change within this time.
  std::chrono::milliseconds bearer_cache_ttl{1000};
};

class Authenticator {
 public:
  Authenticator(meta::IdentityStore* identity, const auth::SigningKey* key, AuthConfig config);

  const AuthConfig& config() const { return config_; }
  const auth::SigningKey& key() const { return *key_; }

  // Anonymous when there are no credentials. Errors: kUnauthenticated (bad credentials,
  // bad token), kResourceExhausted (too many failed logins).
  Result<Principal> Authenticate(const http::Request& req);

  // Checks a user name with a password or an API token.
  Result<Principal> Login(const std::string& user, const std::string& secret,
                          const std::string& remote_addr);
  Result<Principal> VerifyBearer(const std::string& token);
  // The principal for an account name, if it exists and is active (kUnauthenticated else).
  Result<Principal> PrincipalFor(const std::string& user);

 private:
  bool Limited(const std::string& key);
  void RecordFailure(const std::string& key);

  meta::IdentityStore* identity_;
  const auth::SigningKey* key_;
  AuthConfig config_;

  std::mutex mu_;
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point window_start;
  };
  std::unordered_map<std::string, Failures> failures_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> verified_;

  struct VerifiedBearer {
    Principal principal;
    int64_t exp = 0;  // the token's exp claim (unix seconds)
    std::chrono::steady_clock::time_point verified_at;
    uint64_t accounts_version = 0;
  };
  std::mutex bearer_mu_;
  std::unordered_map<std::string, VerifiedBearer> bearers_;  // by the token itself
};

}  // namespace dtr::access
