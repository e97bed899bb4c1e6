// The trust endpoints' authorization: the same token flow and permissions as /v2/. A bearer
// token must grant the actions on "repository:<gun>" (GUN = <host>/<namespace>/<repo>;
// Policy ignores the host); Basic credentials are checked against Policy. "pull" reads,
// "push" publishes and rotates keys, "*" (deleting all trust data) needs admin on the
// repository. The global changefeed needs a registry:catalog:* token (or credentials) and
// shows admins every GUN, others the GUNs of repositories they can read.
#pragma once

#include <functional>

#include "access/authenticator.h"
#include "access/policy.h"
#include "access/registry_gate.h"
#include "notary/server/trust_server.h"

namespace dtr::notary {

class AccessTrustAuthorizer : public TrustAuthorizer {
 public:
  AccessTrustAuthorizer(access::Authenticator* authn, access::Policy* policy,
                        access::RegistryGate* gate, std::function<bool()> create_on_push)
      : authn_(authn), policy_(policy), gate_(gate), create_on_push_(std::move(create_on_push)) {}

  bool Authorize(http::Request& req, http::Response& res, const std::string& gun,
                 const std::vector<std::string>& actions) override;
  std::function<bool(const std::string& gun)> Visible(const http::Request& req) override;

 private:
  bool Allowed(const access::Principal& who, const std::string& gun, const std::string& action);

  access::Authenticator* authn_;
  access::Policy* policy_;
  access::RegistryGate* gate_;
  std::function<bool()> create_on_push_;
};

}  // namespace dtr::notary
