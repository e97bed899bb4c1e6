// Tag pruning in process: the pruningPolicies API (CRUD, permissions, bad input), the dry
// run, evaluation when a policy is created or changed (a tag_pruning job), the 15-minute
// cron, and the tag limit, which shares the eviction code with pruning.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jobs/api_reply.h"
#include "jobs/repo_automation.h"
#include "tests/automation_fixture.h"

namespace dtr::testing {
namespace {

using nlohmann::json;

const std::string kPolicies = "/api/v0/repositories/alice/app/pruningPolicies";

json Rule(const std::string& field, const std::string& op, std::vector<std::string> values) {
  return json{{"field", field}, {"operator", op}, {"values", values}};
}

class PruningTest : public AutomationTest {
 protected:
  // Jobs are counted in these tests: no quarter-hour cron firing in the middle of one.
  void StartRunner() {
    ASSERT_TRUE(reg.app().runner().store()->DeleteCron("tag_pruning").ok());
    reg.app().runner().Start();
  }

  // Sets when a tag was last updated (seconds ago), as if it had been pushed then.
  void Age(const std::string& repo, const std::string& tag, int64_t seconds_ago) {
    auto t = reg.app().registry().meta()->GetTag(repo, tag);
    ASSERT_TRUE(t.ok() && t->has_value());
    meta::TagRecord r = **t;
    r.updated_at = jobs::NowMs() / 1000 - seconds_ago;
    ASSERT_TRUE(reg.app().registry().meta()->PutTag(r).ok());
  }

