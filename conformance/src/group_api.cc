// Group `api` (profile dtr): DTR's own API, /api/v0 and eNZi's /enzi/v0, with the shapes
// of spec/dtr-2x-inventory.md section 2: repositories (2.4), tags (2.5), settings (2.7),
// accounts (2.2), events (2.16), access tokens (2.18), immutable tags (2.13) and the error
// envelope (2.0). Every case needs --user/--password: it works in the user's own namespace,
// on repositories named per run, and deletes them when it ends.
#include <nlohmann/json.hpp>

#include <regex>

#include "auth.h"
#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

using nlohmann::json;

class Api {
 public:
  explicit Api(CaseContext& ctx) : ctx_(ctx), oci_(ctx) {
    if (ctx.options().user.empty() || ctx.options().password.empty()) {
      ctx.skip("needs --user/--password (the API works in the user's namespace)");
    }
  }
  CaseContext& ctx() { return ctx_; }
  Oci& oci() { return oci_; }
  const std::string& user() const { return ctx_.options().user; }
  std::string basic_auth() const {
    return "Basic " + base64_encode(user() + ":" + ctx_.options().password);
  }

  // One API call with Basic credentials (or `authorization`); fails the case when nothing answers.
  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& authorization = "") {
    Headers h = {{"Accept", "application/json"},
                 {"Authorization", authorization.empty() ? basic_auth() : authorization}};
    if (!body.empty()) h.push_back({"Content-Type", "application/json"});
    HttpResponse r = ctx_.http().send(
        {.method = method, .target = path, .headers = h, .body = body, .authenticate = false});
    if (!r.ok()) ctx_.fail(method + " " + path + ": " + r.error, r);
    return r;
  }

  json parse(const HttpResponse& r, const std::string& what) {
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) ctx_.fail(what + ": the body is not JSON", r);
    return j;
  }

  void expect_status(const HttpResponse& r, std::initializer_list<int> ok,
                     const std::string& what) {
    oci_.expect_status(r, ok, what);
  }

  // A unique repository name (without namespace) for this run and case.
  std::string new_name() {
    std::string full = ctx_.new_repo();
    return full.substr(full.rfind('/') + 1);
  }
  std::string repo_path(const std::string& name) const {
    return "/api/v0/repositories/" + user() + "/" + name;
  }

  // POST /api/v0/repositories/{user}: the answer, the repository deleted when the case ends.
  HttpResponse create(const std::string& name, json extra = json::object()) {
    extra["name"] = name;
    if (!extra.contains("visibility")) extra["visibility"] = "private";
    HttpResponse r = call("POST", "/api/v0/repositories/" + user(), extra.dump());
    if (r.status >= 200 && r.status < 300) {
      // The case's Api is gone when cleanups run: the context and the header are kept.
      CaseContext* ctx = &ctx_;
      HttpRequest del{.method = "DELETE",
                      .target = repo_path(name),
                      .headers = {{"Authorization", basic_auth()}},
                      .authenticate = false};
      ctx_.on_cleanup([ctx, del] { ctx->http().send(del); });
    }
    return r;
  }
  // create() as a setup step: blocked unless 201.
  json create_ok(const std::string& name, json extra = json::object()) {
    HttpResponse r = create(name, std::move(extra));
    if (r.status != 201) ctx_.blocked("POST /api/v0/repositories/" + user(), r);
    return parse(r, "create repository");
  }

  // {"errors":[{"code","message"}]} carrying `code`, with `status`.
  void expect_error(const HttpResponse& r, int status, const std::string& code,
                    const std::string& what) {
    if (r.status != status) {
      ctx_.fail(what + ": expected " + std::to_string(status) + " " + code + ", got " +
                    std::to_string(r.status),
                r);
    }
    json j = parse(r, what);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty()) {
      ctx_.fail(what + ": the body is not the error envelope {\"errors\":[...]}", r);
    }
    bool found = false;
    for (const auto& e : j["errors"]) {
      if (!e.is_object() || !e.contains("code") || !e["code"].is_string() ||
          !e.contains("message") || !e["message"].is_string()) {
        ctx_.fail(what + ": an error without string code and message", r);
      }
      found = found || e["code"] == code;
    }
    if (!found) ctx_.fail(what + ": no error with code " + code, r);
  }

  // Fails unless `j[field]` exists and has the type `is` checks.
  void expect_field(const json& j, const char* field, bool (json::*is)() const noexcept,
                    const char* type, const HttpResponse& r, const std::string& what) {
    if (!j.is_object() || !j.contains(field) || !(j[field].*is)()) {
      ctx_.fail(what + ": no " + type + " field \"" + field + "\"", r);
    }
  }

 private:
  CaseContext& ctx_;
  Oci oci_;
};

