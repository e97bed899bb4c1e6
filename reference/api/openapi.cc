// The OpenAPI 2.0 document of /api/v0 and /enzi/v0, generated from the route table. The
// schema definitions below are the JSON shapes the handlers produce and accept.
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "api/call.h"
#include "api/routes.h"

namespace dtr::api {

namespace {

const char* kDefinitions = R"json({
  "responses.Errors": {"type": "object", "properties": {"errors": {"type": "array", "items": {
    "type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
    "detail": {"type": "object"}}}}}},
  "responses.Account": {"type": "object", "required": ["id", "name"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "fullName": {"type": "string"},
    "isOrg": {"type": "boolean"}, "isAdmin": {"type": "boolean"}, "isActive": {"type": "boolean"},
    "isImported": {"type": "boolean"}, "membersCount": {"type": "integer"},
    "teamsCount": {"type": "integer"}}},
  "responses.Accounts": {"type": "object", "properties": {
    "accounts": {"type": "array", "items": {"$ref": "#/definitions/responses.Account"}},
    "nextPageStart": {"type": "string"}}},
  "forms.CreateAccount": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "fullName": {"type": "string"}, "isOrg": {"type": "boolean"},
    "isAdmin": {"type": "boolean"}, "isActive": {"type": "boolean"},
    "password": {"type": "string", "description": "users only; at least 8 characters"}}},
  "forms.UpdateAccount": {"type": "object", "properties": {"fullName": {"type": "string"},
    "isAdmin": {"type": "boolean"}, "isActive": {"type": "boolean"}}},
  "forms.ChangePassword": {"type": "object", "required": ["newPassword"], "properties": {
    "oldPassword": {"type": "string", "description": "required unless the caller is a system admin"},
    "newPassword": {"type": "string"}}},
  "responses.MemberOrgs": {"type": "object", "properties": {"memberOrgs": {"type": "array",
    "items": {"type": "object", "properties": {"org": {"$ref": "#/definitions/responses.Account"},
    "isAdmin": {"type": "boolean"}, "isPublic": {"type": "boolean"}}}}}},
  "responses.Member": {"type": "object", "properties": {
    "member": {"$ref": "#/definitions/responses.Account"}, "isAdmin": {"type": "boolean"},
    "isPublic": {"type": "boolean"}}},
  "responses.Members": {"type": "object", "properties": {
    "members": {"type": "array", "items": {"$ref": "#/definitions/responses.Member"}},
    "nextPageStart": {"type": "string"}}},
  "forms.SetMembership": {"type": "object", "properties": {"isAdmin": {"type": "boolean"},
    "isPublic": {"type": "boolean"}}},
  "responses.Team": {"type": "object", "properties": {"id": {"type": "string"},
    "orgID": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
    "membersCount": {"type": "integer"}, "clientUserIsMember": {"type": "boolean"}}},
  "responses.Teams": {"type": "object", "properties": {"teams": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Team"}}}},
  "responses.MemberTeams": {"type": "object", "properties": {"memberTeams": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Team"}}}},
  "forms.CreateTeam": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "description": {"type": "string"}}},
  "forms.UpdateTeam": {"type": "object", "properties": {"name": {"type": "string"},
    "description": {"type": "string"}}},
  "responses.Repository": {"type": "object", "properties": {"id": {"type": "string"},
    "namespace": {"type": "string"},
    "namespaceType": {"type": "string", "enum": ["user", "organization"]},
    "name": {"type": "string"}, "shortDescription": {"type": "string"},
    "longDescription": {"type": "string"},
    "visibility": {"type": "string", "enum": ["public", "private"]},
    "scanOnPush": {"type": "boolean"}, "immutableTags": {"type": "boolean"},
    "enableManifestLists": {"type": "boolean"}, "pulls": {"type": "integer"},
    "pushes": {"type": "integer"}, "tagLimit": {"type": "integer"}}},
  "responses.Repositories": {"type": "object", "properties": {"repositories": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Repository"}}}},
  "forms.CreateRepo": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "shortDescription": {"type": "string", "maxLength": 140},
    "longDescription": {"type": "string"},
    "visibility": {"type": "string", "enum": ["public", "private"], "default": "private"},
    "scanOnPush": {"type": "boolean"}, "immutableTags": {"type": "boolean"},
    "enableManifestLists": {"type": "boolean"},
    "tagLimit": {"type": "integer", "minimum": 0, "description": "0: no limit"}}},
  "forms.UpdateRepo": {"type": "object", "properties": {
    "shortDescription": {"type": "string", "maxLength": 140},
    "longDescription": {"type": "string"},
    "visibility": {"type": "string", "enum": ["public", "private"]},
    "scanOnPush": {"type": "boolean"}, "immutableTags": {"type": "boolean"},
    "enableManifestLists": {"type": "boolean"}, "tagLimit": {"type": "integer", "minimum": 0}}},
  "responses.Manifest": {"type": "object", "required": ["digest"], "properties": {
    "digest": {"type": "string"}, "mediaType": {"type": "string"},
    "configMediaType": {"type": "string"}, "configDigest": {"type": "string"},
    "os": {"type": "string"}, "osVersion": {"type": "string"},
    "architecture": {"type": "string"}, "author": {"type": "string"},
    "createdAt": {"type": "string", "format": "date-time"}, "size": {"type": "integer"},
    "dockerfile": {"type": "array", "items": {"type": "object", "properties": {
      "line": {"type": "string"}, "layerDigest": {"type": "string"}, "size": {"type": "integer"},
      "isEmpty": {"type": "boolean"}, "mediaType": {"type": "string"},
      "urls": {"type": "array", "items": {"type": "string"}}}}}}},
  "responses.ListTag": {"type": "object", "properties": {"name": {"type": "string"},
    "digest": {"type": "string"}, "author": {"type": "string"},
    "createdAt": {"type": "string", "format": "date-time"},
    "updatedAt": {"type": "string", "format": "date-time"},
    "hashMismatch": {"type": "boolean"}, "inNotary": {"type": "boolean"},
    "manifest": {"$ref": "#/definitions/responses.Manifest"}}},
  "responses.Tag": {"type": "object", "properties": {"name": {"type": "string"},
    "digest": {"type": "string"}, "author": {"type": "string"},
    "createdAt": {"type": "string", "format": "date-time"},
    "updatedAt": {"type": "string", "format": "date-time"},
    "hashMismatch": {"type": "boolean"}, "inNotary": {"type": "boolean"},
    "manifest": {"$ref": "#/definitions/responses.Manifest"}}},
  "forms.Access": {"type": "object", "required": ["accessLevel"], "properties": {
    "accessLevel": {"type": "string", "enum": ["read-only", "read-write", "admin"]}}},
  "responses.TeamAccess": {"type": "object", "properties": {
    "accessLevel": {"type": "string", "enum": ["read-only", "read-write", "admin"]},
    "team": {"$ref": "#/definitions/responses.Team"},
    "repository": {"$ref": "#/definitions/responses.Repository"}}},
  "responses.ListRepoTeamAccess": {"type": "object", "properties": {
    "repository": {"$ref": "#/definitions/responses.Repository"},
    "teamAccessList": {"type": "array", "items": {"type": "object", "properties": {
      "accessLevel": {"type": "string"}, "team": {"$ref": "#/definitions/responses.Team"}}}}}},
  "responses.NamespaceTeamAccess": {"type": "object", "properties": {
    "accessLevel": {"type": "string", "enum": ["read-only", "read-write", "admin"]},
    "team": {"$ref": "#/definitions/responses.Team"},
    "namespace": {"$ref": "#/definitions/responses.Account"}}},
  "responses.ListNamespaceTeamAccess": {"type": "object", "properties": {
    "namespace": {"$ref": "#/definitions/responses.Account"},
    "teamAccessList": {"type": "array", "items": {"type": "object", "properties": {
      "accessLevel": {"type": "string"}, "team": {"$ref": "#/definitions/responses.Team"}}}}}},
  "responses.RepoUserAccess": {"type": "object", "properties": {
    "accessLevel": {"type": "string", "enum": ["none", "read-only", "read-write", "admin"]},
    "user": {"$ref": "#/definitions/responses.Account"},
    "repository": {"$ref": "#/definitions/responses.Repository"}}},
  "responses.ListTeamRepoAccess": {"type": "object", "properties": {
    "team": {"$ref": "#/definitions/responses.Team"},
    "repositoryAccessList": {"type": "array", "items": {"type": "object", "properties": {
      "accessLevel": {"type": "string"},
      "repository": {"$ref": "#/definitions/responses.Repository"}}}}}},
  "responses.Settings": {"type": "object", "properties": {"dtrHost": {"type": "string"},
    "createRepositoryOnPush": {"type": "boolean"}, "readOnlyRegistry": {"type": "boolean"},
    "jobHistoryCompactionEnabled": {"type": "boolean"}, "jobHistoryToKeep": {"type": "integer"},
    "jobHistoryMaxAge": {"type": "string"},
    "repoEventHistoryCompactionEnabled": {"type": "boolean"},
    "repoEventHistoryToKeep": {"type": "integer"}, "repoEventHistoryMaxAge": {"type": "string"},
    "scanningEnabled": {"type": "boolean"}, "clientCertAuthEnabled": {"type": "boolean"},
    "storageBackend": {"type": "string"}, "storageVolume": {"type": "string"},
    "nfsHost": {"type": "string"}, "nfsPath": {"type": "string"},
    "storage": {"type": "object", "description": "the storage section, secrets left out"}}},
  "forms.StorageSettings": {"type": "object", "description":
    "the storage section of distribution's config.yml as JSON: {storage: {<driver>: {...}}}",
    "properties": {"storage": {"type": "object"}}},
  "forms.Settings": {"type": "object", "description": "any subset of the settings fields",
    "properties": {"dtrHost": {"type": "string"},
    "createRepositoryOnPush": {"type": "boolean"}, "readOnlyRegistry": {"type": "boolean"},
    "jobHistoryCompactionEnabled": {"type": "boolean"}, "jobHistoryToKeep": {"type": "integer"},
    "jobHistoryMaxAge": {"type": "string"},
    "repoEventHistoryCompactionEnabled": {"type": "boolean"},
    "repoEventHistoryToKeep": {"type": "integer"}, "repoEventHistoryMaxAge": {"type": "string"},
    "scanningEnabled": {"type": "boolean"}, "clientCertAuthEnabled": {"type": "boolean"}}},
  "responses.Features": {"type": "object", "properties": {
    "scanningEnabled": {"type": "boolean"}, "scanningLicensed": {"type": "boolean"},
    "promotionLicensed": {"type": "boolean"}, "mirroringLicensed": {"type": "boolean"},
    "metadataStoreOptedIn": {"type": "boolean"}, "onlineGCEnabled": {"type": "boolean"},
    "db_version": {"type": "string"}, "ucpHost": {"type": "string"}}},
  "responses.Event": {"type": "object", "properties": {"id": {"type": "string"},
    "publishedAt": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
    "actorType": {"type": "string"}, "type": {"type": "string"},
    "object": {"type": "object", "properties": {"id": {"type": "string"},
      "type": {"type": "string"}, "name": {"type": "string"}, "content": {}}},
    "target": {"type": "string"}, "repository": {"type": "string"}}},
  "responses.Events": {"type": "object", "properties": {"events": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Event"}}}},
  "responses.APIToken": {"type": "object", "properties": {"hashedToken": {"type": "string"},
    "tokenLabel": {"type": "string"}, "isActive": {"type": "boolean"},
    "lastUsed": {"type": "string", "format": "date-time"},
    "createdAt": {"type": "string", "format": "date-time"},
    "generatedBy": {"type": "string"}, "creatorUa": {"type": "string"}}},
  "responses.NewAPIToken": {"type": "object", "properties": {"hashedToken": {"type": "string"},
    "tokenLabel": {"type": "string"}, "isActive": {"type": "boolean"},
    "lastUsed": {"type": "string", "format": "date-time"},
    "createdAt": {"type": "string", "format": "date-time"},
    "generatedBy": {"type": "string"}, "creatorUa": {"type": "string"},
    "token": {"type": "string", "description": "the token; shown only in this reply"}}},
  "forms.CreateAPIToken": {"type": "object", "properties": {"tokenLabel": {"type": "string"}}},
  "forms.UpdateAPIToken": {"type": "object", "properties": {"tokenLabel": {"type": "string"},
    "isActive": {"type": "boolean"}}},
  "OpenAPI": {"type": "object", "description": "this document"}
})json";

const std::map<std::string, std::string>& ErrorDescriptions() {
  static const std::map<std::string, std::string> kDescriptions = {
      {err::kNotAuthenticated, "the caller is not authenticated"},
      {err::kNotAuthorized, "the caller may not do this"},
      {err::kNotAllowed, "not allowed in the registry's current state"},
      {err::kInternal, "an internal error"},
      {err::kInvalidJson, "the body is not a JSON object"},
      {err::kInvalidParameters, "a parameter or field is missing or invalid"},
      {err::kInvalidSettings, "a setting is invalid"},
      {err::kNoSuchAccount, "no such account"},
      {err::kNoSuchUser, "no such user, or not a member"},
      {err::kNoSuchTeam, "no such team"},
      {err::kNoSuchRepository, "no such repository, or the caller cannot see it"},
      {err::kNoSuchTag, "no such tag"},
      {err::kNoSuchApiToken, "no such API token"},
      {err::kNoSuchNamespaceTeamAccess, "the team has no access to the namespace"},
      {err::kRepositoryExists, "the repository already exists"},
      {err::kAccountExists, "the account name is taken"},
      {err::kTeamExists, "the team name is taken"},
      {err::kInvalidVisibility, "visibility is neither public nor private"},
      {err::kInvalidTagName, "the tag name is invalid"},
      {err::kInvalidDigest, "the digest is invalid"},
      {err::kTagInNotary, "the tag is signed in Notary: remove its signature first"},
      {err::kRepositoryContainsTagsInNotary,
       "the repository has trust data in Notary: delete it first"},
      {err::kNoSuchJob, "no such job"},
      {err::kNoSuchCron, "no cron for this action"},
      {err::kNoSuchWorker, "no such worker"},
      {err::kNoSuchActionConfig, "no parameters are configured for this action"},
      {err::kNoSuchWebhook, "no such webhook, or the caller cannot see it"},
      {err::kNoSuchPruningPolicy, "no such pruning policy in this repository"},
      {err::kInvalidPruningPolicy, "the policy's rules or enabled flag are invalid"},
      {err::kWebhookDeliveryFailed,
       "the endpoint was unreachable or did not answer 2xx (detail.status: its status, 0 for "
       "none)"},
  };
  return kDescriptions;
}

const json& ApiDefinitions() {
  static const json kParsed = json::parse(kDefinitions);
  return kParsed;
}

json SchemaRef(const std::string& name) {
  if (name.rfind("[]", 0) == 0) {
    return {{"type", "array"}, {"items", SchemaRef(name.substr(2))}};
  }
  return {{"$ref", "#/definitions/" + name}};
}

std::string OperationId(const Route& r) {
  std::string id = r.method;
  for (char ch : r.pattern) {
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (alnum) {
      id += ch;
    } else if (id.back() != '_') {
      id += '_';
    }
  }
  while (id.back() == '_') id.pop_back();
  return id;
}

json Operation(const Route& r) {
  json params = json::array();
  for (const auto& seg : r.segments) {
    if (seg.size() > 2 && seg.front() == '{') {
      params.push_back({{"name", seg.substr(1, seg.size() - 2)},
                        {"in", "path"},
                        {"required", true},
                        {"type", "string"}});
    }
  }
  for (const auto& q : r.query) {
    params.push_back({{"name", q.name},
                      {"in", "query"},
                      {"required", false},
                      {"type", q.type},
                      {"description", q.description}});
  }
  if (!r.body.empty()) {
    params.push_back(
        {{"name", "body"}, {"in", "body"}, {"required", true}, {"schema", SchemaRef(r.body)}});
  }
  json responses = json::object();
  json ok = {{"description", "success"}};
  if (!r.returns.empty()) ok["schema"] = SchemaRef(r.returns);
  responses[std::to_string(r.status)] = ok;
  std::set<std::string> codes(r.errors.begin(), r.errors.end());
  codes.insert(err::kInternal);
  if (r.caller != Caller::kAnyone) codes.insert(err::kNotAuthenticated);
  if (r.caller == Caller::kAdmin) codes.insert(err::kNotAuthorized);
  if (!r.body.empty()) codes.insert(err::kInvalidJson);
  std::map<int, std::string> by_status;
  for (const auto& code : codes) {
    std::string& d = by_status[ErrorStatus(code)];
    auto it = ErrorDescriptions().find(code);
    d += (d.empty() ? "" : "; ") + code + ": " +
         (it == ErrorDescriptions().end() ? code : it->second);
  }
  for (const auto& [status, description] : by_status) {
    responses[std::to_string(status)] = {{"description", description},
                                         {"schema", SchemaRef("responses.Errors")}};
  }
  json op = {{"tags", json::array({r.tag})},
             {"summary", r.summary},
             {"description", "Who may call it: " + r.permission + "."},
             {"operationId", OperationId(r)},
             {"parameters", params},
             {"responses", responses}};
  if (!r.body.empty()) op["consumes"] = json::array({"application/json"});
  if (r.caller == Caller::kAnyone) {
    op["security"] = json::array({json::object(), {{"basic", json::array()}}});
  }
  return op;
}

}  // namespace

std::string OpenApiDocument(const RouteTable& t, const std::vector<Route>& described,
                            const std::string& definitions, const std::string& version) {
  json paths = json::object();
  std::set<std::string> tags;
  auto add = [&](const Route& r) {
    std::string method = r.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    paths[r.pattern][method] = Operation(r);
    tags.insert(r.tag);
  };
  for (const Route& r : t.routes()) add(r);
  for (const Route& r : described) add(r);
  json all_definitions = ApiDefinitions();
  if (!definitions.empty()) all_definitions.update(json::parse(definitions));
  json tag_list = json::array();
  for (const auto& tag : tags) tag_list.push_back({{"name", tag}});
  json doc = {
      {"swagger", "2.0"},
      {"info",
       {{"title", "Docker Trusted Registry"},
        {"version", version},
        {"description",
         "The DTR API (/api/v0) and its account API (/enzi/v0). Authenticate with HTTP Basic "
         "(a password or an API token). Errors are {\"errors\":[{\"code\",\"message\","
         "\"detail\"}]}."}}},
      {"basePath", "/"},
      {"schemes", json::array({"https", "http"})},
      {"consumes", json::array({"application/json"})},
      {"produces", json::array({"application/json"})},
      {"securityDefinitions", {{"basic", {{"type", "basic"}}}}},
      {"security", json::array({{{"basic", json::array()}}})},
      {"tags", tag_list},
      {"paths", paths},
      {"definitions", all_definitions}};
  return doc.dump();
}

Result<std::string> MergeDefinitions(const std::string& definitions, const std::string& extra) {
  json merged = definitions.empty() ? json::object() : json::parse(definitions);
  json add = json::parse(extra, nullptr, false);
  if (add.is_discarded() || !add.is_object()) {
    return InvalidArgument("schema definitions must be a JSON object");
  }
  for (auto& [name, schema] : add.items()) {
    if (!schema.is_object()) return InvalidArgument("schema " + name + " is not a JSON object");
    if (ApiDefinitions().contains(name) || merged.contains(name)) {
      return InvalidArgument("schema " + name + " is already defined");
    }
    merged[name] = schema;
  }
  std::string dangling;
  std::function<void(const json&)> check = [&](const json& j) {
    if (j.is_array()) {
      for (const auto& v : j) check(v);
      return;
    }
    if (!j.is_object()) return;
    for (auto& [key, v] : j.items()) {
      if (key != "$ref") {
        check(v);
        continue;
      }
      std::string ref = v.is_string() ? v.get<std::string>() : "";
      std::string target = ref.rfind("#/definitions/", 0) == 0 ? ref.substr(14) : "";
      if (target.empty() || (!ApiDefinitions().contains(target) && !merged.contains(target))) {
        dangling = ref.empty() ? v.dump() : ref;
      }
    }
  };
  check(add);
  if (!dangling.empty()) return InvalidArgument("schema reference " + dangling + " is undefined");
  return merged.dump();
}

std::set<std::string> SchemaNames(const std::string& definitions) {
  std::set<std::string> names;
  for (auto it = ApiDefinitions().begin(); it != ApiDefinitions().end(); ++it)
    names.insert(it.key());
  if (definitions.empty()) return names;
  const json extra = json::parse(definitions);
  for (auto it = extra.begin(); it != extra.end(); ++it) names.insert(it.key());
  return names;
}

}  // namespace dtr::api
