// Group `auth`: the Docker registry token-auth spec (distribution.github.io/distribution/
// spec/auth/token/, .../auth/jwt/ and .../auth/oauth/): the challenge, the token endpoint
// (GET with Basic, and the OAuth2 POST form), scopes enforced per repository, and forged
// tokens refused. Only what those specs say, so the group runs against any token-auth
// registry; a registry without a Bearer challenge skips it.
//
// These cases look at raw exchanges: they never let the client answer a challenge, and
// they carry the tokens they fetch themselves.
#include <nlohmann/json.hpp>

#include <ctime>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

#include "auth.h"
#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

using nlohmann::json;

const char* kNeedsCredentials = "needs --user/--password (a token granted to an account)";

HttpResponse raw(CaseContext& ctx, HttpRequest req) {
  req.authenticate = false;
  req.follow_redirects = false;
  HttpResponse r = ctx.http().send(req);
  if (!r.ok()) ctx.fail(req.method + " " + req.target + ": " + r.error, r);
  return r;
}

HttpResponse with_bearer(CaseContext& ctx, const std::string& method, const std::string& target,
                         const std::string& token) {
  return raw(
      ctx, {.method = method, .target = target, .headers = {{"Authorization", "Bearer " + token}}});
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64_encode(user + ":" + password);
}

bool has_credentials(CaseContext& ctx) {
  return !ctx.options().user.empty() && !ctx.options().password.empty();
}

void need_credentials(CaseContext& ctx) {
  if (!has_credentials(ctx)) ctx.skip(kNeedsCredentials);
}

std::optional<Challenge> challenge_of(const HttpResponse& r, const std::string& scheme) {
  for (auto& c : parse_www_authenticate(r.header_values("WWW-Authenticate"))) {
    if (c.scheme == scheme) return c;
  }
  return std::nullopt;
}

// The Bearer challenge GET /v2/ answers without credentials. A registry that does not use
// token auth skips the case: nothing here applies to it.
Challenge token_auth(CaseContext& ctx) {
  HttpResponse r = raw(ctx, {.method = "GET", .target = "/v2/"});
  if (r.status == 200) {
    ctx.skip("not applicable: GET /v2/ answers 200 without credentials (no token auth here)");
  }
  auto bearer = challenge_of(r, "bearer");
  if (r.status == 401 && !bearer && challenge_of(r, "basic")) {
    ctx.skip("not applicable: the registry asks for Basic auth, not for a Bearer token");
  }
  if (r.status != 401 || !bearer || !bearer->params.count("realm")) {
    ctx.blocked("GET /v2/ without credentials (expected 401 with a Bearer realm)", r);
  }
  return *bearer;
}

std::string realm_of(const Challenge& c) { return c.params.at("realm"); }
std::string service_of(const Challenge& c) {
  return c.params.count("service") ? c.params.at("service") : "";
}

