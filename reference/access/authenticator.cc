#include "access/authenticator.h"

#include <nlohmann/json.hpp>

#include "auth/http_auth.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/scope.h"

namespace dtr::access {

namespace {
Status Unauthenticated(std::string m) { return Status(Code::kUnauthenticated, std::move(m)); }
}  // namespace

Authenticator::Authenticator(meta::IdentityStore* identity, const auth::SigningKey* key,
                             AuthConfig config)
    : identity_(identity), key_(key), config_(std::move(config)) {}

Result<Principal> Authenticator::Authenticate(const http::Request& req) {
  auto header = req.headers.Get("Authorization");
  if (!header || header->empty()) {
    if (req.client_cert_subject.empty()) return Principal{};
    // Mutual TLS: the server verified the certificate against the client CA; its CN names
    // the user. Explicit credentials, when sent, take precedence.
    auto p = PrincipalFor(req.client_cert_subject);
    if (!p.ok()) {
      if (!p.status().is(Code::kUnauthenticated)) return p.status();
      return Unauthenticated("the client certificate names '" + req.client_cert_subject +
                             "', which is not an active user");
    }
    p->method = "client_cert";
    return p;
  }
  auto creds = auth::ParseAuthorization(*header);
  if (!creds.ok()) {
    return Unauthenticated("unusable Authorization header (" + creds.status().message() +
                           "); use Basic or Bearer");
  }
  if (creds->scheme == auth::Credentials::Scheme::kBearer) return VerifyBearer(creds->token);
  return Login(creds->username, creds->password, req.ClientAddress());
}

bool Authenticator::Limited(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return false;
  if (std::chrono::steady_clock::now() - it->second.window_start > config_.failure_window) {
    failures_.erase(it);
    return false;
  }
  return it->second.count >= config_.max_failures;
}

void Authenticator::RecordFailure(const std::string& key) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  auto& f = failures_[key];
  if (f.count == 0 || now - f.window_start > config_.failure_window) {
    f.count = 0;
    f.window_start = now;
  }
  ++f.count;
  if (failures_.size() > 100000) failures_.clear();  // bounded memory under a flood
}

Result<Principal> Authenticator::Login(const std::string& user, const std::string& secret,
                                       const std::string& remote_addr) {
  std::string user_key = "u:" + user;
  std::string addr_key = "a:" + remote_addr;
  if (Limited(user_key) || Limited(addr_key)) {
    return Status(Code::kResourceExhausted,
                  "too many failed logins; wait a minute before trying again");
  }
  auto account = identity_->GetAccount(user);
  if (!account.ok()) return account.status();
  auto fail = [&]() -> Status {
    RecordFailure(user_key);
    RecordFailure(addr_key);
    return Unauthenticated("invalid username or password");
  };
  if (!account->has_value() || (*account)->is_org || !(*account)->is_active ||
      (*account)->name != user) {
    return fail();
  }
  Principal p;
  p.account = **account;
  // A remembered success skips the deliberately slow hash.
  std::string cache_key = auth::Sha256Hex(user + '\0' + secret + '\0' + p.account->password_hash);
  {
    std::lock_guard lock(mu_);
    auto it = verified_.find(cache_key);
    if (it != verified_.end() && std::chrono::steady_clock::now() < it->second) {
      p.method = "password";
      return p;
    }
  }
  if (!p.account->password_hash.empty() && auth::VerifyPassword(secret, p.account->password_hash)) {
    p.method = "password";
    std::lock_guard lock(mu_);
    if (verified_.size() > 10000) verified_.clear();
    verified_[cache_key] = std::chrono::steady_clock::now() + config_.password_cache_ttl;
    return p;
  }
  auto token = identity_->GetApiToken(auth::Sha256Hex(secret));
  if (!token.ok()) return token.status();
  if (token->has_value() && (*token)->is_active && (*token)->account_id == p.account->id) {
    meta::ApiToken used = **token;
    used.last_used = static_cast<int64_t>(std::time(nullptr));
    identity_->UpdateApiToken(used);
    p.method = "api_token";
    return p;
  }
  return fail();
}

Result<Principal> Authenticator::VerifyBearer(const std::string& token) {
  // Read before the account is: a change after this point makes the entry stale.
  uint64_t version = identity_->AccountsVersion();
  auto now = std::chrono::steady_clock::now();
  auth::VerifyOptions opt;
  opt.issuer = config_.issuer;
  opt.audience = config_.service;
  int64_t unix_now =
      std::chrono::duration_cast<std::chrono::seconds>(opt.now.time_since_epoch()).count();
  {
    std::lock_guard lock(bearer_mu_);
    auto it = bearers_.find(token);
    if (it != bearers_.end()) {
      const VerifiedBearer& v = it->second;
      // The same expiry rule as auth::Verify, so a remembered token ends when it would.
      if (now - v.verified_at < config_.bearer_cache_ttl && v.accounts_version == version &&
          v.exp > unix_now - opt.leeway.count()) {
        return v.principal;
      }
      bearers_.erase(it);
    }
  }
  auto claims = auth::Verify(token, key_->public_key(), opt);
  if (!claims.ok()) return Unauthenticated("invalid bearer token: " + claims.status().message());
  if (claims->value("typ", "") == "refresh") {
    return Unauthenticated("a refresh token cannot be used as an access token");
  }
  Principal p;
  std::string sub = claims->value("sub", "");
  if (!sub.empty()) {
    auto found = PrincipalFor(sub);
    if (!found.ok()) return found.status();
    p = std::move(found.value());
  }
  p.method = "bearer";
  auto access =
      auth::ParseAccessClaim(claims->contains("access") ? (*claims)["access"] : nlohmann::json());
  if (!access.ok()) return Unauthenticated("invalid access claim: " + access.status().message());
  for (const auto& ra : *access) {
    auto& set = p.token_access[ra.type + ":" + ra.name];
    set.insert(ra.actions.begin(), ra.actions.end());
  }
  int64_t exp = auth::NumericDate((*claims)["exp"]).value_or(0);  // Verify required it
  std::lock_guard lock(bearer_mu_);
  if (bearers_.size() >= 10000) bearers_.clear();  // bounded memory under a flood of tokens
  bearers_[token] = VerifiedBearer{p, exp, now, version};
  return p;
}

Result<Principal> Authenticator::PrincipalFor(const std::string& user) {
  auto account = identity_->GetAccount(user);
  if (!account.ok()) return account.status();
  if (!account->has_value() || (*account)->is_org || !(*account)->is_active ||
      (*account)->name != user) {
    return Unauthenticated("the token's user no longer exists or is inactive");
  }
  Principal p;
  p.account = **account;
  return p;
}

}  // namespace dtr::access
