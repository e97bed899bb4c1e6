// /api/v0/docs.json as the App serves it: the endpoints the jobs module answers outside the
// API's route table (jobs, crons, workers, action configs, cluster status, webhooks, pruning
// policies) are documented, and each documented operation really answers as documented.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "jobs/api_docs.h"
#include "jobs/webhook_dispatcher.h"
#include "tests/automation_fixture.h"

namespace dtr::testing {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

class ApiDocsTest : public AutomationTest {
 protected:
  json Docs() {
    auto r = Call("", "GET", "/api/v0/docs.json");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
};

TEST_F(ApiDocsTest, DocumentsTheJobsModulesEndpoints) {
  json doc = Docs();
  ASSERT_TRUE(doc.is_object());
  const std::string repo = "/api/v0/repositories/{namespace}/{reponame}";
  const std::map<std::string, std::set<std::string>> expected = {
      {"/api/v0/jobs", {"get", "post"}},
      {"/api/v0/jobs/{id}", {"get", "delete"}},
      {"/api/v0/jobs/{id}/cancel", {"post"}},
      {"/api/v0/jobs/{id}/logs", {"get"}},
      {"/api/v0/crons", {"get", "post"}},
      {"/api/v0/crons/{action}", {"get", "delete"}},
      {"/api/v0/workers", {"get"}},
      {"/api/v0/workers/{id}/capacity", {"post"}},
      {"/api/v0/action_configs", {"get", "post"}},
      {"/api/v0/action_configs/{action}", {"get", "delete"}},
      {"/api/v0/meta/cluster_status", {"get"}},
      {"/api/v0/webhooks", {"get", "post"}},
      {"/api/v0/webhooks/test", {"post"}},
      {"/api/v0/webhooks/update", {"post"}},
      {"/api/v0/webhooks/{id}", {"get", "delete"}},
      {repo + "/webhooks", {"get"}},
      {"/api/v0/accounts/{namespace}/webhooks", {"get"}},
      {repo + "/pruningPolicies", {"get", "post"}},
      {repo + "/pruningPolicies/test", {"post"}},
      {repo + "/pruningPolicies/{pruningPolicyID}", {"get", "put", "delete"}},
  };
  for (const auto& [path, methods] : expected) {
    ASSERT_TRUE(doc["paths"].contains(path)) << path;
    std::set<std::string> documented;
    for (auto& [method, op] : doc["paths"][path].items()) documented.insert(method);
    EXPECT_EQ(documented, methods) << path;
  }
  // Query parameters the handlers read.
  auto query = [&](const std::string& path, const std::string& method) {
    std::set<std::string> names;
    for (const auto& p : doc["paths"][path][method]["parameters"]) {
      if (p["in"] == "query") names.insert(p["name"]);
    }
    return names;
  };
  EXPECT_EQ(query("/api/v0/jobs", "get"),
            (std::set<std::string>{"action", "worker", "running", "start", "limit"}));
  EXPECT_EQ(query("/api/v0/jobs/{id}/logs", "get"), (std::set<std::string>{"offset", "limit"}));
  EXPECT_EQ(query(repo + "/pruningPolicies", "post"), (std::set<std::string>{"initialEvaluation"}));
  EXPECT_EQ(query("/api/v0/webhooks", "get"), (std::set<std::string>{"webhookType"}));
  EXPECT_EQ(doc["paths"]["/api/v0/webhooks/test"]["post"]["responses"]["502"]["schema"]["$ref"],
            "#/definitions/responses.Errors");
  EXPECT_EQ(doc["definitions"]["forms.Webhook"]["properties"]["type"]["enum"].size(),
            jobs::WebhookTypes().size());

  std::set<std::string> tags, ids, shapes;
  for (const auto& t : doc["tags"]) tags.insert(t["name"]);
  for (auto& [path, ops] : doc["paths"].items()) {
    // Every path parameter is declared, no two templates match the same paths.
    EXPECT_TRUE(shapes.insert(std::regex_replace(path, std::regex("\\{[^}]*\\}"), "{}")).second)
        << path;
    size_t in_path = static_cast<size_t>(std::count(path.begin(), path.end(), '{'));
    for (auto& [method, op] : ops.items()) {
      std::string what = method + " " + path;
      EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second) << what;
      EXPECT_TRUE(tags.count(op["tags"][0].get<std::string>())) << what;
      size_t declared = 0;
      for (const auto& p : op["parameters"]) declared += p["in"] == "path";
      EXPECT_EQ(declared, in_path) << what;
      // Every error code has a description of its own ("CODE: what it means").
      for (auto& [status, response] : op["responses"].items()) {
        if (status[0] < '4') continue;
        std::string text = response["description"];
        for (size_t start = 0; start < text.size();) {
          size_t end = text.find("; ", start);
          if (end == std::string::npos) end = text.size();
          std::string entry = text.substr(start, end - start);
          size_t colon = entry.find(": ");
          ASSERT_NE(colon, std::string::npos) << what << " " << entry;
          EXPECT_NE(entry.substr(0, colon), entry.substr(colon + 2)) << what << ": undescribed";
          start = end + 2;
        }
      }
    }
  }
  // Every $ref in the whole document resolves.
  size_t refs = 0;
  std::function<void(const json&)> check = [&](const json& j) {
    if (j.is_array()) {
      for (const auto& v : j) check(v);
    } else if (j.is_object()) {
      for (auto& [k, v] : j.items()) {
        if (k != "$ref") {
          check(v);
          continue;
        }
        ++refs;
        std::string ref = v;
        ASSERT_EQ(ref.rfind("#/definitions/", 0), 0u) << ref;
        EXPECT_TRUE(doc["definitions"].contains(ref.substr(14))) << ref;
      }
    }
  };
  check(doc);
  EXPECT_GT(refs, 100u);
}

// Each documented operation, sent as a system admin with plausible parameters, answers with
// its documented success status: the route exists, with that method, and works.
// Anonymous callers get 401 and, where only system admins may call, other users 403.
TEST_F(ApiDocsTest, EveryDocumentedOperationAnswers) {
  json doc = Docs();
  AddRepo("eng", "app");
  jobs::Job sleeper;
  sleeper.action = "sleep";  // the runner is not started: it stays waiting
  auto job = reg.app().runner().Submit(sleeper);
  ASSERT_TRUE(job.ok());
  jobs::JobStore* store = reg.app().runner().store();
  ASSERT_TRUE(store->Heartbeat({"worker-1", "running", "{}", jobs::NowMs() + 3600000}).ok());
  auto r = Call("root", "POST", "/api/v0/crons", R"({"action":"sleep","schedule":"@daily"})");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(store->PutActionConfig("sleep", R"({"seconds":1})").ok());
  const json hook = {{"type", "TAG_PUSH"}, {"key", "eng/app"}, {"endpoint", "http://127.0.0.1:9/"}};
  r = Call("root", "POST", "/api/v0/webhooks", hook);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string hook_id = json::parse(r.body)["id"];
  const json rules = {{"rules", {{{"field", "tag"}, {"operator", "eq"}, {"values", {"never"}}}}},
                      {"enabled", false}};
  r = Call("root", "POST", "/api/v0/repositories/eng/app/pruningPolicies", rules);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string policy_id = json::parse(r.body)["id"];

  const std::string repo = "/api/v0/repositories/{namespace}/{reponame}";
  const std::map<std::string, json> bodies = {
      {"POST /api/v0/jobs", {{"action", "sleep"}, {"parameters", {{"seconds", 1}}}}},
      {"POST /api/v0/crons", {{"action", "sleep"}, {"schedule", "0 0 1 * * *"}}},
      {"POST /api/v0/workers/{id}/capacity", {{"capacityMap", {{"sleep", 2}}}}},
      {"POST /api/v0/action_configs", {{"action", "sleep"}, {"parameters", {{"seconds", 2}}}}},
      {"POST /api/v0/webhooks", hook},
      {"POST /api/v0/webhooks/test", {{"type", "TAG_PUSH"}, {"endpoint", "http://127.0.0.1:9/"}}},
      {"POST /api/v0/webhooks/update", {{"id", hook_id}, {"inactive", true}}},
      {"POST " + repo + "/pruningPolicies", rules},
      {"POST " + repo + "/pruningPolicies/test", rules},
      {"PUT " + repo + "/pruningPolicies/{pruningPolicyID}", {{"enabled", false}}},
  };
  auto target = [&](const api::Route& route) {
    std::string id = route.pattern.rfind("/api/v0/jobs", 0) == 0       ? job->id
                     : route.pattern.rfind("/api/v0/webhooks", 0) == 0 ? hook_id
                                                                       : "worker-1";
    const std::map<std::string, std::string> values = {{"{id}", id},
                                                       {"{action}", "sleep"},
                                                       {"{namespace}", "eng"},
                                                       {"{reponame}", "app"},
                                                       {"{pruningPolicyID}", policy_id}};
    std::string path = route.pattern;
    for (const auto& [param, value] : values) {
      for (size_t at; (at = path.find(param)) != std::string::npos;) {
        path.replace(at, param.size(), value);
      }
    }
    EXPECT_EQ(path.find('{'), std::string::npos) << route.pattern;
    return path;
  };

  std::vector<api::Route> routes = jobs::ApiRoutes();
  ASSERT_FALSE(routes.empty());
  // Deletions last, so every other operation finds what it works on.
  std::stable_partition(routes.begin(), routes.end(),
                        [](const api::Route& each) { return each.method != "DELETE"; });
  for (const api::Route& route : routes) {
    std::string what = route.method + " " + route.pattern;
    SCOPED_TRACE(what);
    json op = doc["paths"][route.pattern][Lower(route.method)];
    ASSERT_TRUE(op.is_object());
    std::string body;
    if (!route.body.empty()) {
      ASSERT_TRUE(bodies.count(what)) << "no sample body";
      body = bodies.at(what).dump();
    }
    std::string path = target(route);

    auto anonymous = Call("", route.method, path, body);
    EXPECT_EQ(anonymous.status, 401) << anonymous.body;
    EXPECT_EQ(ErrorCode(anonymous), "NOT_AUTHENTICATED");
    if (route.caller == api::Caller::kAdmin) {
      auto user = Call("alice", route.method, path, body);
      EXPECT_EQ(user.status, 403) << user.body;
      EXPECT_EQ(ErrorCode(user), "NOT_AUTHORIZED");
    }

    auto reply = Call("root", route.method, path, body);
    EXPECT_NE(reply.status, 405) << reply.body;
    EXPECT_NE(ErrorCode(reply), "NOT_FOUND") << reply.body;
    std::string status = std::to_string(reply.status);
    ASSERT_TRUE(op["responses"].contains(status)) << "undocumented status: " << reply.body;
    if (reply.status >= 400) {
      std::string described = op["responses"][status]["description"];
      EXPECT_NE(described.find(ErrorCode(reply) + ": "), std::string::npos)
          << "undocumented code: " << reply.body;
    }
    // Nothing listens on 127.0.0.1:9: the test delivery fails, as documented.
    int success = what == "POST /api/v0/webhooks/test" ? 502 : route.status;
    EXPECT_EQ(reply.status, success) << reply.body;
    if (!route.returns.empty() && reply.status == route.status) {
      json j = json::parse(reply.body, nullptr, false);
      EXPECT_EQ(j.is_array(), route.returns.rfind("[]", 0) == 0) << reply.body;
      EXPECT_EQ(j.is_object(), route.returns.rfind("[]", 0) != 0) << reply.body;
    }
  }
}

}  // namespace
}  // namespace dtr::testing
