#include "access/token_service.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/scope.h"
#include "http/parser.h"

namespace dtr::access {

using nlohmann::json;

namespace {

std::string Rfc3339(std::time_t t) {
  char buf[32];
  std::tm tm;
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<std::string> ScopeParams(const http::Request& req) {
  std::vector<std::string> out;
  for (const auto& [k, v] : req.query) {
    if (k == "scope") out.push_back(v);
  }
  return out;
}

int StatusFor(const Status& s) {
  if (s.is(Code::kResourceExhausted)) return 429;
  if (s.is(Code::kUnauthenticated)) return 401;
  if (s.is(Code::kInvalidArgument)) return 400;
  return 500;
}

}  // namespace

void WriteAuthError(http::Response& res, int status, const std::string& code,
                    const std::string& message) {
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.body =
      json{{"errors",
            json::array({json{{"code", code}, {"message", message}, {"detail", json::object()}}})}}
          .dump();
}

Result<std::string> TokenService::Issue(const Principal& p, const std::vector<std::string>& scopes,
                                        std::string* granted_scope) {
  auto parsed = auth::ParseScopes(scopes);
  if (!parsed.ok()) return InvalidArgument("invalid scope: " + parsed.status().message());
  std::vector<auth::ResourceActions> granted;
  for (const auto& ra : *parsed) {
    auth::ResourceActions g = ra;
    g.actions.clear();
    if (ra.type == "repository") {
      std::set<std::string> wanted(ra.actions.begin(), ra.actions.end());
      auto allowed = policy_->Grant(p.user(), SplitRepoName(ra.name), wanted, create_on_push_());
      if (!allowed.ok()) return allowed.status();
      g.actions.assign(allowed->begin(), allowed->end());
    } else if (ra.type == "registry" && ra.name == "catalog") {
      // Everyone may list; the listing only shows what the caller can pull.
      for (const auto& a : ra.actions) {
        if (a == "*") g.actions.push_back("*");
      }
    }
    granted.push_back(std::move(g));
  }
  if (granted_scope) *granted_scope = auth::FormatScopes(granted);
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json claims = {{"iss", authn_->config().issuer},
                 {"sub", p.anonymous() ? "" : p.account->name},
                 {"aud", authn_->config().service},
                 {"exp", secs + authn_->config().token_ttl.count()},
                 {"nbf", secs - 1},
                 {"iat", secs},
                 {"jti", auth::RandomToken(16)},
                 {"access", auth::AccessClaim(granted)}};
  return auth::Sign(authn_->key(), claims);
}

bool TokenService::Handle(http::Request& req, http::Response& res) {
  if (req.path != "/auth/token" && req.path != "/auth/token/") return false;
  res.headers.Set("Cache-Control", "no-store");
  if (req.method == "GET") {
    Get(req, res);
  } else if (req.method == "POST") {
    Post(req, res);
  } else {
    res.headers.Set("Allow", "GET, POST");
    WriteAuthError(res, 405, "UNSUPPORTED", "use GET or POST on /auth/token");
  }
  return true;
}

void TokenService::Reply(http::Response& res, const Principal& p,
                         const std::vector<std::string>& scopes, bool with_refresh, bool oauth) {
  std::string granted;
  auto token = Issue(p, scopes, &granted);
  if (!token.ok()) {
    return WriteAuthError(res, StatusFor(token.status()),
                          token.status().is(Code::kInvalidArgument) ? "INVALID_REQUEST" : "UNKNOWN",
                          token.status().message());
  }
  std::time_t now = std::time(nullptr);
  json body = {{"access_token", *token},
               {"expires_in", authn_->config().token_ttl.count()},
               {"issued_at", Rfc3339(now)}};
  if (!oauth) body["token"] = *token;
  if (oauth) body["scope"] = granted;
  if (with_refresh && !p.anonymous()) {
    auto secs = static_cast<int64_t>(now);
    json claims = {{"iss", authn_->config().issuer},
                   {"sub", p.account->name},
                   {"aud", authn_->config().service},
                   {"typ", "refresh"},
                   {"exp", secs + authn_->config().refresh_ttl.count()},
                   {"iat", secs},
                   {"jti", auth::RandomToken(16)}};
    auto refresh = auth::Sign(authn_->key(), claims);
    if (refresh.ok()) body["refresh_token"] = *refresh;
  }
  res.status = 200;
  res.headers.Set("Content-Type", "application/json");
  res.body = body.dump();
}

void TokenService::Get(http::Request& req, http::Response& res) {
  auto p = authn_->Authenticate(req);
  if (!p.ok()) {
    if (p.status().is(Code::kUnauthenticated)) {
      res.headers.Set("WWW-Authenticate", "Basic realm=\"dtr\"");
    }
    return WriteAuthError(
        res, StatusFor(p.status()),
        p.status().is(Code::kResourceExhausted) ? "TOOMANYREQUESTS" : "UNAUTHORIZED",
        p.status().message());
  }
  bool offline = req.Query("offline_token").value_or("") == "true";
  Reply(res, *p, ScopeParams(req), offline, false);
}

void TokenService::Post(http::Request& req, http::Response& res) {
  std::string body;
  char buf[8192];
  while (req.body && body.size() <= 65536) {
    ssize_t n = req.body->Read(buf, sizeof buf);
    if (n < 0) return WriteAuthError(res, 400, "INVALID_REQUEST", "request body incomplete");
    if (n == 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  if (body.size() > 65536) return WriteAuthError(res, 413, "INVALID_REQUEST", "form too large");
  http::Request form;
  http::SplitTarget("/?" + body, &form);
  auto field = [&](const char* k) { return std::string(form.Query(k).value_or("")); };
  std::vector<std::string> scopes;
  for (const auto& [k, v] : form.query) {
    if (k == "scope") scopes.push_back(v);
  }
  std::string grant = field("grant_type");
  Result<Principal> p = Principal{};
  if (grant == "password") {
    p = authn_->Login(field("username"), field("password"), req.ClientAddress());
  } else if (grant == "refresh_token") {
    auth::VerifyOptions opt;
    opt.issuer = authn_->config().issuer;
    opt.audience = authn_->config().service;
    auto claims = auth::Verify(field("refresh_token"), authn_->key().public_key(), opt);
    if (!claims.ok() || claims->value("typ", "") != "refresh") {
      return WriteAuthError(res, 401, "UNAUTHORIZED", "invalid refresh token");
    }
    // A refresh token is only as good as the account behind it.
    p = authn_->PrincipalFor(claims->value("sub", ""));
  } else {
    return WriteAuthError(res, 400, "UNSUPPORTED_GRANT_TYPE",
                          "grant_type must be password or refresh_token");
  }
  if (!p.ok()) {
    return WriteAuthError(
        res, StatusFor(p.status()),
        p.status().is(Code::kResourceExhausted) ? "TOOMANYREQUESTS" : "UNAUTHORIZED",
        p.status().message());
  }
  bool refresh = grant == "password" && field("access_type") == "offline";
  Reply(res, *p, scopes, refresh, true);
}

}  // namespace dtr::access