// responses.Repository (inventory 2.4), with the values the case expects.
void expect_repository(Api& api, const json& j, const HttpResponse& r, const std::string& name,
                       const json& want, const std::string& what) {
  api.expect_field(j, "id", &json::is_string, "string", r, what);
  api.expect_field(j, "namespace", &json::is_string, "string", r, what);
  api.expect_field(j, "namespaceType", &json::is_string, "string", r, what);
  api.expect_field(j, "name", &json::is_string, "string", r, what);
  api.expect_field(j, "shortDescription", &json::is_string, "string", r, what);
  api.expect_field(j, "visibility", &json::is_string, "string", r, what);
  api.expect_field(j, "immutableTags", &json::is_boolean, "boolean", r, what);
  api.expect_field(j, "tagLimit", &json::is_number_integer, "integer", r, what);
  if (j["namespace"] != api.user() || j["name"] != name) {
    api.ctx().fail(what + ": namespace/name are not " + api.user() + "/" + name, r);
  }
  if (j["namespaceType"] != "user") api.ctx().fail(what + ": namespaceType is not \"user\"", r);
  for (const auto& [k, v] : want.items()) {
    if (j[k] != v) api.ctx().fail(what + ": " + k + " is " + j[k].dump() + ", not " + v.dump(), r);
  }
}

// ---- repositories -----------------------------------------------------------------------

void repo_create(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  const json want = {{"visibility", "private"},
                     {"shortDescription", "dtr-conformance " + ctx.run().run_id()},
                     {"immutableTags", false},
                     {"tagLimit", 5}};
  HttpResponse r = api.create(name, want);
  api.expect_status(r, {201}, "POST /api/v0/repositories/" + api.user());
  expect_repository(api, api.parse(r, "create"), r, name, want, "the created repository");
  HttpResponse g = api.call("GET", api.repo_path(name));
  api.expect_status(g, {200}, "GET the created repository");
  expect_repository(api, api.parse(g, "get"), g, name, want, "GET of the created repository");
}

void repo_exists(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name);
  HttpResponse again = api.create(name);
  api.expect_error(again, 400, "REPOSITORY_EXISTS", "creating a repository twice");
}

void repo_not_found(CaseContext& ctx) {
  Api api(ctx);
  HttpResponse r = api.call("GET", api.repo_path(api.new_name()));
  api.expect_error(r, 404, "NO_SUCH_REPOSITORY", "GET a repository that does not exist");
}

// True when `list` (following X-Next-Page-Start pages) names `name` in the user's namespace.
bool listed(Api& api, const std::string& path, const std::string& name, HttpResponse& last) {
  std::string start;
  for (int page = 0; page < 50; ++page) {
    std::string target =
        path + "?pageSize=100" + (start.empty() ? "" : "&pageStart=" + url_encode(start));
    last = api.call("GET", target);
    api.expect_status(last, {200}, "GET " + path);
    json j = api.parse(last, "GET " + path);
    if (!j.is_object() || !j.contains("repositories") || !j["repositories"].is_array()) {
      api.ctx().fail("GET " + path + ": not {\"repositories\":[...]}", last);
    }
    for (const auto& r : j["repositories"]) {
      if (r.is_object() && r.value("namespace", "") == api.user() && r.value("name", "") == name) {
        return true;
      }
    }
    start = last.header("X-Next-Page-Start");
    if (start.empty()) return false;
  }
  return false;
}

void repo_list(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name);
  HttpResponse last;
  for (const std::string& path :
       {std::string("/api/v0/repositories"), "/api/v0/repositories/" + api.user()}) {
    if (!listed(api, path, name, last)) ctx.fail("GET " + path + " does not list " + name, last);
  }
}

