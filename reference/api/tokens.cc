// API access tokens (inventory §2.18). Only SHA-256(token) is stored; the token itself is
// in the creation reply and nowhere else. A token of someone else is, to a non-admin, a
// token that does not exist.
#include <ctime>

#include "api/resources.h"
#include "api/routes.h"
#include "auth/password.h"

namespace dtr::api {

namespace {

// The account whose tokens a request is about: ?username= (self when absent); only system
// admins may name someone else. nullopt after replying.
std::optional<meta::Account> TokenOwner(Call& c) {
  std::string name = c.QueryStr("username");
  if (name.empty() || name == c.user()->name) return *c.user();
  if (!c.is_admin()) {
    c.Fail(err::kNotAuthorized, "only system administrators may manage other users' tokens");
    return std::nullopt;
  }
  return FindUser(c, name);
}

// The token of the path when the caller owns it or is a system admin.
std::optional<meta::ApiToken> FindToken(Call& c) {
  const std::string& hashed = c.Param("hashedtoken");
  auto t = c.deps.identity->GetApiToken(hashed);
  if (!t.ok()) {
    c.Internal(t.status());
    return std::nullopt;
  }
  if (!t->has_value() || (!c.is_admin() && (*t)->account_id != c.user()->id)) {
    c.Fail(err::kNoSuchApiToken, "no API token " + hashed);
    return std::nullopt;
  }
  return **t;
}

void ListTokens(Call& c) {
  auto owner = TokenOwner(c);
  if (!owner) return;
  auto tokens = c.deps.identity->ListApiTokens(owner->id);
  if (!tokens.ok()) return c.Internal(tokens.status());
  json out = json::array();
  for (const auto& t : *tokens) out.push_back(TokenJson(t));
  c.Reply(200, out);
}

void CreateToken(Call& c) {
  auto owner = TokenOwner(c);
  if (!owner) return;
  auto body = c.BodyObject(true);
  if (!body) return;
  meta::ApiToken t;
  Form f(*body);
  f.Str("tokenLabel", &t.label, false, 255);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  std::string token = auth::RandomToken(32);
  t.hashed_token = auth::Sha256Hex(token);
  t.account_id = owner->id;
  t.is_active = true;
  t.created_at = static_cast<int64_t>(std::time(nullptr));
  t.generated_by = "user";
  t.creator_ua = c.req.headers.GetOr("User-Agent").substr(0, 255);
  if (Status s = c.deps.identity->CreateApiToken(t); !s.ok()) return c.Internal(s);
  json out = TokenJson(t);
  out["token"] = token;
  c.Reply(201, out);
}

void DeleteTokens(Call& c) {
  auto owner = TokenOwner(c);
  if (!owner) return;
  auto used_before = c.QueryTime("usedbefore");
  if (!used_before) return;
  std::string generated_by = c.QueryStr("generatedby");
  auto tokens = c.deps.identity->ListApiTokens(owner->id);
  if (!tokens.ok()) return c.Internal(tokens.status());
  for (const auto& t : *tokens) {
    if (*used_before && t.last_used * 1000 >= *used_before) continue;
    if (!generated_by.empty() && t.generated_by != generated_by) continue;
    if (Status s = c.deps.identity->DeleteApiToken(t.hashed_token); !s.ok()) return c.Internal(s);
  }
  c.NoContent();
}

void GetToken(Call& c) {
  auto t = FindToken(c);
  if (t) c.Reply(200, TokenJson(*t));
}

void UpdateToken(Call& c) {
  auto t = FindToken(c);
  if (!t) return;
  auto body = c.BodyObject();
  if (!body) return;
  Form f(*body);
  f.Str("tokenLabel", &t->label, false, 255).Bool("isActive", &t->is_active);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (Status s = c.deps.identity->UpdateApiToken(*t); !s.ok()) return c.Internal(s);
  c.Reply(200, TokenJson(*t));
}

void DeleteToken(Call& c) {
  auto t = FindToken(c);
  if (!t) return;
  if (Status s = c.deps.identity->DeleteApiToken(t->hashed_token); !s.ok()) return c.Internal(s);
  c.NoContent();
}

}  // namespace

void AddTokenRoutes(RouteTable& t) {
  const QueryParam username = {"username", "string",
                               "whose tokens (system admins only; default: the caller)"};
  t.Add("GET", "/api/v0/api_tokens", Caller::kUser, ListTokens)
      .Tag("api_tokens")
      .Summary("List API tokens")
      .Permission("the owner; system admins for anyone")
      .Query({username})
      .Returns(200, "[]responses.APIToken")
      .Errors({err::kNotAuthorized, err::kNoSuchUser});
  t.Add("POST", "/api/v0/api_tokens", Caller::kUser, CreateToken)
      .Tag("api_tokens")
      .Summary("Create an API token; the reply is the only place the token itself appears")
      .Permission("the owner; system admins for anyone")
      .Query({username})
      .Body("forms.CreateAPIToken")
      .Returns(201, "responses.NewAPIToken")
      .Errors({err::kNotAuthorized, err::kNoSuchUser, err::kInvalidParameters});
  t.Add("DELETE", "/api/v0/api_tokens", Caller::kUser, DeleteTokens)
      .Tag("api_tokens")
      .Summary("Delete API tokens in bulk")
      .Permission("the owner; system admins for anyone")
      .Query({username,
              {"usedbefore", "string", "RFC 3339 time; only tokens last used before it"},
              {"generatedby", "string", "only tokens generated this way (user, auto)"}})
      .Returns(204)
      .Errors({err::kNotAuthorized, err::kNoSuchUser, err::kInvalidParameters});
  t.Add("GET", "/api/v0/api_tokens/{hashedtoken}", Caller::kUser, GetToken)
      .Tag("api_tokens")
      .Summary("Get an API token's details")
      .Permission("the owner, system admins")
      .Returns(200, "responses.APIToken")
      .Errors({err::kNoSuchApiToken});
  t.Add("PATCH", "/api/v0/api_tokens/{hashedtoken}", Caller::kUser, UpdateToken)
      .Tag("api_tokens")
      .Summary("Relabel, disable or enable an API token")
      .Permission("the owner, system admins")
      .Body("forms.UpdateAPIToken")
      .Returns(200, "responses.APIToken")
      .Errors({err::kNoSuchApiToken, err::kInvalidParameters});
  t.Add("DELETE", "/api/v0/api_tokens/{hashedtoken}", Caller::kUser, DeleteToken)
      .Tag("api_tokens")
      .Summary("Revoke an API token")
      .Permission("the owner, system admins")
      .Returns(204)
      .Errors({err::kNoSuchApiToken});
}

}  // namespace dtr::api
