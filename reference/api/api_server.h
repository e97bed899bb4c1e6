// ApiServer: DTR's HTTP API for scripts and the UI, /api/v0 (repositories, tags, team
// access, settings, events, API tokens) and /enzi/v0 (accounts, organizations, teams).
// The caller is already authenticated: Handle receives their Principal and decides, through
// access::Policy, what they may see and change. Errors use DTR's envelope
// {"errors":[{"code","message","detail"}]}. A repository the caller cannot see answers
// exactly as one that does not exist. No response carries a password hash, and a plaintext
// API token appears only in the reply that created it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "access/policy.h"
#include "access/principal.h"
#include "api/route_table.h"
#include "app/dtr_settings.h"
#include "auth/password.h"
#include "http/message.h"
#include "meta/identity_store.h"
#include "meta/meta_store.h"
#include "registry/registry.h"

namespace dtr::api {

struct ApiDeps {
  meta::IdentityStore* identity = nullptr;
  meta::MetaStore* meta = nullptr;
  registry::Registry* registry = nullptr;
  access::Policy* policy = nullptr;
  app::SettingsStore* settings = nullptr;
  // Told about each event after it is stored (webhooks, audit logs); may be empty.
  std::function<void(const meta::Event&)> on_event;
  // Other services under /api/v0 (jobs, webhooks, pruning policies), asked in order about
  // paths no route here matches; each returns false when the path is not its own. Only when
  // none takes it is the reply 404.
  std::vector<std::function<bool(http::Request&, http::Response&, const access::Principal&)>>
      delegates;
  // Content trust (Notary), both empty when there is no trust server. signed_tags gives the
  // tags signed for a repository ("ns/repo") under the GUN "<domain>/ns/repo" (any host when
  // domain is empty), each with the sha256 hex its signers vouched for; has_trust_data says
  // whether any GUN of the repository has trust data.
  std::function<Result<std::map<std::string, std::string>>(const std::string& repo,
                                                           const std::string& domain)>
      signed_tags;
  std::function<Result<bool>(const std::string& repo)> has_trust_data;
  // The registry's storage settings ({"storage": {...}} as distribution's config.yml has it,
  // in JSON), secrets left out; and their replacement (kInvalidArgument: refused, with why).
  // Both empty when the storage cannot be changed through the API.
  std::function<Result<std::string>()> get_storage;
  std::function<Status(const std::string& json)> put_storage;
  // info.version of the OpenAPI document.
  std::string version = "2.7.0-reference";
  // PBKDF2 cost for new password hashes; tests lower it.
  int password_iterations = auth::kDefaultPbkdf2Iterations;
};

class ApiServer {
 public:
  explicit ApiServer(ApiDeps deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;  // routes hold `this`
  ApiServer& operator=(const ApiServer&) = delete;

  // Serves requests under /api/v0 and /enzi/v0; false (response untouched) for other paths.
  bool Handle(http::Request& req, http::Response& res, const access::Principal& who);

  // Documents endpoints other services answer under /api/v0 before this server is asked (the
  // jobrunner's, webhooks, pruning policies) in /api/v0/docs.json beside the table's own.
  // `routes` are documentation only: their handlers are dropped and Handle never dispatches
  // them. `definitions_json` is a JSON object of the schemas they name beyond the API's.
  // Call before serving. InvalidArgument, documenting nothing, when a route is outside
  // /api/v0 and /enzi/v0, is already documented (or its path template matches the same paths
  // as another's), names an undefined schema, or a schema is malformed or defined already.
  Status Describe(std::vector<Route> routes, const std::string& definitions_json);

  const RouteTable& routes() const { return routes_; }
  const std::vector<Route>& described() const { return described_; }
  const ApiDeps& deps() const { return deps_; }

 private:
  ApiDeps deps_;
  RouteTable routes_;
  std::vector<Route> described_;  // documentation only (Describe)
  std::string definitions_;       // their schemas, a JSON object; empty: none
  std::string docs_json_;         // built from the above
};

// Path prefixes ApiServer answers.
bool IsApiPath(std::string_view path);

}  // namespace dtr::api
