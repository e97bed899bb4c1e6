// TagPruner: the registry deleting tags on its own, for a repository's tag limit (FIFO: the
// oldest tags beyond the limit go) and for tag pruning policies. Both share this code. Only
// tags are deleted; the manifests and blobs they named stay until garbage collection. Each
// deletion is recorded as a DELETE TAG event (actor: "tag limit" or the policy id) and handed
// to the event listener (webhooks: TAG_DELETE).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "access/policy.h"
#include "core/status.h"
#include "jobs/pruning_store.h"
#include "jobs/rule_engine.h"
#include "meta/identity_store.h"
#include "meta/meta_store.h"
#include "registry/registry.h"

namespace dtr::jobs {

using EventListener = std::function<void(const meta::Event&)>;

// Who deletes, as the event log shows it.
struct PruneActor {
  std::string actor;       // "tag limit", or a pruning policy id
  std::string actor_type;  // "system" or "policy"
  std::string reason;      // "tag limit", "pruning policy"
};

// The tags a limit of `limit` evicts, oldest first: by update time, then by name.
std::vector<meta::TagRecord> SelectOverLimit(std::vector<meta::TagRecord> tags, int64_t limit);

// The tags `rules` match (all of them). Tags updated before `not_before_ms` are left alone.
std::vector<meta::TagRecord> SelectMatching(const std::vector<meta::TagRecord>& tags,
                                            const std::vector<Rule>& rules, int64_t not_before_ms,
                                            int64_t now_ms);

struct PruneReport {
  int64_t repositories = 0;
  int64_t policies = 0;
  int64_t pruned = 0;   // by policies
  int64_t evicted = 0;  // by tag limits
};

class TagPruner {
 public:
  TagPruner(registry::Registry* registry, meta::IdentityStore* identity, PruningStore* policies)
      : registry_(registry), identity_(identity), policies_(policies) {}
  // Set once, before the first deletion.
  void SetEventListener(EventListener l) { listener_ = std::move(l); }

  // The tags of `repo` ("ns/name") with their digests and update times.
  Result<std::vector<meta::TagRecord>> Tags(const std::string& repo);

  // Deletes each of `tags` that still points where it did when it was selected (a tag pushed
  // again since is left alone). Returns the tags deleted.
  std::vector<meta::TagRecord> Delete(const std::string& repo,
                                      const std::vector<meta::TagRecord>& tags,
                                      const PruneActor& who);

  // Evicts the oldest tags beyond the repository's tag limit; returns them.
  Result<std::vector<meta::TagRecord>> ApplyTagLimit(const access::RepoName& repo);

  // What `rules` would prune in `repo` now (the pruningPolicies/test dry run).
  Result<std::vector<meta::TagRecord>> Preview(const std::string& repo,
                                               const std::vector<Rule>& rules);

  // Applies the enabled policies of `repo`, then its tag limit. With `repo` empty: every
  // repository that has policies or a tag limit. `log` hears what happens.
  Result<PruneReport> Run(const std::string& repo,
                          const std::function<void(const std::string&)>& log,
                          const std::function<bool()>& cancelled);

 private:
  Status PruneRepository(const std::string& repo, const std::vector<PruningPolicy>& policies,
                         const std::function<void(const std::string&)>& log, PruneReport* report);

  registry::Registry* registry_;
  meta::IdentityStore* identity_;
  PruningStore* policies_;
  EventListener listener_;
};

}  // namespace dtr::jobs
