#include "jobs/pruning_api.h"

#include "app/log.h"
#include "jobs/api_reply.h"

namespace dtr::jobs {

using nlohmann::json;
using reply::Error;
using reply::Json;

namespace {

json PolicyJson(const PruningPolicy& p) {
  return json{{"id", p.id},
              {"rules", RulesToJson(p.rules)},
              {"repository", p.repository},
              {"enabled", p.enabled},
              {"lastPrunedAt", reply::FormatTime(p.last_pruned_at)}};
}

void InvalidPolicy(http::Response& res, const std::string& message) {
  Error(res, 400, "INVALID_PRUNING_POLICY", message);
}

// Reads `rules` (required unless `partial`) and `enabled` from a body into `p`.
bool ReadPolicyFields(const json& b, bool partial, PruningPolicy* p, http::Response& res) {
  auto rules = b.find("rules");
  auto enabled = b.find("enabled");
  if (rules == b.end() && !partial) {
    InvalidPolicy(res, "rules is required: an array of {field, operator, values}");
    return false;
  }
  if (partial && rules == b.end() && enabled == b.end()) {
    InvalidPolicy(res, "nothing to change: send rules and/or enabled");
    return false;
  }
  if (rules != b.end()) {
    auto parsed = ParseRules(*rules);
    if (!parsed.ok()) {
      InvalidPolicy(res, parsed.status().message());
      return false;
    }
    p->rules = std::move(*parsed);
  }
  if (enabled != b.end()) {
    if (!enabled->is_boolean()) {
      InvalidPolicy(res, "enabled must be true or false");
      return false;
    }
    p->enabled = enabled->get<bool>();
  }
  return true;
}

}  // namespace

bool PruningApi::Handle(http::Request& req, http::Response& res, const access::Principal& who) {
  auto parts = reply::SplitPath(req.path);
  if (parts.size() < 6 || parts.size() > 7 || parts[0] != "api" || parts[1] != "v0" ||
      parts[2] != "repositories" || parts[5] != "pruningPolicies") {
    return false;
  }
  if (reply::RequireAuthenticated(res, who)) return true;
  access::RepoName name{parts[3], parts[4]};
  auto record = identity_->GetRepository(name.ns, name.name);
  if (!record.ok()) return Error(res, 500, "INTERNAL_ERROR", record.status().message()), true;
  auto level = policy_->EffectiveAccess(who.user(), name);
  if (!level.ok()) return Error(res, 500, "INTERNAL_ERROR", level.status().message()), true;
  if (!record->has_value() || *level == meta::AccessLevel::kNone) {
    Error(res, 404, "NO_SUCH_REPOSITORY", "no repository " + name.full());
    return true;
  }
  if (*level != meta::AccessLevel::kAdmin) {
    Error(res, 403, "NOT_AUTHORIZED",
          "managing pruning policies needs admin access to " + name.full());
    return true;
  }
  if (parts.size() == 6) {
    Collection(req, res, name.full());
  } else if (parts[6] == "test") {
    Test(req, res, name.full());
  } else {
    One(req, res, name.full(), parts[6]);
  }
  return true;
}

void PruningApi::Evaluate(const std::string& repo) {
  Job j;
  j.action = "tag_pruning";
  j.parameters = json{{"repository", repo}}.dump();
  auto submitted = runner_->Submit(j);
  if (!submitted.ok()) {
    log::Warn("pruning: evaluation of " + repo + " not queued: " + submitted.status().message());
  }
}

void PruningApi::Collection(http::Request& req, http::Response& res, const std::string& repo) {
  if (req.method == "GET") {
    auto list = store_->List(repo);
    if (!list.ok()) return Error(res, 500, "INTERNAL_ERROR", list.status().message());
    json out = json::array();
    for (const auto& p : *list) out.push_back(PolicyJson(p));
    return Json(res, 200, out);
  }
  if (req.method != "POST") return reply::MethodNotAllowed(res, "GET, POST");
  auto initial = req.Query("initialEvaluation");
  if (initial && *initial != "true" && *initial != "false") {
    return Error(res, 400, "INVALID_PARAMETERS", "initialEvaluation must be true or false");
  }
  json b;
  if (!reply::ReadObject(req, res, &b)) return;
  PruningPolicy p;
  p.repository = repo;
  p.prune_existing = initial && *initial == "true";
  if (!ReadPolicyFields(b, false, &p, res)) return;
  if (Status s = store_->Create(&p); !s.ok()) return Error(res, 500, "INTERNAL_ERROR", s.message());
  if (p.enabled) Evaluate(repo);
  Json(res, 201, PolicyJson(p));
}

void PruningApi::One(http::Request& req, http::Response& res, const std::string& repo,
                     const std::string& id) {
  auto found = store_->Get(repo, id);
  if (!found.ok()) return Error(res, 500, "INTERNAL_ERROR", found.status().message());
  if (!found->has_value()) {
    return Error(res, 404, "NO_SUCH_PRUNING_POLICY", "no pruning policy " + id + " in " + repo);
  }
  PruningPolicy p = **found;
  if (req.method == "GET") return Json(res, 200, PolicyJson(p));
  if (req.method == "DELETE") {
    auto deleted = store_->Delete(repo, id);
    if (!deleted.ok()) return Error(res, 500, "INTERNAL_ERROR", deleted.status().message());
    res.status = 204;
    return;
  }
  if (req.method != "PUT") return reply::MethodNotAllowed(res, "GET, PUT, DELETE");
  json b;
  if (!reply::ReadObject(req, res, &b)) return;
  if (!ReadPolicyFields(b, true, &p, res)) return;
  Status s = store_->Update(p);
  if (s.is(Code::kNotFound)) return Error(res, 404, "NO_SUCH_PRUNING_POLICY", s.message());
  if (!s.ok()) return Error(res, 500, "INTERNAL_ERROR", s.message());
  if (p.enabled) Evaluate(repo);
  Json(res, 200, PolicyJson(p));
}

void PruningApi::Test(http::Request& req, http::Response& res, const std::string& repo) {
  if (req.method != "POST") return reply::MethodNotAllowed(res, "POST");
  json b;
  if (!reply::ReadObject(req, res, &b)) return;
  PruningPolicy p;
  if (!ReadPolicyFields(b, false, &p, res)) return;
  auto tags = pruner_->Preview(repo, p.rules);
  if (!tags.ok()) return Error(res, 500, "INTERNAL_ERROR", tags.status().message());
  json out = json::array();
  for (const auto& t : *tags) out.push_back(json{{"name", t.tag}, {"digest", t.digest}});
  Json(res, 200, out);
}

}  // namespace dtr::jobs