void repo_patch(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name, {{"shortDescription", "before"}});
  const json first = {
      {"visibility", "public"}, {"shortDescription", "after"}, {"immutableTags", true}};
  HttpResponse p = api.call("PATCH", api.repo_path(name), first.dump());
  api.expect_status(p, {200}, "PATCH visibility, shortDescription, immutableTags");
  expect_repository(api, api.parse(p, "patch"), p, name, first, "the PATCH answer");
  const json second = {{"immutableTags", false}, {"tagLimit", 7}};
  p = api.call("PATCH", api.repo_path(name), second.dump());
  api.expect_status(p, {200}, "PATCH tagLimit");
  HttpResponse g = api.call("GET", api.repo_path(name));
  api.expect_status(g, {200}, "GET the patched repository");
  expect_repository(api, api.parse(g, "get"), g, name,
                    {{"visibility", "public"},
                     {"shortDescription", "after"},
                     {"immutableTags", false},
                     {"tagLimit", 7}},
                    "GET after two PATCHes");
}

void repo_delete(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name);
  HttpResponse d = api.call("DELETE", api.repo_path(name));
  api.expect_status(d, {204}, "DELETE the repository");
  api.expect_error(api.call("GET", api.repo_path(name)), 404, "NO_SUCH_REPOSITORY",
                   "GET a deleted repository");
  api.expect_status(api.call("DELETE", api.repo_path(name)), {204},
                    "DELETE a repository that is already gone (204 even if absent)");
}

// ---- tags over a /v2/ push ------------------------------------------------------------------

json tag_list(Api& api, const std::string& name, HttpResponse& r) {
  r = api.call("GET", api.repo_path(name) + "/tags");
  api.expect_status(r, {200}, "GET .../tags");
  json j = api.parse(r, "GET .../tags");
  if (!j.is_array()) api.ctx().fail("GET .../tags: not a JSON array of tags", r);
  return j;
}

const json* find_tag(const json& tags, const std::string& tag) {
  for (const auto& t : tags) {
    if (t.is_object() && t.value("name", "") == tag) return &t;
  }
  return nullptr;
}

void tags_list(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name);
  Oci::Image img = api.oci().push_image(api.user() + "/" + name, "v1", kDockerManifest);
  HttpResponse r;
  json tags = tag_list(api, name, r);
  const json* t = find_tag(tags, "v1");
  if (!t) ctx.fail("the tag pushed through /v2/ is not listed", r);
  if (!t->contains("digest") || (*t)["digest"] != img.manifest.digest) {
    ctx.fail("the listed tag's digest is not the pushed manifest's " + img.manifest.digest, r);
  }
}

void tag_delete(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name(), repo = api.user() + "/" + name;
  api.create_ok(name);
  Oci::Image img = api.oci().push_image(repo, "v1", kDockerManifest);
  api.oci().push_manifest(repo, "v2", img.manifest.body, kDockerManifest);
  HttpResponse d = api.call("DELETE", api.repo_path(name) + "/tags/v1");
  api.expect_status(d, {204}, "DELETE .../tags/v1");
  HttpResponse g = api.oci().get(Oci::manifest_path(repo, "v1"), {{"Accept", kDockerManifest}});
  api.expect_status(g, {404}, "GET /v2/ manifest of the deleted tag");
  HttpResponse r;
  json tags = tag_list(api, name, r);
  if (find_tag(tags, "v1")) ctx.fail("the deleted tag is still listed", r);
  if (!find_tag(tags, "v2"))
    ctx.fail("deleting v1 also removed v2, another tag of the manifest", r);
  api.expect_error(api.call("DELETE", api.repo_path(name) + "/tags/never-" + random_hex(6)), 404,
                   "NO_SUCH_TAG", "DELETE a tag that does not exist");
}

// Pushes a second, different image at `tag` after the first: the PUT's answer.
HttpResponse overwrite_tag(Api& api, const std::string& repo, const std::string& tag) {
  api.oci().push_image(repo, tag, kDockerManifest);
  Oci::Image other = api.oci().push_image_blobs(repo, kDockerManifest);
  ManifestSpec spec;
  spec.media_type = kDockerManifest;
  spec.config = other.config;
  spec.layers = {other.layer};
  const std::string body = build_manifest(spec);
  HttpResponse r =
      api.oci().put(Oci::manifest_path(repo, tag), body, {{"Content-Type", kDockerManifest}});
  if (r.status == 201) {
    CaseContext* ctx = &api.ctx();
    const std::string digest = sha256_digest(body);
    ctx->on_cleanup([ctx, repo, digest] {
      ctx->http().send({.method = "DELETE", .target = Oci::manifest_path(repo, digest)});
    });
  }
  return r;
}