// GET realm?service=..&scope=.. (one scope parameter each), with `authorization` ("" for none).
HttpResponse request_token(CaseContext& ctx, const Challenge& bearer,
                           const std::vector<std::string>& scopes,
                           const std::string& authorization) {
  Challenge c = bearer;
  c.params.erase("scope");
  std::string joined;
  for (const auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
  if (!joined.empty()) c.params["scope"] = joined;
  Headers h;
  if (!authorization.empty()) h.push_back({"Authorization", authorization});
  return raw(ctx, {.method = "GET", .target = token_request_url(c), .headers = h});
}

// The token of a 200 token answer ({"token"} or {"access_token"}); fails the case otherwise.
std::string token_from(CaseContext& ctx, const HttpResponse& r, const std::string& what) {
  if (r.status != 200)
    ctx.fail(what + ": expected 200 with a token, got " + std::to_string(r.status), r);
  auto t = parse_token_response(r.body);
  if (!t) ctx.fail(what + ": the answer has no token (nor access_token) string", r);
  return t->value;
}

// A token for `scopes` granted to --user, or the case is blocked.
std::string user_token(CaseContext& ctx, const Challenge& bearer,
                       const std::vector<std::string>& scopes) {
  HttpResponse r =
      request_token(ctx, bearer, scopes, basic(ctx.options().user, ctx.options().password));
  auto t = parse_token_response(r.body);
  if (r.status != 200 || !t) ctx.blocked("GET " + realm_of(bearer) + " with --user/--password", r);
  return t->value;
}

std::string repo_scope(const std::string& repo, const std::string& actions) {
  return "repository:" + repo + ":" + actions;
}

bool refused(const HttpResponse& r) { return r.status == 401 || r.status == 403; }

// POST of an upload with `token`: true when it was accepted (the upload is cancelled).
bool push_allowed(CaseContext& ctx, const std::string& repo, const std::string& token,
                  HttpResponse* out = nullptr) {
  HttpResponse r = with_bearer(ctx, "POST", Oci::uploads_path(repo), token);
  if (out) *out = r;
  if (r.status == 202 && r.has_header("Location")) {
    std::string loc = HttpClient::resolve(r.url, r.header("Location"));
    with_bearer(ctx, "DELETE", loc, token);
  }
  return !refused(r);
}

// GET of a manifest with `token`: true when authorization let it through (a 404 for the
// missing manifest counts: the request got past the token check). Pulls, not pushes, are
// the positive controls: a realm may rightly leave push out (a partial grant) where the
// registry would have to create the repository.
bool pull_allowed(CaseContext& ctx, const std::string& repo, const std::string& token,
                  HttpResponse* out = nullptr) {
  HttpResponse r = with_bearer(ctx, "GET", Oci::manifest_path(repo, "latest"), token);
  if (out) *out = r;
  return !refused(r);
}

// ---- JWT pieces (distribution's token implementation; opaque tokens are handled too) ----

struct Jwt {
  json header, claims;
  std::string signature;
};

std::optional<Jwt> decode_jwt(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos) return std::nullopt;
  auto h = base64url_decode(token.substr(0, d1));
  auto p = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto s = base64url_decode(token.substr(d2 + 1));
  if (!h || !p || !s) return std::nullopt;
  Jwt jwt{json::parse(*h, nullptr, false), json::parse(*p, nullptr, false), *s};
  if (!jwt.header.is_object() || !jwt.claims.is_object()) return std::nullopt;
  return jwt;
}

// The token with one bit of its signature flipped (or, when it is opaque, one character).
std::string tamper(const std::string& token) {
  if (auto jwt = decode_jwt(token); jwt && !jwt->signature.empty()) {
    std::string sig = jwt->signature;
    sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
    return token.substr(0, token.rfind('.') + 1) + base64url_encode(sig);
  }
  std::string t = token;
  char& c = t[t.size() / 2];
  c = c == 'A' ? 'B' : 'A';
  return t;
}

std::string unsigned_jwt(const json& header, const json& claims) {
  return base64url_encode(header.dump()) + "." + base64url_encode(claims.dump()) + ".";
}

// Actions a JWT `access` claim grants on `repo`; nullopt when the token is not a JWT with one.
std::optional<std::set<std::string>> jwt_actions(const std::string& token,
                                                 const std::string& repo) {
  auto jwt = decode_jwt(token);
  if (!jwt || !jwt->claims.contains("access") || !jwt->claims["access"].is_array()) {
    return std::nullopt;
  }
  std::set<std::string> out;
  for (const auto& a : jwt->claims["access"]) {
    if (!a.is_object() || a.value("type", "") != "repository" || a.value("name", "") != repo ||
        !a.contains("actions") || !a["actions"].is_array()) {
      continue;
    }
    for (const auto& act : a["actions"]) {
      if (act.is_string()) out.insert(act.get<std::string>());
    }
  }
  return out;
}

