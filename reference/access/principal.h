// Principal: who is making a request, as established by the Authenticator from Basic
// credentials, an API token, a bearer JWT or a client certificate.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "meta/identity_store.h"

namespace dtr::access {

struct Principal {
  std::optional<meta::Account> account;  // empty: anonymous
  // How the caller proved who they are: "anonymous", "password", "api_token", "bearer",
  // "client_cert".
  std::string method = "anonymous";
  // For bearer tokens: the actions the token grants, per "type:name" (e.g.
  // "repository:ns/repo" -> {pull, push}); password callers are checked against Policy.
  std::map<std::string, std::set<std::string>> token_access;

  bool anonymous() const { return !account.has_value(); }
  bool is_admin() const { return account && account->is_admin; }
  const meta::Account* user() const { return account ? &*account : nullptr; }
  std::string name() const { return account ? account->name : "anonymous"; }
};

}  // namespace dtr::access
