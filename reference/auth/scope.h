// Resource scopes of the Docker registry token-auth spec (docs/spec/auth/scope.md in CNCF
// distribution): what a client asks the token server for ("repository:library/ubuntu:pull,push",
// "registry:catalog:*") and what a token grants, as the `access` claim
// [{"type":"repository","name":"library/ubuntu","actions":["pull","push"]}].
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace dtr::auth {

struct ResourceActions {
  std::string type;                  // "repository", "registry"
  std::string resource_class;        // "plugin" in "repository(plugin):...", usually empty
  std::string name;                  // "library/ubuntu", "localhost:5000/a/b", "catalog"
  std::vector<std::string> actions;  // "pull", "push", "delete", "*": no duplicates

  friend bool operator==(const ResourceActions&, const ResourceActions&) = default;
};

// One scope, `type[(class)]:name:action[,action]*`. The name runs from the first ':' to the last
// one, so it may carry a registry host's port, which the spec warns a naive split gets wrong.
// Types and classes are [a-z0-9]+; actions are [a-z]+ or "*"; names are printable ASCII without
// spaces, quotes or backslashes (the caller validates them as repository names).
Result<ResourceActions> ParseResourceScope(std::string_view scope);

// All scopes of a token request: each element is one `scope` parameter (GET sends several),
// which may itself hold several scopes separated by spaces (the OAuth2 POST form). Scopes for
// the same resource are merged; first-seen order of resources and actions is kept.
Result<std::vector<ResourceActions>> ParseScopes(const std::vector<std::string>& scope_params);

std::string FormatScope(const ResourceActions& scope);
// Space-separated, as a single `scope` parameter or challenge attribute carries them.
std::string FormatScopes(const std::vector<ResourceActions>& scopes);

// The `access` claim of a token, and back. A missing (null) claim is an empty grant; entries
// with no actions are allowed (the spec's empty intersection).
nlohmann::json AccessClaim(const std::vector<ResourceActions>& access);
Result<std::vector<ResourceActions>> ParseAccessClaim(const nlohmann::json& access);

// True when `granted` includes `action` on the resource `type`/`name`; a granted "*" allows any
// action on its resource. The resource class does not take part.
bool Allows(const std::vector<ResourceActions>& granted, std::string_view type,
            std::string_view name, std::string_view action);

}  // namespace dtr::auth
