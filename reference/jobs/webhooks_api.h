// The webhooks API: subscriptions (GET/POST /api/v0/webhooks, POST /api/v0/webhooks/update,
// GET/DELETE /api/v0/webhooks/{id}), the per-resource listings for resource administrators
// (GET /api/v0/repositories/{ns}/{repo}/webhooks, GET /api/v0/accounts/{ns}/webhooks) and
// POST /api/v0/webhooks/test, which sends a fixed sample payload at once and says whether the
// endpoint took it.
//
// Who may do what: subscribing needs admin access to the key's repository or namespace;
// system administrators may subscribe to anything, and only they may leave the key empty
// (every repository) or subscribe to SCANNER_UPDATE_COMPLETED. A normal user lists their own
// subscriptions, an administrator all of them. Changing or deleting a subscription needs
// admin access to its key (or system admin).
#pragma once

#include <string>

#include "access/policy.h"
#include "access/principal.h"
#include "http/message.h"
#include "jobs/webhook_dispatcher.h"
#include "meta/identity_store.h"

namespace dtr::jobs {

class WebhooksApi {
 public:
  WebhooksApi(WebhookDispatcher* dispatcher, meta::IdentityStore* identity, access::Policy* policy)
      : dispatcher_(dispatcher), identity_(identity), policy_(policy) {}

  // False when the path is not one of ours.
  bool Handle(http::Request& req, http::Response& res, const access::Principal& who);

 private:
  void Create(http::Request& req, http::Response& res, const access::Principal& who);
  void List(http::Request& req, http::Response& res, const access::Principal& who);
  void Update(http::Request& req, http::Response& res, const access::Principal& who);
  void Test(http::Request& req, http::Response& res);
  void One(http::Request& req, http::Response& res, const access::Principal& who,
           const std::string& id);
  void ByKey(http::Request& req, http::Response& res, const access::Principal& who,
             const std::string& key);
  struct KeyAccess {
    bool exists = false;  // the repository or namespace the key names
    meta::AccessLevel level = meta::AccessLevel::kNone;
  };
  // The caller's access to what `key` ("", "ns" or "ns/repo") names.
  Result<KeyAccess> Access(const access::Principal& who, const std::string& key);
  // Answers 404 (missing or hidden) or 403 unless the caller administers `key`.
  bool RequireKeyAdmin(http::Response& res, const access::Principal& who, const std::string& key);

  WebhookDispatcher* dispatcher_;
  meta::IdentityStore* identity_;
  access::Policy* policy_;
};

}  // namespace dtr::jobs