// Scopes of a challenge: "type:name:actions" each; name may hold a ':' (a host:port).
struct Scope {
  std::string type, name;
  std::set<std::string> actions;
};
std::vector<Scope> scopes_of(const Challenge& c) {
  std::vector<Scope> out;
  if (!c.params.count("scope")) return out;
  std::istringstream in(c.params.at("scope"));
  std::string s;
  while (in >> s) {
    auto first = s.find(':'), last = s.rfind(':');
    if (first == std::string::npos || first == last) continue;
    Scope sc{s.substr(0, first), s.substr(first + 1, last - first - 1), {}};
    std::istringstream acts(s.substr(last + 1));
    std::string a;
    while (std::getline(acts, a, ',')) sc.actions.insert(a);
    out.push_back(sc);
  }
  return out;
}

bool is_rfc3339(const std::string& s) {
  static const std::regex kTime(
      R"(^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$)");
  return std::regex_match(s, kTime);
}

// ---- the challenge --------------------------------------------------------------------------

void challenge_v2(CaseContext& ctx) {
  HttpResponse r = raw(ctx, {.method = "GET", .target = "/v2/"});
  if (r.status == 200) {
    ctx.skip("not applicable: GET /v2/ answers 200 without credentials (no token auth here)");
  }
  auto bearer = challenge_of(r, "bearer");
  if (r.status == 401 && !bearer && challenge_of(r, "basic")) {
    ctx.skip("not applicable: the registry asks for Basic auth, not for a Bearer token");
  }
  if (r.status != 401)
    ctx.fail("GET /v2/ without credentials: expected 401, got " + std::to_string(r.status), r);
  if (!bearer) ctx.fail("the 401 carries no WWW-Authenticate: Bearer challenge", r);
  static const std::regex kUrl(R"(^https?://[^/\s]+(/\S*)?$)");
  if (!bearer->params.count("realm") || !std::regex_match(realm_of(*bearer), kUrl)) {
    ctx.fail("the Bearer challenge has no realm that is an absolute http(s) URL", r);
  }
  if (service_of(*bearer).empty()) ctx.fail("the Bearer challenge has no service", r);
}

void challenge_scope(CaseContext& ctx) {
  token_auth(ctx);
  const std::string repo = ctx.new_repo();
  struct Probe {
    std::string method, target, action;
  };
  for (const Probe& p : {Probe{"POST", Oci::uploads_path(repo), "push"},
                         Probe{"GET", Oci::manifest_path(repo, "latest"), "pull"}}) {
    HttpResponse r = raw(ctx, {.method = p.method, .target = p.target});
    if (r.status != 401) {
      ctx.fail(p.method + " without a token: expected 401, got " + std::to_string(r.status), r);
    }
    auto bearer = challenge_of(r, "bearer");
    if (!bearer) ctx.fail(p.method + " without a token: no Bearer challenge", r);
    bool found = false;
    for (const auto& s : scopes_of(*bearer)) {
      found = found || (s.type == "repository" && s.name == repo && s.actions.count(p.action));
    }
    if (!found) {
      ctx.fail(p.method + " " + p.target + ": the challenge's scope does not ask for " +
                   repo_scope(repo, p.action),
               r);
    }
  }
}

// ---- the token endpoint -----------------------------------------------------------------

