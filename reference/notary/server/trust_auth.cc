#include "notary/server/trust_auth.h"

#include <optional>

#include "registry/api.h"

namespace dtr::notary {

bool AccessTrustAuthorizer::Allowed(const access::Principal& who, const std::string& gun,
                                    const std::string& action) {
  if (gun.empty()) {  // the catalog: the global changefeed
    if (who.anonymous()) return false;
    if (who.method != "bearer") return true;
    auto it = who.token_access.find("registry:catalog");
    return it != who.token_access.end() && it->second.count("*");
  }
  access::RepoName repo = access::SplitRepoName(gun);
  if (action == "*") {
    // Every action in the token, and admin on the repository.
    for (const char* a : {access::kPull, access::kPush}) {
      if (!Allowed(who, gun, a)) return false;
    }
    if (who.anonymous()) return false;
    auto level = policy_->EffectiveAccess(who.user(), repo);
    return level.ok() && *level == meta::AccessLevel::kAdmin;
  }
  if (who.method == "bearer") {
    auto it = who.token_access.find("repository:" + gun);
    return it != who.token_access.end() && (it->second.count(action) || it->second.count("*"));
  }
  auto granted = policy_->Grant(who.user(), repo, {action}, create_on_push_());
  return granted.ok() && granted->count(action);
}

std::function<bool(const std::string&)> AccessTrustAuthorizer::Visible(const http::Request& req) {
  auto who = authn_->Authenticate(req);
  if (!who.ok()) return [](const std::string&) { return false; };
  if (who->is_admin()) return nullptr;
  std::optional<meta::Account> user = who->account;
  access::Policy* policy = policy_;
  return [user, policy](const std::string& gun) {
    auto level = policy->EffectiveAccess(user ? &*user : nullptr, access::SplitRepoName(gun));
    return level.ok() && *level != meta::AccessLevel::kNone;
  };
}

bool AccessTrustAuthorizer::Authorize(http::Request& req, http::Response& res,
                                      const std::string& gun,
                                      const std::vector<std::string>& actions) {
  auto who = authn_->Authenticate(req);
  std::string scope = gun.empty() ? "registry:catalog:*" : "repository:" + gun + ":";
  if (!gun.empty()) {
    for (size_t i = 0; i < actions.size(); ++i) scope += (i ? "," : "") + actions[i];
  }
  if (!who.ok()) {
    if (who.status().is(Code::kResourceExhausted)) {
      registry::WriteError(res, 429, registry::oci::kTooManyRequests, who.status().message());
    } else {
      gate_->Challenge(req, res, scope, false, who.status().message());
    }
    return false;
  }
  for (const auto& action : actions) {
    if (Allowed(*who, gun, action)) continue;
    if (who->anonymous() || who->method == "bearer") {
      gate_->Challenge(req, res, scope, who->method == "bearer",
                       "authentication required to " + action + " trust data of " +
                           (gun.empty() ? std::string("every repository") : gun));
    } else {
      registry::WriteError(res, 403, registry::oci::kDenied,
                           "requested access to the resource is denied");
    }
    return false;
  }
  return true;
}

}  // namespace dtr::notary
