#include "access/registry_gate.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "app/log.h"
#include "core/names.h"

namespace dtr::access {

using nlohmann::json;
using registry::RouteInfo;

namespace {
bool IsWrite(const std::string& method) { return method != "GET" && method != "HEAD"; }
}  // namespace

void RegistryGate::Challenge(const http::Request& req, http::Response& res,
                             const std::string& scope, bool insufficient,
                             const std::string& message) {
  std::string value = "Bearer realm=\"" + http::ExternalBaseUrl(req) + "/auth/token\",service=\"" +
                      auth_->service + "\"";
  if (!scope.empty()) value += ",scope=\"" + scope + "\"";
  if (insufficient) value += ",error=\"insufficient_scope\"";
  res.headers.Set("WWW-Authenticate", value);
  registry::WriteError(res, 401, registry::oci::kUnauthorized, message);
}

bool RegistryGate::Allowed(const Principal& who, const std::string& repo,
                           const std::string& action) {
  // Without authentication (`--auth none`) the caller may do anything, as with registry:2:
  // push creates the repository whatever createRepositoryOnPush says.
  if (who.method == "none") return true;
  if (who.method == "bearer") {
    auto it = who.token_access.find("repository:" + repo);
    return it != who.token_access.end() && (it->second.count(action) || it->second.count("*"));
  }
  auto granted = policy_->Grant(who.user(), SplitRepoName(repo), {action},
                                settings_().create_repository_on_push);
  return granted.ok() && granted->count(action);
}

// Why a challenge is sent, in words a person can act on (clients print it).
std::string RegistryGate::DenialReason(const Principal& who, const RepoName& name,
                                       const registry::RouteInfo& route,
                                       const std::string& action) {
  if (who.anonymous() && who.method != "bearer") {
    return "authentication required to " + action + " " + route.repo;
  }
  std::string holder = who.anonymous() ? "an anonymous token" : "the token of " + who.name();
  if (action == "push" && name.valid()) {
    auto record = identity_->GetRepository(name.ns, name.name);
    if (record.ok() && !record->has_value() && !settings_().create_repository_on_push) {
      return "repository " + route.repo +
             " does not exist and createRepositoryOnPush is off: create it first (POST "
             "/api/v0/repositories/" +
             name.ns + ") or ask an administrator to turn createRepositoryOnPush on";
    }
  }
  return holder + " does not grant " + action + " on " + route.repo;
}

bool RegistryGate::CanList(const Principal& who, const std::string& repo) {
  if (who.is_admin()) return true;  // a system administrator sees every repository
  RepoName name = SplitRepoName(repo);
  if (!name.valid()) return who.is_admin();
  auto record = identity_->GetRepository(name.ns, name.name);
  if (!record.ok() || !record->has_value()) return who.is_admin();
  auto level = policy_->EffectiveAccess(who.user(), name);
  return level.ok() && *level != meta::AccessLevel::kNone;
}

Status RegistryGate::EnsureRepositoryRecord(const Principal& who, const RepoName& name) {
  auto existing = identity_->GetRepository(name.ns, name.name);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return Status::Ok();
  meta::Repository repo;
  repo.namespace_name = name.ns;
  repo.name = name.name;
  repo.visibility = "private";  // create-on-push makes private repositories
  Status s = identity_->CreateRepository(&repo);
  if (s.is(Code::kAlreadyExists)) return Status::Ok();  // a concurrent push created it
  if (!s.ok()) return s;
  Record(who, "CREATE", "REPOSITORY", name.full(), name.full(),
         json{{"visibility", "private"}, {"createdOnPush", true}}.dump());
  return Status::Ok();
}

bool RegistryGate::Before(http::Request& req, http::Response& res, const Principal& who,
                          const RouteInfo& route) {
  using Kind = RouteInfo::Kind;
  if (route.kind == Kind::kNone) return true;  // the API answers 404 itself
  if (route.kind == Kind::kBase) {
    if (who.anonymous() && who.method != "bearer") {
      Challenge(req, res, "", false, "authentication required");
      return false;
    }
    return true;
  }
  if (route.kind == Kind::kCatalog) {
    if (who.method == "bearer") {
      auto it = who.token_access.find("registry:catalog");
      if (it != who.token_access.end() && (it->second.count("*"))) return true;
      Challenge(req, res, "registry:catalog:*", true, "listing needs the registry:catalog:* scope");
      return false;
    }
    if (who.anonymous()) {
      Challenge(req, res, "registry:catalog:*", false, "authentication required");
      return false;
    }
    return true;
  }
  // A repository route.
  if (!ValidateRepositoryName(route.repo).ok()) return true;  // NAME_INVALID from the API
  RepoName name = SplitRepoName(route.repo);
  std::string scope = "repository:" + route.repo + ":";
  for (size_t i = 0; i < route.actions.size(); ++i) scope += (i ? "," : "") + route.actions[i];
  if (!route.mount_from.empty() && route.mount_from != route.repo &&
      ValidateRepositoryName(route.mount_from).ok()) {
    // A mount reads the source: ask for it in the same token, as distribution does, or the
    // token lacks it and the mount quietly becomes an upload.
    scope += " repository:" + route.mount_from + ":pull";
  }
  for (const auto& action : route.actions) {
    if (Allowed(who, route.repo, action)) continue;
    if (who.anonymous() || who.method == "bearer") {
      Challenge(req, res, scope, who.method == "bearer", DenialReason(who, name, route, action));
    } else {
      registry::WriteError(res, 403, registry::oci::kDenied,
                           "requested access to the resource is denied");
    }
    return false;
  }
  if (IsWrite(req.method)) {
    if (settings_().read_only) {
      registry::WriteError(res, 405, registry::oci::kUnsupported,
                           "the registry is in read-only mode; pushes and deletes are refused");
      return false;
    }
    if (name.valid() && req.method != "DELETE") {
      if (Status s = EnsureRepositoryRecord(who, name); !s.ok()) {
        registry::WriteError(res, 503, "UNAVAILABLE", s.message());
        return false;
      }
    }
  }
  if (!route.mount_from.empty() && !Allowed(who, route.mount_from, "pull")) {
    // No mounting out of a repository the caller cannot read: an ordinary upload instead.
    auto& q = req.query;
    q.erase(
        std::remove_if(q.begin(), q.end(),
                       [](const auto& kv) { return kv.first == "mount" || kv.first == "from"; }),
        q.end());
  }
  if (route.manifest && req.method == "PUT" && !LooksLikeDigest(route.reference) && name.valid()) {
    auto record = identity_->GetRepository(name.ns, name.name);
    if (record.ok() && record->has_value() && (*record)->immutable_tags) {
      auto existing = registry_->GetManifest(route.repo, route.reference);
      if (existing.ok()) {
        registry::WriteError(res, 403, registry::oci::kDenied,
                             "tag=" + route.reference + " cannot be overwritten because " +
                                 route.repo + " is an immutable repository");
        return false;
      }
    }
  }
  return true;
}

meta::Event RegistryGate::EventOf(const Principal& who, const std::string& type,
                                  const std::string& object_type, const std::string& object_name,
                                  const std::string& repo, const std::string& content_json) {
  meta::Event e;
  e.actor = who.name();
  e.actor_type = who.anonymous() ? "anonymous" : "user";
  e.type = type;
  e.object_type = object_type;
  e.object_name = object_name;
  e.object_content = content_json;
  e.repository = repo;
  return e;
}

void RegistryGate::Record(const Principal& who, const std::string& type,
                          const std::string& object_type, const std::string& object_name,
                          const std::string& repo, const std::string& content_json) {
  // Pulls queued before this event are stored first, so event ids keep the order requests
  // were answered in.
  pulls_->Flush();
  meta::Event e = EventOf(who, type, object_type, object_name, repo, content_json);
  if (Status s = identity_->AddEvent(&e); !s.ok()) {
    log::Warn("event not recorded: " + s.message());
    return;
  }
  if (on_event_) on_event_(e);
}

void RegistryGate::After(const http::Request& req, const http::Response& res, const Principal& who,
                         const RouteInfo& route) {
  if (route.kind != RouteInfo::Kind::kRepository || !route.manifest) return;
  RepoName name = SplitRepoName(route.repo);
  if (!name.valid()) return;
  std::string digest = res.headers.GetOr("Docker-Content-Digest");
  bool tag = !LooksLikeDigest(route.reference);
  std::string object =
      tag ? name.full() + ":" + route.reference : name.full() + "@" + route.reference;
  if (req.method == "GET" && res.status == 200) {
    meta::PullRecord pull{name.ns, name.name,
                          EventOf(who, "GET", tag ? "TAG" : "MANIFEST", object, name.full(),
                                  json{{"digest", digest}}.dump())};
    pull.event.published_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();  // when it was answered, not when stored
    pulls_->Add(std::move(pull));
  } else if (req.method == "PUT" && res.status == 201) {
    identity_->CountPush(name.ns, name.name);
    Record(who, "CREATE", tag ? "TAG" : "MANIFEST", object, name.full(),
           json{{"digest", digest}}.dump());
    if (tag && apply_tag_limit_) apply_tag_limit_(name);
  } else if (req.method == "DELETE" && res.status == 202) {
    Record(who, "DELETE", tag ? "TAG" : "MANIFEST", object, name.full(), "{}");
  }
}

}  // namespace dtr::access