void token_get_shape(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  need_credentials(ctx);
  const std::string a = ctx.new_repo(), b = ctx.new_repo();
  HttpResponse r = request_token(ctx, bearer, {repo_scope(a, "pull,push"), repo_scope(b, "pull")},
                                 basic(ctx.options().user, ctx.options().password));
  if (r.status != 200)
    ctx.fail("GET realm with Basic credentials and two scopes: expected 200, got " +
                 std::to_string(r.status),
             r);
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object()) ctx.fail("the token answer is not a JSON object", r);
  bool any = false;
  for (const char* f : {"token", "access_token"}) {
    if (!j.contains(f)) continue;
    if (!j[f].is_string() || j[f].get<std::string>().empty()) {
      ctx.fail(std::string(f) + " is not a non-empty string", r);
    }
    any = true;
  }
  if (!any) ctx.fail("neither token nor access_token in the answer", r);
  if (j.contains("expires_in") &&
      (!j["expires_in"].is_number_integer() || j["expires_in"].get<long long>() <= 0)) {
    ctx.fail("expires_in is not a positive integer number of seconds", r);
  }
  if (j.contains("issued_at") &&
      (!j["issued_at"].is_string() || !is_rfc3339(j["issued_at"].get<std::string>()))) {
    ctx.fail("issued_at is not an RFC 3339 time", r);
  }
  if (j.contains("refresh_token") && !j["refresh_token"].is_string()) {
    ctx.fail("refresh_token is not a string", r);
  }
  const std::string token = parse_token_response(r.body)->value;
  HttpResponse base = with_bearer(ctx, "GET", "/v2/", token);
  if (base.status != 200)
    ctx.fail("GET /v2/ with the token: expected 200, got " + std::to_string(base.status), base);
  HttpResponse pull;
  for (const auto& repo : {a, b}) {
    if (!pull_allowed(ctx, repo, token, &pull)) {
      ctx.fail("the token does not authorize the pull of " + repo + " it was asked for", pull);
    }
  }
}

void token_lifetime(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  need_credentials(ctx);
  HttpResponse r = request_token(ctx, bearer, {repo_scope(ctx.new_repo(), "pull")},
                                 basic(ctx.options().user, ctx.options().password));
  if (r.status != 200) ctx.blocked("GET realm with Basic credentials", r);
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object()) ctx.fail("the token answer is not a JSON object", r);
  if (j.contains("expires_in") && j["expires_in"].is_number() &&
      j["expires_in"].get<double>() < 60) {
    ctx.fail("expires_in below 60 seconds", r);
  }
  if (j.contains("token") && j.contains("access_token") && j["token"] != j["access_token"]) {
    ctx.fail("token and access_token are both given but differ", r);
  }
  if (j.contains("issued_at") && j["issued_at"].is_string() && r.has_header("Date")) {
    std::tm issued{}, date{};
    std::istringstream a(j["issued_at"].get<std::string>()), b(r.header("Date"));
    a >> std::get_time(&issued, "%Y-%m-%dT%H:%M:%S");
    b >> std::get_time(&date, "%a, %d %b %Y %H:%M:%S");
    if (!a.fail() && !b.fail()) {
      const double skew = std::difftime(timegm(&issued), timegm(&date));
      if (skew > 300 || skew < -300) {
        ctx.fail("issued_at is " + std::to_string(static_cast<long>(skew)) +
                     " s away from the answer's own Date header",
                 r);
      }
    }
  }
}

void token_scoped_to_repo(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  need_credentials(ctx);
  const std::string a = ctx.new_repo(), b = ctx.new_repo();
  const std::string token = user_token(ctx, bearer, {repo_scope(a, "pull,push")});
  HttpResponse control;
  if (!pull_allowed(ctx, a, token, &control)) ctx.blocked("a pull of A with A's token", control);
  HttpResponse push;
  if (push_allowed(ctx, b, token, &push)) {
    ctx.fail("a token granted for " + a + " authorized a push to " + b, push);
  }
  HttpResponse pull = with_bearer(ctx, "GET", Oci::manifest_path(b, "latest"), token);
  if (!refused(pull)) {
    ctx.fail("a token granted for " + a + " got past authorization on a pull of " + b +
                 " (expected 401/403, got " + std::to_string(pull.status) + ")",
             pull);
  }
}

void partial_grant(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  const std::string repo = ctx.new_repo();
  HttpResponse r = request_token(ctx, bearer, {repo_scope(repo, "pull,push")}, "");
  if (r.status == 401) {
    ctx.skip(
        "not applicable: the realm gives anonymous callers no token at all, so a partial "
        "grant cannot be provoked without a second, pull-only account");
  }
  const std::string token = token_from(ctx, r, "anonymous GET realm asking for pull,push");
  if (auto acts = jwt_actions(token, repo); acts && acts->count("push")) {
    ctx.fail("the token given to an anonymous caller claims push on " + repo, r);
  }
  HttpResponse push;
  if (push_allowed(ctx, repo, token, &push)) {
    ctx.fail("a token given to an anonymous caller authorized a push", push);
  }
}