  std::vector<std::string> DryRun(const std::vector<json>& rules) {
    json body = {{"rules", json::array()}};
    for (const auto& r : rules) body["rules"].push_back(r);
    auto r = Call("alice", "POST", kPolicies + "/test", body);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> names;
    for (const auto& t : json::parse(r.body)) names.push_back(t["name"].get<std::string>());
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(PruningTest, CrudAndPermissions) {
  AddRepo("alice", "app");
  AddRepo("alice", "pub", "public");
  json body = {{"rules", {Rule("tag", "sw", {"dev-"})}}, {"enabled", false}};
  // Anonymous: 401; bob cannot see alice/app: 404; bob can read alice/pub but is no admin: 403.
  EXPECT_EQ(Call("", "GET", kPolicies).status, 401);
  auto hidden = Call("bob", "POST", kPolicies, body);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(ErrorCode(hidden), "NO_SUCH_REPOSITORY");
  auto readonly = Call("bob", "POST", "/api/v0/repositories/alice/pub/pruningPolicies", body);
  EXPECT_EQ(readonly.status, 403);
  EXPECT_EQ(ErrorCode(readonly), "NOT_AUTHORIZED");
  EXPECT_EQ(Call("alice", "GET", "/api/v0/repositories/alice/nothing/pruningPolicies").status, 404);

  auto created = Call("alice", "POST", kPolicies, body);
  ASSERT_EQ(created.status, 201) << created.body;
  json p = json::parse(created.body);
  std::string id = p["id"];
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(p["repository"], "alice/app");
  EXPECT_EQ(p["enabled"], false);
  EXPECT_EQ(p["rules"], body["rules"]);
  EXPECT_EQ(p["lastPrunedAt"], "0001-01-01T00:00:00Z");

  auto list = Call("alice", "GET", kPolicies);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(json::parse(list.body).size(), 1u);
  // A system administrator manages anyone's policies.
  EXPECT_EQ(json::parse(Call("root", "GET", kPolicies + "/" + id).body)["id"], id);

  auto put =
      Call("alice", "PUT", kPolicies + "/" + id, json{{"rules", {Rule("tag", "oo", {"a", "b"})}}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["rules"][0]["operator"], "oo");
  EXPECT_EQ(json::parse(put.body)["enabled"], false);  // unchanged
  auto toggled = Call("alice", "PUT", kPolicies + "/" + id, json{{"enabled", true}});
  EXPECT_EQ(json::parse(toggled.body)["enabled"], true);
  EXPECT_EQ(json::parse(Call("alice", "GET", kPolicies + "/" + id).body)["rules"][0]["values"],
            json({"a", "b"}));

  EXPECT_EQ(Call("bob", "DELETE", kPolicies + "/" + id).status, 404);
  EXPECT_EQ(Call("alice", "DELETE", kPolicies + "/" + id).status, 204);
  auto gone = Call("alice", "GET", kPolicies + "/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(ErrorCode(gone), "NO_SUCH_PRUNING_POLICY");
  EXPECT_EQ(Call("alice", "DELETE", kPolicies + "/" + id).status, 404);
  EXPECT_EQ(Call("alice", "PATCH", kPolicies).status, 405);
}

TEST_F(PruningTest, BadInputGetsClear400s) {
  AddRepo("alice", "app");
  auto expect400 = [&](const std::string& target, const std::string& body, const std::string& code,
                       const std::string& words) {
    auto r = Call("alice", "POST", target, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(ErrorCode(r), code) << r.body;
    EXPECT_NE(ErrorMessage(r).find(words), std::string::npos) << r.body;
  };
  expect400(kPolicies, "{not json", "INVALID_JSON", "JSON object");
  expect400(kPolicies, "[]", "INVALID_JSON", "JSON object");
  expect400(kPolicies, R"({"enabled":true})", "INVALID_PRUNING_POLICY", "rules is required");
  expect400(kPolicies, R"({"rules":[]})", "INVALID_PRUNING_POLICY", "at least one rule");
  expect400(kPolicies, R"({"rules":[{"field":"tag","operator":"gt","values":["1"]}]})",
            "INVALID_PRUNING_POLICY", "operator 'gt' does not apply to field tag");
  expect400(kPolicies,
            R"({"rules":[{"field":"updated_at_duration","operator":"bf","values":["30 days"]}]})",
            "INVALID_PRUNING_POLICY", "unknown unit \" days\"");
  expect400(kPolicies, R"({"rules":[{"field":"tag","operator":"eq","values":["x"]}],"enabled":1})",
            "INVALID_PRUNING_POLICY", "enabled must be true or false");
  expect400(kPolicies + "?initialEvaluation=yes",
            R"({"rules":[{"field":"tag","operator":"eq","values":["x"]}]})", "INVALID_PARAMETERS",
            "initialEvaluation");
  expect400(kPolicies + "/test", R"({"rules":"tag=x"})", "INVALID_PRUNING_POLICY",
            "rules must be an array");
  auto created = Call("alice", "POST", kPolicies,
                      json{{"rules", {Rule("tag", "eq", {"x"})}}, {"enabled", false}});
  std::string id = json::parse(created.body)["id"];
  auto empty = Call("alice", "PUT", kPolicies + "/" + id, "{}");
  EXPECT_EQ(empty.status, 400);
  EXPECT_NE(ErrorMessage(empty).find("nothing to change"), std::string::npos);
}

TEST_F(PruningTest, DryRunCoversEveryOperatorAndDeletesNothing) {
  AddRepo("alice", "app");
  std::string d1 = PushImage("alice", "alice/app", "dev-1", "one");
  PushImage("alice", "alice/app", "dev-2", "two");
  PushImage("alice", "alice/app", "1.0-rc", "three");
  PushImage("alice", "alice/app", "latest", "four");
  Age("alice/app", "dev-1", 10 * 86400);
  Age("alice/app", "1.0-rc", 3 * 86400);

  using V = std::vector<std::string>;
  EXPECT_EQ(DryRun({Rule("tag", "eq", {"latest"})}), V({"latest"}));
  EXPECT_EQ(DryRun({Rule("tag", "sw", {"dev-"})}), V({"dev-1", "dev-2"}));
  EXPECT_EQ(DryRun({Rule("tag", "ew", {"-rc"})}), V({"1.0-rc"}));
  EXPECT_EQ(DryRun({Rule("tag", "c", {"ev"})}), V({"dev-1", "dev-2"}));
  EXPECT_EQ(DryRun({Rule("tag", "oo", {"latest", "dev-2", "missing"})}), V({"dev-2", "latest"}));
  EXPECT_EQ(DryRun({Rule("tag", "noo", {"latest", "dev-2"})}), V({"1.0-rc", "dev-1"}));
  EXPECT_EQ(DryRun({Rule("updated_at_duration", "bf", {"48h"})}), V({"1.0-rc", "dev-1"}));
  EXPECT_EQ(DryRun({Rule("updated_at_duration", "af", {"96h"})}), V({"1.0-rc", "dev-2", "latest"}));
  std::string five_days_ago = jobs::reply::FormatTime(jobs::NowMs() - 5 * 86400 * 1000LL);
  EXPECT_EQ(DryRun({Rule("updated_at", "bf", {five_days_ago})}), V({"dev-1"}));
  EXPECT_EQ(DryRun({Rule("updated_at", "af", {five_days_ago})}), V({"1.0-rc", "dev-2", "latest"}));
  // Rules combine with AND.
  EXPECT_EQ(DryRun({Rule("tag", "sw", {"dev-"}), Rule("updated_at_duration", "bf", {"24h"})}),
            V({"dev-1"}));
  auto r =
      Call("alice", "POST", kPolicies + "/test", json{{"rules", {Rule("tag", "eq", {"dev-1"})}}});
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"name":"dev-1","digest":")" + d1 + "\"}]"));
  EXPECT_EQ(Tags("alice/app").size(), 4u);
  EXPECT_TRUE(JobsOf("tag_pruning").empty());
}

TEST_F(PruningTest, EvaluatedWhenCreatedOrChanged) {
  AddRepo("alice", "app");
  StartRunner();
  std::string old_digest = PushImage("alice", "alice/app", "dev-old", "old");
  PushImage("alice", "alice/app", "keep", "keep");
  Age("alice/app", "dev-old", 3600);

  // "Prune future tags" (no initialEvaluation): tags that existed before stay.
  auto future = Call("alice", "POST", kPolicies,
                     json{{"rules", {Rule("tag", "sw", {"dev-"})}}, {"enabled", true}});
  ASSERT_EQ(future.status, 201) << future.body;
  std::string future_id = json::parse(future.body)["id"];
  ASSERT_TRUE(WaitUntil([&] { return JobsFinished("tag_pruning", 1); }));
  EXPECT_EQ(JobsOf("tag_pruning")[0].status, "done");
  EXPECT_EQ(Tags("alice/app"), std::vector<std::string>({"dev-old", "keep"}));

  // A tag pushed after the policy is pruned when the policy is next evaluated (here: on
  // change).
  PushImage("alice", "alice/app", "dev-new", "new");
  ASSERT_EQ(Call("alice", "PUT", kPolicies + "/" + future_id, json{{"enabled", true}}).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return JobsFinished("tag_pruning", 2); }));
  EXPECT_EQ(Tags("alice/app"), std::vector<std::string>({"dev-old", "keep"}));
  EXPECT_NE(json::parse(Call("alice", "GET", kPolicies + "/" + future_id).body)["lastPrunedAt"],
            "0001-01-01T00:00:00Z");

  // "Prune all tags" (?initialEvaluation=true): existing tags too.
  auto all = Call("alice", "POST", kPolicies + "?initialEvaluation=true",
                  json{{"rules", {Rule("tag", "eq", {"dev-old"})}}, {"enabled", true}});
  ASSERT_EQ(all.status, 201);
  std::string all_id = json::parse(all.body)["id"];
  ASSERT_TRUE(WaitUntil([&] { return JobsFinished("tag_pruning", 3); }));
  EXPECT_EQ(Tags("alice/app"), std::vector<std::string>({"keep"}));

  // Only the tag went: the manifest still pulls by digest (GC decides about it later).
  auto m = reg.Do("GET", "/v2/alice/app/manifests/" + old_digest, "", {Basic("alice")});
  EXPECT_EQ(m.status, 200);
  // The deletions are in the event log, with the policy as the actor.
  meta::EventQuery q;
  q.repository = "alice/app";
  q.type = "DELETE";
  q.page_size = 10;
  auto events = reg.app().identity().ListEvents(q);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].object_name, "alice/app:dev-old");
  EXPECT_EQ((*events)[0].actor, all_id);
  EXPECT_EQ((*events)[0].actor_type, "policy");
  EXPECT_EQ((*events)[1].object_name, "alice/app:dev-new");
  EXPECT_EQ((*events)[1].actor, future_id);
  // A disabled policy is not evaluated.
  PushImage("alice", "alice/app", "dev-x", "x");
  ASSERT_EQ(Call("alice", "PUT", kPolicies + "/" + future_id, json{{"enabled", false}}).status,
            200);
  EXPECT_EQ(JobsOf("tag_pruning").size(), 3u);
}

TEST_F(PruningTest, CronIsCreatedAtStartupAndKeptWhenChanged) {
  auto cron = reg.app().runner().store()->GetCron("tag_pruning");
  ASSERT_TRUE(cron.ok() && cron->has_value());
  EXPECT_EQ((*cron)->schedule, "0 */15 * * * *");
  EXPECT_GT((*cron)->next_run, jobs::NowMs());
  EXPECT_LE((*cron)->next_run, jobs::NowMs() + 15 * 60 * 1000);
  // An administrator's own schedule survives a restart.
  auto r = Call("root", "POST", "/api/v0/crons",
                json{{"action", "tag_pruning"}, {"schedule", "@hourly"}});
  ASSERT_EQ(r.status, 202) << r.body;
  reg.Reopen();
  EXPECT_EQ((*reg.app().runner().store()->GetCron("tag_pruning"))->schedule, "@hourly");
}

TEST_F(PruningTest, TagLimitSharesTheEvictionCode) {
  AddRepo("alice", "limited", "private", /*tag_limit=*/2);
  StartRunner();
  PushImage("alice", "alice/limited", "v1", "1");
  PushImage("alice", "alice/limited", "v2", "2");
  Age("alice/limited", "v1", 20);
  Age("alice/limited", "v2", 10);
  PushImage("alice", "alice/limited", "v3", "3");  // evicts v1 at once, FIFO
  EXPECT_EQ(Tags("alice/limited"), std::vector<std::string>({"v2", "v3"}));
  meta::EventQuery q;
  q.repository = "alice/limited";
  q.type = "DELETE";
  auto events = reg.app().identity().ListEvents(q);
  ASSERT_TRUE(events.ok() && events->size() == 1u);
  EXPECT_EQ((*events)[0].actor, "tag limit");
  EXPECT_EQ((*events)[0].actor_type, "system");
  EXPECT_EQ(json::parse((*events)[0].object_content)["reason"], "tag limit");

  // A lowered limit is applied by the tag_pruning job (the cron's), through the same code.
  auto rec = reg.app().identity().GetRepository("alice", "limited");
  meta::Repository r = **rec;
  r.tag_limit = 1;
  ASSERT_TRUE(reg.app().identity().UpdateRepository(r).ok());
  jobs::Job j;
  j.action = "tag_pruning";
  ASSERT_TRUE(reg.app().runner().Submit(j).ok());
  ASSERT_TRUE(WaitUntil([&] { return JobsFinished("tag_pruning", 1); }));
  EXPECT_EQ(Tags("alice/limited"), std::vector<std::string>({"v3"}));
  auto logs = reg.app().runner().store()->Logs(JobsOf("tag_pruning")[0].id, 0, 0);
  ASSERT_TRUE(logs.ok());
  bool logged = false;
  for (const auto& [n, line] : *logs) logged |= line == "tag limit evicted alice/limited:v2";
  EXPECT_TRUE(logged);
}

TEST_F(PruningTest, DeletedRepositoryTakesItsPoliciesAlong) {
  AddRepo("alice", "app");
  ASSERT_EQ(Call("alice", "POST", kPolicies,
                 json{{"rules", {Rule("tag", "eq", {"x"})}}, {"enabled", false}})
                .status,
            201);
  meta::Event e;
  e.type = "DELETE";
  e.object_type = "REPOSITORY";
  e.object_name = "alice/app";
  e.repository = "alice/app";
  reg.app().automation().OnEvent(e);
  EXPECT_TRUE(reg.app().automation().pruning_policies().List("alice/app")->empty());
}

}  // namespace
}  // namespace dtr::testing