void immutable_tags(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name, {{"immutableTags", true}});
  HttpResponse r = overwrite_tag(api, api.user() + "/" + name, "v1");
  if (r.status < 400 || r.status >= 500) {
    ctx.fail("overwriting a tag of an immutable repository: expected a 4xx refusal, got " +
                 std::to_string(r.status),
             r);
  }
}

void immutable_tags_message(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name();
  api.create_ok(name, {{"immutableTags", true}});
  HttpResponse r = overwrite_tag(api, api.user() + "/" + name, "v1");
  if (r.status < 400) ctx.blocked("overwriting a tag of an immutable repository (not refused)", r);
  static const std::regex kText(
      R"(tag=v1 cannot be overwritten because \S+ is an immutable repository)");
  if (!std::regex_search(r.body, kText) ||
      r.body.find(api.user() + "/" + name) == std::string::npos) {
    ctx.fail("the refusal does not say \"tag=v1 cannot be overwritten because <dtr>/" + api.user() +
                 "/" + name + " is an immutable repository\"",
             r);
  }
}

// ---- documents, settings, accounts ---------------------------------------------------------

void docs_json(CaseContext& ctx) {
  Api api(ctx);
  HttpResponse r = api.call("GET", "/api/v0/docs.json");
  api.expect_status(r, {200}, "GET /api/v0/docs.json");
  json j = api.parse(r, "docs.json");
  const bool swagger = j.is_object() && j.contains("swagger") && j["swagger"] == "2.0";
  const bool openapi = j.is_object() && j.contains("openapi") && j["openapi"].is_string() &&
                       j["openapi"].get<std::string>().rfind("3.", 0) == 0;
  if (!swagger && !openapi) ctx.fail("neither \"swagger\": \"2.0\" nor \"openapi\": \"3.x\"", r);
  if (!j.contains("info") || !j["info"].is_object() || !j["info"].contains("version") ||
      !j["info"]["version"].is_string() || j["info"]["version"].get<std::string>().empty()) {
    ctx.fail("no info.version string", r);
  }
  bool repos = false;
  if (j.contains("paths") && j["paths"].is_object()) {
    for (const auto& [path, _] : j["paths"].items()) {
      repos = repos || path.find("/repositories/{namespace}") != std::string::npos;
    }
  }
  if (!repos) ctx.fail("paths do not describe /repositories/{namespace}", r);
  ctx.note("info.version " + j["info"]["version"].get<std::string>());
}

void meta_settings(CaseContext& ctx) {
  Api api(ctx);
  HttpResponse r = api.call("GET", "/api/v0/meta/settings");
  if (r.status == 403) ctx.skip("needs an admin account (settings are for admins; 403)");
  api.expect_status(r, {200}, "GET /api/v0/meta/settings");
  json j = api.parse(r, "settings");
  if (!j.is_object()) ctx.fail("settings are not a JSON object", r);
  api.expect_field(j, "createRepositoryOnPush", &json::is_boolean, "boolean", r, "settings");
  api.expect_field(j, "readOnlyRegistry", &json::is_boolean, "boolean", r, "settings");
  if (j.contains("webTLSKey") && j["webTLSKey"].is_string() &&
      !j["webTLSKey"].get<std::string>().empty()) {
    ctx.fail("settings disclose webTLSKey (responses.Settings omits it)", r);
  }
}

void enzi_account(CaseContext& ctx) {
  Api api(ctx);
  HttpResponse r = api.call("GET", "/enzi/v0/accounts/" + api.user());
  api.expect_status(r, {200}, "GET /enzi/v0/accounts/{user}");
  json j = api.parse(r, "account");
  api.expect_field(j, "id", &json::is_string, "string", r, "account");
  api.expect_field(j, "name", &json::is_string, "string", r, "account");
  api.expect_field(j, "isOrg", &json::is_boolean, "boolean", r, "account");
  api.expect_field(j, "isAdmin", &json::is_boolean, "boolean", r, "account");
  api.expect_field(j, "isActive", &json::is_boolean, "boolean", r, "account");
  if (j["name"] != api.user() || j["isOrg"] != false || j["isActive"] != true) {
    ctx.fail("the account is not the active user " + api.user(), r);
  }
  if (j.contains("fullName") && !j["fullName"].is_string()) ctx.fail("fullName is not a string", r);
  HttpResponse by_id =
      api.call("GET", "/enzi/v0/accounts/" + url_encode(j["id"].get<std::string>()));
  api.expect_status(by_id, {200}, "GET /enzi/v0/accounts/{id}");
  if (api.parse(by_id, "account by id").value("name", "") != api.user()) {
    ctx.fail("the account by id is not " + api.user(), by_id);
  }
  api.expect_error(api.call("GET", "/enzi/v0/accounts/dtrc-nobody-" + random_hex(8)), 404,
                   "NO_SUCH_ACCOUNT", "GET an account that does not exist");
}