void wrong_password(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  const std::string user =
      ctx.options().user.empty() ? "dtrc-nobody-" + random_hex(8) : ctx.options().user;
  HttpResponse r = request_token(ctx, bearer, {repo_scope(ctx.new_repo(), "pull")},
                                 basic(user, "wrong-" + random_hex(12)));
  if (r.status != 401) {
    ctx.fail("GET realm with a wrong password: expected 401, got " + std::to_string(r.status), r);
  }
}

// ---- forged tokens -------------------------------------------------------------------------

// A real token for `scopes`: the user's, else an anonymous one; "" when there is none.
std::string some_token(CaseContext& ctx, const Challenge& bearer,
                       const std::vector<std::string>& scopes) {
  HttpResponse r =
      request_token(ctx, bearer, scopes,
                    has_credentials(ctx) ? basic(ctx.options().user, ctx.options().password) : "");
  auto t = parse_token_response(r.body);
  return r.status == 200 && t ? t->value : "";
}

void expect_refused_on_v2(CaseContext& ctx, const std::string& token, const std::string& what) {
  HttpResponse r = with_bearer(ctx, "GET", "/v2/", token);
  if (r.status != 401) {
    ctx.fail("GET /v2/ with " + what + ": expected 401, got " + std::to_string(r.status), r);
  }
}

void tampered_token(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  const std::string repo = ctx.new_repo();
  const std::string token = some_token(ctx, bearer, {repo_scope(repo, "pull")});
  if (token.empty()) ctx.skip(kNeedsCredentials);
  HttpResponse control = with_bearer(ctx, "GET", "/v2/", token);
  if (control.status != 200) ctx.blocked("GET /v2/ with the untouched token", control);
  expect_refused_on_v2(ctx, tamper(token), "the token's signature altered by one bit");
}

void alg_none_token(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  const std::string repo = ctx.new_repo();
  const std::string token = some_token(ctx, bearer, {repo_scope(repo, "pull,push")});
  json claims;
  json header = {{"typ", "JWT"}, {"alg", "none"}};
  if (auto jwt = decode_jwt(token)) {
    claims = jwt->claims;  // a real claim set: only the missing signature is wrong
    expect_refused_on_v2(ctx, token.substr(0, token.rfind('.') + 1),
                         "the token without its signature");
  } else {
    const long long now = static_cast<long long>(std::time(nullptr));
    claims = {
        {"iss", realm_of(bearer)},
        {"sub", ctx.options().user.empty() ? "admin" : ctx.options().user},
        {"aud", service_of(bearer)},
        {"exp", now + 300},
        {"nbf", now - 10},
        {"iat", now},
        {"jti", random_hex(16)},
        {"access",
         json::array({{{"type", "repository"}, {"name", repo}, {"actions", {"pull", "push"}}}})}};
  }
  const std::string forged = unsigned_jwt(header, claims);
  expect_refused_on_v2(ctx, forged, "an alg:none token");
  HttpResponse push;
  if (push_allowed(ctx, repo, forged, &push)) ctx.fail("an alg:none token authorized a push", push);
}

void garbage_token(CaseContext& ctx) {
  token_auth(ctx);
  for (const std::string& t :
       {random_hex(40), "eyJhbGciOiJIUzI1NiJ9.e30." + random_hex(20), std::string("a.b.c")}) {
    HttpResponse r = with_bearer(ctx, "GET", "/v2/", t);
    if (r.status != 401) {
      ctx.fail("GET /v2/ with a garbage token: expected 401, got " + std::to_string(r.status), r);
    }
    if (!challenge_of(r, "bearer"))
      ctx.fail("the 401 for a garbage token has no Bearer challenge", r);
  }
}

// ---- the OAuth2 POST form -----------------------------------------------------------------

