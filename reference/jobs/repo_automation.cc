#include "jobs/repo_automation.h"

#include "app/log.h"
#include "jobs/cron.h"

namespace dtr::jobs {

Result<std::unique_ptr<RepoAutomation>> RepoAutomation::Open(RepoAutomationDeps deps) {
  std::unique_ptr<RepoAutomation> a(new RepoAutomation(std::move(deps)));
  const RepoAutomationDeps& d = a->deps_;
  auto pruning = PruningStore::Open(d.db);
  if (!pruning.ok()) return pruning.status();
  a->pruning_ = std::move(*pruning);
  auto hooks = WebhookStore::Open(d.db);
  if (!hooks.ok()) return hooks.status();
  a->webhook_store_ = std::move(*hooks);
  a->dispatcher_ = std::make_unique<WebhookDispatcher>(a->webhook_store_.get(), d.runner,
                                                       d.registry, d.registry_host, d.webhooks);
  a->pruner_ = std::make_unique<TagPruner>(d.registry, d.identity, a->pruning_.get());
  RepoAutomation* self = a.get();
  a->pruner_->SetEventListener([self](const meta::Event& e) { self->OnEvent(e); });
  a->pruning_api_ = std::make_unique<PruningApi>(a->pruning_.get(), a->pruner_.get(), d.identity,
                                                 d.policy, d.runner);
  a->webhooks_api_ = std::make_unique<WebhooksApi>(a->dispatcher_.get(), d.identity, d.policy);

  d.runner->Register("tag_pruning", [self](JobContext& ctx) -> Status {
    auto repo = ctx.StringParam("repository");
    if (!repo.ok()) return repo.status();
    auto report = self->pruner_->Run(
        *repo, [&ctx](const std::string& line) { ctx.Log(line); },
        [&ctx] { return ctx.cancelled(); });
    if (!report.ok()) return report.status();
    ctx.Log("evaluated " + std::to_string(report->policies) + " policies in " +
            std::to_string(report->repositories) + " repositories: pruned " +
            std::to_string(report->pruned) + " tags, tag limits evicted " +
            std::to_string(report->evicted));
    return Status::Ok();
  });
  d.runner->Register("webhook",
                     [self](JobContext& ctx) { return self->dispatcher_->Deliver(ctx); });
  if (Status s = a->EnsureCron(); !s.ok()) return s;
  return a;
}

Status RepoAutomation::EnsureCron() {
  JobStore* store = deps_.runner->store();
  auto existing = store->GetCron("tag_pruning");
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return Status::Ok();  // an administrator's schedule stays
  auto schedule = CronSchedule::Parse(kTagPruningSchedule);
  if (!schedule.ok()) return schedule.status();
  Cron c;
  c.action = "tag_pruning";
  c.schedule = kTagPruningSchedule;
  c.next_run = schedule->Next(NowMs() / 1000) * 1000;
  return store->PutCron(&c);
}

bool RepoAutomation::Handle(http::Request& req, http::Response& res, const access::Principal& who) {
  return pruning_api_->Handle(req, res, who) || webhooks_api_->Handle(req, res, who);
}

void RepoAutomation::OnEvent(const meta::Event& e) {
  if (e.object_type == "REPOSITORY" && e.type == "DELETE" && !e.repository.empty()) {
    if (Status s = pruning_->DeleteRepository(e.repository); !s.ok()) {
      log::Warn("pruning policies of " + e.repository + " not deleted: " + s.message());
    }
  }
  dispatcher_->OnEvent(e);
}

void RepoAutomation::ApplyTagLimit(const access::RepoName& repo) {
  auto evicted = pruner_->ApplyTagLimit(repo);
  if (!evicted.ok()) {
    log::Warn("tag limit of " + repo.full() + " not applied: " + evicted.status().message());
  }
}

}  // namespace dtr::jobs