// ---- access tokens ------------------------------------------------------------------------

// The status of GET /v2/ with Basic user:secret, and of the token realm (if any) likewise.
struct SecretUse {
  HttpResponse v2, realm;
};
SecretUse use_secret(Api& api, const std::string& secret) {
  const std::string auth = "Basic " + base64_encode(api.user() + ":" + secret);
  SecretUse u;
  u.v2 = api.call("GET", "/v2/", "", auth);
  HttpResponse probe =
      api.ctx().http().send({.method = "GET", .target = "/v2/", .authenticate = false});
  for (auto& c : parse_www_authenticate(probe.header_values("WWW-Authenticate"))) {
    if (c.scheme == "bearer" && c.params.count("realm")) {
      c.params.erase("scope");
      u.realm = api.call("GET", token_request_url(c), "", auth);
    }
  }
  return u;
}

void api_token(CaseContext& ctx) {
  Api api(ctx);
  const std::string path = "/api/v0/api_tokens?username=" + url_encode(api.user());
  HttpResponse c =
      api.call("POST", path, json({{"tokenLabel", "dtrc-" + ctx.run().run_id()}}).dump());
  api.expect_status(c, {200, 201}, "POST /api/v0/api_tokens");
  json j = api.parse(c, "new token");
  api.expect_field(j, "token", &json::is_string, "string", c, "the new token");
  api.expect_field(j, "hashedToken", &json::is_string, "string", c, "the new token");
  const std::string secret = j["token"], hashed = j["hashedToken"];
  const std::string one = "/api/v0/api_tokens/" + url_encode(hashed);
  ctx.on_cleanup([&ctx, one, auth = api.basic_auth()] {
    ctx.http().send({.method = "DELETE",
                     .target = one,
                     .headers = {{"Authorization", auth}},
                     .authenticate = false});
  });
  SecretUse before = use_secret(api, secret);
  if (before.v2.status != 200)
    ctx.fail("GET /v2/ with Basic user:<api token>: expected 200", before.v2);
  if (before.realm.ok() &&
      (before.realm.status != 200 || !parse_token_response(before.realm.body))) {
    ctx.fail("the token realm with Basic user:<api token>: expected 200 with a token",
             before.realm);
  }
  api.expect_status(api.call("DELETE", one), {204}, "DELETE /api/v0/api_tokens/{hashedtoken}");
  SecretUse after = use_secret(api, secret);
  if (after.v2.status != 401) {
    ctx.fail(
        "GET /v2/ with a deleted api token: expected 401, got " + std::to_string(after.v2.status),
        after.v2);
  }
  if (after.realm.ok() && after.realm.status != 401) {
    ctx.fail("the token realm with a deleted api token: expected 401, got " +
                 std::to_string(after.realm.status),
             after.realm);
  }
}

// ---- events ------------------------------------------------------------------------------

void events_push(CaseContext& ctx) {
  Api api(ctx);
  const std::string name = api.new_name(), repo = api.user() + "/" + name;
  api.create_ok(name);
  Oci::Image img = api.oci().push_image(repo, "v1", kDockerManifest);
  HttpResponse r = api.call("GET", api.repo_path(name) + "/events?pageSize=100");
  api.expect_status(r, {200}, "GET .../events");
  json j = api.parse(r, "events");
  if (!j.is_object() || !j.contains("events") || !j["events"].is_array()) {
    ctx.fail("events are not {\"events\":[...]}", r);
  }
  for (const auto& e : j["events"]) {
    if (!e.is_object()) continue;
    const std::string text = e.dump();
    if (text.find(img.manifest.digest) != std::string::npos ||
        (e.contains("object") && e["object"].is_object() &&
         e["object"].value("name", "").find("v1") != std::string::npos)) {
      for (const char* f : {"id", "publishedAt", "type"}) {
        if (!e.contains(f) || !e[f].is_string())
          ctx.fail(std::string("the push event has no string ") + f, r);
      }
      return;
    }
  }
  ctx.fail("no event of " + repo + " names the pushed tag v1 or its digest", r);
}

