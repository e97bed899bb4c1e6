// The tag pruning API: /api/v0/repositories/{ns}/{repo}/pruningPolicies (list, create with
// ?initialEvaluation=true), .../pruningPolicies/{id} (get, replace, delete) and
// .../pruningPolicies/test (dry run: the tags the given rules would prune now). Repository
// administrators only; a repository the caller cannot see answers as a missing one.
// Creating or changing an enabled policy queues a tag_pruning job for the repository.
#pragma once

#include <string>
#include <vector>

#include "access/policy.h"
#include "access/principal.h"
#include "http/message.h"
#include "jobs/pruning_store.h"
#include "jobs/runner.h"
#include "jobs/tag_pruning.h"
#include "meta/identity_store.h"

namespace dtr::jobs {

class PruningApi {
 public:
  PruningApi(PruningStore* store, TagPruner* pruner, meta::IdentityStore* identity,
             access::Policy* policy, Runner* runner)
      : store_(store), pruner_(pruner), identity_(identity), policy_(policy), runner_(runner) {}

  // False when the path is not one of ours.
  bool Handle(http::Request& req, http::Response& res, const access::Principal& who);

 private:
  void Collection(http::Request& req, http::Response& res, const std::string& repo);
  void One(http::Request& req, http::Response& res, const std::string& repo, const std::string& id);
  void Test(http::Request& req, http::Response& res, const std::string& repo);
  void Evaluate(const std::string& repo);

  PruningStore* store_;
  TagPruner* pruner_;
  meta::IdentityStore* identity_;
  access::Policy* policy_;
  Runner* runner_;
};

}  // namespace dtr::jobs