HttpResponse post_form(CaseContext& ctx, const Challenge& bearer,
                       const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [k, v] : fields) body += (body.empty() ? "" : "&") + k + "=" + url_encode(v);
  return raw(ctx, {.method = "POST",
                   .target = realm_of(bearer),
                   .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                   .body = body});
}

// The answer to a password grant; skips the case when the realm does not take POSTs.
HttpResponse oauth_password(CaseContext& ctx, const Challenge& bearer, const std::string& scope,
                            bool offline) {
  std::vector<std::pair<std::string, std::string>> f = {
      {"grant_type", "password"},           {"service", service_of(bearer)},
      {"client_id", "dtr-conformance"},     {"username", ctx.options().user},
      {"password", ctx.options().password}, {"scope", scope}};
  if (offline) f.push_back({"access_type", "offline"});
  HttpResponse r = post_form(ctx, bearer, f);
  if (r.status == 404 || r.status == 405 || r.status == 501) {
    ctx.skip("not applicable: the realm does not take the OAuth2 POST form (POST answered " +
             std::to_string(r.status) + "; clients fall back to GET)");
  }
  return r;
}

// access_token of an OAuth2 answer, its required fields checked.
std::string oauth_token(CaseContext& ctx, const HttpResponse& r, const std::string& what) {
  if (r.status != 200) ctx.fail(what + ": expected 200, got " + std::to_string(r.status), r);
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object()) ctx.fail(what + ": the answer is not a JSON object", r);
  if (!j.contains("access_token") || !j["access_token"].is_string() ||
      j["access_token"].get<std::string>().empty()) {
    ctx.fail(what + ": no access_token string (REQUIRED)", r);
  }
  if (!j.contains("scope") || !j["scope"].is_string())
    ctx.fail(what + ": no scope string (REQUIRED)", r);
  if (!j.contains("expires_in") || !j["expires_in"].is_number_integer()) {
    ctx.fail(what + ": no integer expires_in (REQUIRED)", r);
  }
  return j["access_token"].get<std::string>();
}

void oauth_post_password(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  need_credentials(ctx);
  const std::string repo = ctx.new_repo();
  HttpResponse r = oauth_password(ctx, bearer, repo_scope(repo, "pull,push"), false);
  const std::string token = oauth_token(ctx, r, "POST realm grant_type=password");
  HttpResponse base = with_bearer(ctx, "GET", "/v2/", token);
  if (base.status != 200)
    ctx.fail("GET /v2/ with the access_token: expected 200, got " + std::to_string(base.status),
             base);
  HttpResponse pull;
  if (!pull_allowed(ctx, repo, token, &pull))
    ctx.fail("the access_token does not authorize the pull it was asked for", pull);
  HttpResponse bad = post_form(ctx, bearer,
                               {{"grant_type", "password"},
                                {"service", service_of(bearer)},
                                {"client_id", "dtr-conformance"},
                                {"username", ctx.options().user},
                                {"password", "wrong-" + random_hex(12)}});
  if (bad.status != 400 && bad.status != 401) {
    ctx.fail(
        "POST realm with a wrong password: expected 400 or 401, got " + std::to_string(bad.status),
        bad);
  }
}

