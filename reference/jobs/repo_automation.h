// RepoAutomation: what the jobrunner does for repositories on its own, wired in one place
// for App: tag pruning policies (store, tag_pruning action, the 15-minute cron, API), tag
// limits (the same TagPruner, called by the /v2/ gate after each tag push) and webhooks
// (store, dispatcher, webhook action, API). App constructs it, routes /api/v0 requests
// through Handle before the general API, and passes every recorded event to OnEvent.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "access/policy.h"
#include "access/principal.h"
#include "http/message.h"
#include "jobs/pruning_api.h"
#include "jobs/pruning_store.h"
#include "jobs/runner.h"
#include "jobs/tag_pruning.h"
#include "jobs/webhook_dispatcher.h"
#include "jobs/webhook_store.h"
#include "jobs/webhooks_api.h"
#include "meta/identity_store.h"
#include "meta/sqlite_db.h"
#include "registry/registry.h"

namespace dtr::jobs {

// DTR evaluates every pruning policy every 15 minutes.
inline constexpr const char* kTagPruningSchedule = "0 */15 * * * *";

struct RepoAutomationDeps {
  meta::SqliteDb* db = nullptr;
  registry::Registry* registry = nullptr;
  meta::IdentityStore* identity = nullptr;
  access::Policy* policy = nullptr;
  Runner* runner = nullptr;
  // DTR's host[:port] as clients pull from it (imageName in payloads); may return "".
  std::function<std::string()> registry_host;
  WebhookOptions webhooks;
};

class RepoAutomation {
 public:
  // Opens the tables, registers the tag_pruning and webhook actions with the runner and
  // creates the tag_pruning cron when there is none.
  static Result<std::unique_ptr<RepoAutomation>> Open(RepoAutomationDeps deps);

  // Pruning policies and webhooks under /api/v0; false when the path is not one of ours.
  bool Handle(http::Request& req, http::Response& res, const access::Principal& who);
  // Every recorded event: webhooks, and a deleted repository's pruning policies go with it.
  void OnEvent(const meta::Event& e);
  // After a tag push (the /v2/ gate).
  void ApplyTagLimit(const access::RepoName& repo);

  TagPruner& pruner() { return *pruner_; }
  PruningStore& pruning_policies() { return *pruning_; }
  WebhookDispatcher& webhooks() { return *dispatcher_; }

 private:
  explicit RepoAutomation(RepoAutomationDeps deps) : deps_(std::move(deps)) {}
  Status EnsureCron();

  RepoAutomationDeps deps_;
  std::unique_ptr<PruningStore> pruning_;
  std::unique_ptr<TagPruner> pruner_;
  std::unique_ptr<PruningApi> pruning_api_;
  std::unique_ptr<WebhookStore> webhook_store_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::unique_ptr<WebhooksApi> webhooks_api_;
};

}  // namespace dtr::jobs
