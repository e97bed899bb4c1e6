#include "jobs/tag_pruning.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/log.h"
#include "jobs/job_store.h"

namespace dtr::jobs {

using nlohmann::json;

std::vector<meta::TagRecord> SelectOverLimit(std::vector<meta::TagRecord> tags, int64_t limit) {
  if (limit <= 0 || static_cast<int64_t>(tags.size()) <= limit) return {};
  std::sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) {
    return a.updated_at != b.updated_at ? a.updated_at < b.updated_at : a.tag < b.tag;
  });
  tags.resize(tags.size() - static_cast<size_t>(limit));
  return tags;
}

std::vector<meta::TagRecord> SelectMatching(const std::vector<meta::TagRecord>& tags,
                                            const std::vector<Rule>& rules, int64_t not_before_ms,
                                            int64_t now_ms) {
  std::vector<meta::TagRecord> out;
  for (const auto& t : tags) {
    TagFacts facts{t.tag, t.updated_at * 1000};
    if (facts.updated_at_ms < not_before_ms) continue;
    if (AllRulesMatch(rules, facts, now_ms)) out.push_back(t);
  }
  return out;
}

Result<std::vector<meta::TagRecord>> TagPruner::Tags(const std::string& repo) {
  auto names = registry_->meta()->ListTags(repo, "", 0);
  if (!names.ok()) return names.status();
  std::vector<meta::TagRecord> out;
  for (const auto& name : *names) {
    auto rec = registry_->meta()->GetTag(repo, name);
    if (!rec.ok()) return rec.status();
    if (rec->has_value()) out.push_back(**rec);
  }
  return out;
}

std::vector<meta::TagRecord> TagPruner::Delete(const std::string& repo,
                                               const std::vector<meta::TagRecord>& tags,
                                               const PruneActor& who) {
  std::vector<meta::TagRecord> deleted;
  for (const auto& t : tags) {
    // The registry has no compare-and-delete; re-reading narrows the window in which a tag
    // pushed again between selection and deletion would be lost to a stale decision.
    auto now = registry_->meta()->GetTag(repo, t.tag);
    if (!now.ok() || !now->has_value() || (*now)->digest != t.digest ||
        (*now)->updated_at != t.updated_at) {
      continue;
    }
    Status s = registry_->DeleteManifest(repo, t.tag);
    if (s.is(Code::kNotFound)) {
      // Gone from storage already (a concurrent deletion, or a stale index entry): drop the
      // index entry; whoever deleted it recorded the event.
      registry_->meta()->DeleteTag(repo, t.tag);
      continue;
    }
    if (!s.ok()) {
      log::Warn("pruning: could not delete " + repo + ":" + t.tag + ": " + s.message());
      continue;
    }
    deleted.push_back(t);
    meta::Event e;
    e.actor = who.actor;
    e.actor_type = who.actor_type;
    e.type = "DELETE";
    e.object_type = "TAG";
    e.object_name = repo + ":" + t.tag;
    e.object_content = json{{"tag", t.tag}, {"digest", t.digest}, {"reason", who.reason}}.dump();
    e.repository = repo;
    if (Status r = identity_->AddEvent(&e); !r.ok()) {
      log::Warn("pruning: event not recorded: " + r.message());
      continue;
    }
    if (listener_) listener_(e);
  }
  return deleted;
}

Result<std::vector<meta::TagRecord>> TagPruner::ApplyTagLimit(const access::RepoName& repo) {
  auto record = identity_->GetRepository(repo.ns, repo.name);
  if (!record.ok()) return record.status();
  if (!record->has_value() || (*record)->tag_limit <= 0) return std::vector<meta::TagRecord>{};
  auto tags = Tags(repo.full());
  if (!tags.ok()) return tags.status();
  auto evict = SelectOverLimit(std::move(*tags), (*record)->tag_limit);
  if (evict.empty()) return evict;
  return Delete(repo.full(), evict, PruneActor{"tag limit", "system", "tag limit"});
}

Result<std::vector<meta::TagRecord>> TagPruner::Preview(const std::string& repo,
                                                        const std::vector<Rule>& rules) {
  auto tags = Tags(repo);
  if (!tags.ok()) return tags.status();
  return SelectMatching(*tags, rules, 0, NowMs());
}

Status TagPruner::PruneRepository(const std::string& repo,
                                  const std::vector<PruningPolicy>& policies,
                                  const std::function<void(const std::string&)>& log,
                                  PruneReport* report) {
  ++report->repositories;
  for (const auto& p : policies) {
    if (!p.enabled) continue;
    ++report->policies;
    auto tags = Tags(repo);
    if (!tags.ok()) return tags.status();
    int64_t now = NowMs();
    // Tag times have whole seconds: a tag pushed in the second the policy was created counts
    // as pushed after it.
    int64_t not_before = p.prune_existing ? 0 : p.created_at / 1000 * 1000;
    auto matching = SelectMatching(*tags, p.rules, not_before, now);
    if (matching.empty()) continue;
    auto deleted = Delete(repo, matching, PruneActor{p.id, "policy", "pruning policy"});
    report->pruned += static_cast<int64_t>(deleted.size());
    for (const auto& t : deleted) log("policy " + p.id + " pruned " + repo + ":" + t.tag);
    if (!deleted.empty()) {
      if (Status s = policies_->MarkPruned(p.id, now); !s.ok()) return s;
    }
  }
  access::RepoName name = access::SplitRepoName(repo);
  if (!name.valid()) return Status::Ok();
  auto evicted = ApplyTagLimit(name);
  if (!evicted.ok()) return evicted.status();
  report->evicted += static_cast<int64_t>(evicted->size());
  for (const auto& t : *evicted) log("tag limit evicted " + repo + ":" + t.tag);
  return Status::Ok();
}

Result<PruneReport> TagPruner::Run(const std::string& repo,
                                   const std::function<void(const std::string&)>& log,
                                   const std::function<bool()>& cancelled) {
  PruneReport report;
  auto all = policies_->List(repo);
  if (!all.ok()) return all.status();
  std::map<std::string, std::vector<PruningPolicy>> by_repo;
  for (auto& p : *all) by_repo[p.repository].push_back(std::move(p));
  if (!repo.empty()) {
    by_repo[repo];  // its tag limit applies even without policies
  } else {
    auto records = identity_->ListRepositoryRecords("", "", 0);
    if (!records.ok()) return records.status();
    for (const auto& r : *records) {
      if (r.tag_limit > 0) by_repo[r.full_name()];
    }
  }
  Status last_error;
  for (const auto& [name, policies] : by_repo) {
    if (cancelled()) return Status(Code::kFailedPrecondition, "canceled");
    if (Status s = PruneRepository(name, policies, log, &report); !s.ok()) {
      // One repository failing does not stop the others; the job reports the last error.
      log("error pruning " + name + ": " + s.message());
      last_error = s;
    }
  }
  if (!last_error.ok()) return last_error;
  return report;
}

}  // namespace dtr::jobs