#define CASE(ID, LEVEL, FN, ORDER, CLAUSE) \
  DTRC_CASE({.group = "api",               \
             .id = ID,                     \
             .clause = CLAUSE,             \
             .level = Level::LEVEL,        \
             .fn = FN,                     \
             .profiles = kProfileDtr,      \
             .order = ORDER})

CASE("docs-json", kMust, docs_json, 0,
     "inventory 2.0: GET /api/v0/docs.json is the API's Swagger/OpenAPI document with "
     "info.version");
CASE("repo-create", kMust, repo_create, 10,
     "inventory 2.4: POST /api/v0/repositories/{namespace} forms.CreateRepo -> 201 "
     "responses.Repository {id, namespace, namespaceType, name, shortDescription, visibility, "
     "immutableTags, tagLimit}; GET returns it");
CASE("repo-exists", kMust, repo_exists, 11,
     "inventory 2.4/2.0: creating an existing repository is 400 REPOSITORY_EXISTS in "
     "{\"errors\":[{\"code\",\"message\"}]}");
CASE("repo-not-found", kMust, repo_not_found, 12,
     "inventory 2.4/2.0: GET of a missing repository is 404 NO_SUCH_REPOSITORY in "
     "{\"errors\":[{\"code\",\"message\"}]}");
CASE("repo-list", kMust, repo_list, 13,
     "inventory 2.4: GET /api/v0/repositories and /api/v0/repositories/{namespace} -> "
     "{repositories:[...]} include a repository the caller created");
CASE("repo-patch", kMust, repo_patch, 14,
     "inventory 2.4: PATCH /api/v0/repositories/{ns}/{repo} forms.UpdateRepo changes "
     "visibility, shortDescription, immutableTags, tagLimit");
CASE("repo-delete", kMust, repo_delete, 15,
     "inventory 2.4: DELETE /api/v0/repositories/{ns}/{repo} -> 204, then 404 "
     "NO_SUCH_REPOSITORY; 204 even if absent");
CASE("tags-list", kMust, tags_list, 20,
     "inventory 2.5: GET /api/v0/repositories/{ns}/{repo}/tags lists a tag pushed through /v2/ "
     "with its manifest digest");
CASE("tag-delete", kMust, tag_delete, 21,
     "inventory 2.5: DELETE .../tags/{tag} removes that tag (also from /v2/) and only that tag; "
     "a missing tag is 404 NO_SUCH_TAG");
CASE("immutable-tags", kMust, immutable_tags, 22,
     "inventory 2.13: in a repository with immutableTags, pushing an existing tag fails");
CASE("immutable-tags-message", kShould, immutable_tags_message, 23,
     "inventory 2.5: the refusal reads \"tag=<t> cannot be overwritten because "
     "<dtr>/<ns>/<repo> is an immutable repository\"");
CASE("meta-settings", kMust, meta_settings, 30,
     "inventory 2.7: GET /api/v0/meta/settings (admin) -> responses.Settings "
     "(createRepositoryOnPush, readOnlyRegistry, ...; never webTLSKey)");
CASE("enzi-account", kMust, enzi_account, 31,
     "inventory 2.2: GET /enzi/v0/accounts/{nameOrID} -> responses.Account {id, name, "
     "fullName, isOrg, isAdmin, isActive}; a missing account is 404 NO_SUCH_ACCOUNT");
CASE("api-token", kMust, api_token, 40,
     "inventory 2.18/3.2: POST /api/v0/api_tokens -> {token, hashedToken}; the token works "
     "as a password (Basic on /v2/ and at the token realm) until DELETE, then it is refused");
CASE("events-push", kMust, events_push, 50,
     "inventory 2.16: GET /api/v0/repositories/{ns}/{repo}/events -> {events:[{id, "
     "publishedAt, type, object, ...}]} shows a push through /v2/");

}  // namespace
}  // namespace dtrc