void oauth_post_refresh(CaseContext& ctx) {
  Challenge bearer = token_auth(ctx);
  need_credentials(ctx);
  const std::string repo = ctx.new_repo();
  HttpResponse r = oauth_password(ctx, bearer, repo_scope(repo, "pull"), true);
  oauth_token(ctx, r, "POST realm grant_type=password access_type=offline");
  json j = json::parse(r.body, nullptr, false);
  if (!j.contains("refresh_token")) {
    ctx.skip("not applicable: no refresh_token returned for access_type=offline");
  }
  if (!j["refresh_token"].is_string() || j["refresh_token"].get<std::string>().empty()) {
    ctx.fail("refresh_token is not a non-empty string", r);
  }
  const std::string refresh = j["refresh_token"].get<std::string>();
  auto refresh_form = [&](const std::string& value) {
    return post_form(ctx, bearer,
                     {{"grant_type", "refresh_token"},
                      {"service", service_of(bearer)},
                      {"client_id", "dtr-conformance"},
                      {"refresh_token", value},
                      {"scope", repo_scope(repo, "pull,push")}});
  };
  HttpResponse again = refresh_form(refresh);
  const std::string token = oauth_token(ctx, again, "POST realm grant_type=refresh_token");
  HttpResponse base = with_bearer(ctx, "GET", "/v2/", token);
  if (base.status != 200)
    ctx.fail("GET /v2/ with the refreshed access_token: expected 200, got " +
                 std::to_string(base.status),
             base);
  HttpResponse pull;
  if (!pull_allowed(ctx, repo, token, &pull))
    ctx.fail("the refreshed access_token does not authorize the pull it was asked for", pull);
  HttpResponse forged = refresh_form(tamper(refresh));
  if (forged.status != 400 && forged.status != 401) {
    ctx.fail("POST realm with an altered refresh_token: expected 400 or 401, got " +
                 std::to_string(forged.status),
             forged);
  }
}

#define CASE(ID, LEVEL, FN, ORDER, CLAUSE) \
  DTRC_CASE({.group = "auth",              \
             .id = ID,                     \
             .clause = CLAUSE,             \
             .level = Level::LEVEL,        \
             .fn = FN,                     \
             .order = ORDER})

CASE("challenge-v2", kMust, challenge_v2, 0,
     "token How to authenticate: a registry that requires authorization answers 401 with "
     "WWW-Authenticate: Bearer realm=<token server URL>,service=<name>");
CASE("challenge-scope", kMust, challenge_scope, 1,
     "token How to authenticate: a push or pull without a token is 401 and the challenge names "
     "scope=\"repository:<name>:<actions>\" with the action the request needs");
CASE("token-get-shape", kMust, token_get_shape, 10,
     "token Requesting a Token: GET realm with service, several scope params and Basic "
     "credentials gives 200 JSON with token and/or access_token, integer expires_in, RFC 3339 "
     "issued_at; the token opens /v2/ and pulls in its scopes");
CASE("token-lifetime", kShould, token_lifetime, 11,
     "token Token Response Fields: a token should never be returned with less than 60 seconds "
     "to live; token and access_token, when both given, should be equivalent; issued_at is the "
     "time of issue");
CASE("token-scoped-to-repo", kMust, token_scoped_to_repo, 12,
     "token/jwt: a token grants the scopes it was issued for; used on another repository the "
     "registry refuses it (401/403)");
CASE("partial-grant", kMust, partial_grant, 13,
     "token Requesting a Token: the token server must not return an error when the grant is "
     "partial, it returns the intersection; then the action left out is refused (anonymous "
     "callers cannot push)");
CASE("wrong-password", kMust, wrong_password, 14,
     "token/jwt Getting a Bearer Token: if an attempt to authenticate to the token server "
     "fails, it returns 401 Unauthorized");
CASE("tampered-token", kMust, tampered_token, 20,
     "token/jwt: the registry verifies the token's signature; a token with its signature "
     "altered is refused with 401");
CASE("alg-none-token", kMust, alg_none_token, 21,
     "token/jwt: tokens are signed by the token server; an unsigned (alg:none) or signature-"
     "stripped token is refused with 401, and grants no push");
CASE("garbage-token", kMust, garbage_token, 22,
     "token: a Bearer value that is no token the registry issued is refused with 401 and a "
     "Bearer challenge");
CASE("oauth-post-password", kMust, oauth_post_password, 30,
     "oauth Getting a token: POST realm grant_type=password (service, client_id, username, "
     "password, scope) gives access_token, scope, expires_in; a wrong password is refused; "
     "not applicable when the realm does not take POST");
CASE("oauth-post-refresh", kMust, oauth_post_refresh, 31,
     "oauth Refresh token format: access_type=offline returns a refresh_token that, POSTed "
     "with grant_type=refresh_token, gives a working access_token; an altered one is refused");

}  // namespace
}  // namespace dtrc
