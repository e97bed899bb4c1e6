// The token server of the Docker registry token-auth spec, at /auth/token: GET with Basic
// credentials (or none, for anonymous pulls) and `scope` parameters, and the OAuth2 POST
// form (password and refresh_token grants). It grants the intersection of what was asked
// and what Policy allows, and never fails because a grant is partial.
#pragma once

#include <functional>

#include "access/authenticator.h"
#include "access/policy.h"
#include "http/message.h"

namespace dtr::access {

class TokenService {
 public:
  // `create_on_push` tells whether pushing to a missing repository may create it.
  TokenService(Authenticator* authn, Policy* policy, std::function<bool()> create_on_push)
      : authn_(authn), policy_(policy), create_on_push_(std::move(create_on_push)) {}

  // Serves /auth/token; false for other paths.
  bool Handle(http::Request& req, http::Response& res);

  // Issues an access token for `principal` covering what it may do of `scopes`.
  Result<std::string> Issue(const Principal& principal, const std::vector<std::string>& scopes,
                            std::string* granted_scope);

 private:
  void Get(http::Request& req, http::Response& res);
  void Post(http::Request& req, http::Response& res);
  void Reply(http::Response& res, const Principal& p, const std::vector<std::string>& scopes,
             bool with_refresh, bool oauth);

  Authenticator* authn_;
  Policy* policy_;
  std::function<bool()> create_on_push_;
};

// Writes a registry-style JSON error and, for 401, a challenge pointing at the token realm.
void WriteAuthError(http::Response& res, int status, const std::string& code,
                    const std::string& message);

}  // namespace dtr::access
