// Settings, features, events, API tokens, the OpenAPI document, routing and the small
// helpers (times, names, paging bounds).
#include <cctype>
#include <functional>
#include <regex>
#include <set>

#include "api/api_test_util.h"
#include "api/call.h"
#include "auth/password.h"

namespace dtr::api::testing {
namespace {

using meta::AccessLevel;

class MetaTest : public ApiFixture {
 protected:
  void SetUp() override {
    CreateUser("alice");
    CreateUser("bob");
  }
};

TEST_F(MetaTest, Settings) {
  auto r = Get(As("admin"), "/api/v0/meta/settings");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["readOnlyRegistry"], false);
  EXPECT_EQ(r.Json()["createRepositoryOnPush"], false);
  EXPECT_EQ(Get(As("alice"), "/api/v0/meta/settings").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Get(Anonymous(), "/api/v0/meta/settings").Code(), "NOT_AUTHENTICATED");
  r = Do(As("admin"), "POST", "/api/v0/meta/settings",
         R"({"createRepositoryOnPush":true,"dtrHost":"dtr.example.com"})");
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.Json()["createRepositoryOnPush"], true);
  EXPECT_EQ(r.Json()["dtrHost"], "dtr.example.com");
  EXPECT_EQ(r.Json()["readOnlyRegistry"], false);
  EXPECT_TRUE(settings_->Get()->create_repository_on_push);
  r = Do(As("admin"), "POST", "/api/v0/meta/settings", R"({"readOnlyRegistry":"yes"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Code(), "INVALID_SETTINGS");
  EXPECT_FALSE(settings_->Get()->read_only_registry);
  EXPECT_EQ(Do(As("admin"), "POST", "/api/v0/meta/settings", "[]").Code(), "INVALID_JSON");
  EXPECT_EQ(Do(As("alice"), "POST", "/api/v0/meta/settings", R"({"readOnlyRegistry":true})").Code(),
            "NOT_AUTHORIZED");
  EXPECT_FALSE(settings_->Get()->read_only_registry);
}

TEST_F(MetaTest, Features) {
  auto r = Get(As("alice"), "/api/v0/meta/features");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["scanningEnabled"], false);
  EXPECT_EQ(r.Json()["scanningLicensed"], false);
  EXPECT_EQ(r.Json()["promotionLicensed"], false);
  EXPECT_EQ(r.Json()["mirroringLicensed"], false);
  EXPECT_EQ(r.Json()["onlineGCEnabled"], true);
  EXPECT_EQ(Get(Anonymous(), "/api/v0/meta/features").status, 401);
}

class EventsTest : public MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    CreateRepo("alice", "app");
    CreateRepo("bob", "private");
    CreateRepo("bob", "open", "public");
    Add("alice", "CREATE", "REPOSITORY", "alice/app", 1000);
    Add("bob", "CREATE", "REPOSITORY", "bob/private", 2000);
    Add("bob", "CREATE", "REPOSITORY", "bob/open", 3000);
    Add("bob", "CREATE", "TAG", "bob/open", 4000);
    Add("alice", "GET", "TAG", "bob/open", 5000);  // a pull
    Add("admin", "UPDATE", "ACCOUNT", "", 6000);
  }
  void Add(const std::string& actor, const std::string& type, const std::string& object_type,
           const std::string& repo, int64_t at) {
    meta::Event e;
    e.actor = actor;
    e.type = type;
    e.object_type = object_type;
    e.object_name = repo.empty() ? "x" : repo;
    e.object_content = R"({"k":"v"})";
    e.repository = repo;
    e.published_at = at;
    ASSERT_TRUE(identity_->AddEvent(&e).ok());
  }
  static std::vector<std::string> Summary(const Reply& r) {
    std::vector<std::string> out;
    json body = r.Json();
    for (const auto& e : body["events"]) {
      out.push_back(e["type"].get<std::string>() + " " + e["repository"].get<std::string>());
    }
    return out;
  }
};

TEST_F(EventsTest, AdminsSeeEverythingNewestFirst) {
  auto r = Get(As("admin"), "/api/v0/events?count=true");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(Summary(r), (std::vector<std::string>{"UPDATE ", "GET bob/open", "CREATE bob/open",
                                                  "CREATE bob/open", "CREATE bob/private",
                                                  "CREATE alice/app"}));
  EXPECT_EQ(r.Header("X-Resource-Count"), "6");
  json e = r.Json()["events"][1];
  EXPECT_EQ(e["actor"], "alice");
  EXPECT_EQ(e["actorType"], "user");
  EXPECT_EQ(e["publishedAt"], "1970-01-01T00:00:05.000Z");
  EXPECT_EQ(e["object"]["type"], "TAG");
  EXPECT_EQ(e["object"]["name"], "bob/open");
  EXPECT_EQ(e["object"]["content"]["k"], "v");
}

TEST_F(EventsTest, UsersSeeEventsOfWhatTheyCanRead) {
  // alice: her repository and the public one, but not the pull there (she is no admin of it)
  // nor bob's private repository or account events.
  auto r = Get(As("alice"), "/api/v0/events?count=true");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(Summary(r),
            (std::vector<std::string>{"CREATE bob/open", "CREATE bob/open", "CREATE alice/app"}));
  EXPECT_EQ(r.Header("X-Resource-Count"), "3");
  // bob administers bob/open: he sees the pull.
  r = Get(As("bob"), "/api/v0/events");
  EXPECT_EQ(Summary(r), (std::vector<std::string>{"GET bob/open", "CREATE bob/open",
                                                  "CREATE bob/open", "CREATE bob/private"}));
  r = Get(As("alice"), "/api/v0/repositories/bob/open/events?count=true");
  EXPECT_EQ(Summary(r), (std::vector<std::string>{"CREATE bob/open", "CREATE bob/open"}));
  EXPECT_EQ(r.Header("X-Resource-Count"), "2");
  r = Get(As("bob"), "/api/v0/repositories/bob/open/events");
  EXPECT_EQ(Summary(r).size(), 3u);
  r = Get(As("bob"), "/api/v0/repositories/bob/open/events?excludePull=true");
  EXPECT_EQ(Summary(r).size(), 2u);
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/bob/private/events").Code(),
            "NO_SUCH_REPOSITORY");
  EXPECT_EQ(Get(Anonymous(), "/api/v0/repositories/bob/open/events").Json()["events"].size(), 2u);
  EXPECT_EQ(Get(Anonymous(), "/api/v0/events").status, 401);
}

TEST_F(EventsTest, FiltersAndPages) {
  auto admin = As("admin");
  EXPECT_EQ(Summary(Get(admin, "/api/v0/events?eventType=GET")),
            (std::vector<std::string>{"GET bob/open"}));
  EXPECT_EQ(Summary(Get(admin, "/api/v0/events?objectType=TAG")).size(), 2u);
  EXPECT_EQ(Summary(Get(admin, "/api/v0/events?actorId=alice")).size(), 2u);
  auto alice = *identity_->GetAccount("alice");
  EXPECT_EQ(Summary(Get(admin, "/api/v0/events?actorId=" + alice->id)).size(), 2u);
  EXPECT_EQ(Summary(Get(admin,
                        "/api/v0/events?publishedAfter=1970-01-01T00:00:02Z&"
                        "publishedBefore=1970-01-01T00:00:05Z")),
            (std::vector<std::string>{"CREATE bob/open", "CREATE bob/open"}));
  EXPECT_EQ(Summary(Get(admin, "/api/v0/events?publishedAfter=1970-01-01T01:00:02%2B01:00")).size(),
            4u);
  auto r = Get(admin, "/api/v0/events?pageSize=2");
  EXPECT_EQ(Summary(r).size(), 2u);
  std::string next = r.Header("X-Next-Page-Start");
  ASSERT_FALSE(next.empty());
  r = Get(admin, "/api/v0/events?pageSize=2&pageStart=" + next);
  EXPECT_EQ(Summary(r), (std::vector<std::string>{"CREATE bob/open", "CREATE bob/open"}));
  EXPECT_EQ(r.Json()["events"][0]["id"], next);
  // Paging works the same for filtered (non-admin) streams.
  r = Get(As("alice"), "/api/v0/events?pageSize=1");
  std::string n1 = r.Header("X-Next-Page-Start");
  r = Get(As("alice"), "/api/v0/events?pageSize=1&pageStart=" + n1);
  std::string n2 = r.Header("X-Next-Page-Start");
  r = Get(As("alice"), "/api/v0/events?pageSize=1&pageStart=" + n2);
  EXPECT_EQ(Summary(r), (std::vector<std::string>{"CREATE alice/app"}));
  EXPECT_EQ(r.Header("X-Next-Page-Start"), "");
  for (const char* bad : {"publishedBefore=yesterday", "publishedAfter=2019-13-01T00:00:00Z",
                          "pageStart=x", "pageSize=0", "count=2"}) {
    EXPECT_EQ(Get(admin, std::string("/api/v0/events?") + bad).Code(), "INVALID_PARAMETERS") << bad;
  }
}

// ---- API tokens ----

TEST_F(MetaTest, ApiTokenLifecycle) {
  auto r = Do(As("alice"), "POST", "/api/v0/api_tokens", R"({"tokenLabel":"ci"})",
              {{"User-Agent", "curl/8"}});
  ASSERT_EQ(r.status, 201) << r;
  std::string token = r.Json()["token"];
  std::string hashed = r.Json()["hashedToken"];
  Secret(token);  // never again
  EXPECT_GE(token.size(), 40u);
  EXPECT_EQ(hashed, auth::Sha256Hex(token));
  EXPECT_EQ(r.Json()["tokenLabel"], "ci");
  EXPECT_EQ(r.Json()["isActive"], true);
  EXPECT_EQ(r.Json()["creatorUa"], "curl/8");
  EXPECT_TRUE(r.Json()["lastUsed"].is_null());
  auto stored = identity_->GetApiToken(hashed);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->account_id, (*identity_->GetAccount("alice"))->id);
  // Listing, reading, relabeling, disabling.
  r = Get(As("alice"), "/api/v0/api_tokens");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json().size(), 1u);
  EXPECT_EQ(r.Json()[0]["hashedToken"], hashed);
  EXPECT_FALSE(r.Json()[0].contains("token"));
  EXPECT_EQ(Get(As("alice"), "/api/v0/api_tokens/" + hashed).Json()["tokenLabel"], "ci");
  r = Do(As("alice"), "PATCH", "/api/v0/api_tokens/" + hashed,
         R"({"tokenLabel":"deploy","isActive":false})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["tokenLabel"], "deploy");
  EXPECT_FALSE((*identity_->GetApiToken(hashed))->is_active);
  EXPECT_EQ(Do(As("alice"), "PATCH", "/api/v0/api_tokens/" + hashed, R"({"isActive":"no"})").Code(),
            "INVALID_PARAMETERS");
  // Someone else's token does not exist for them; an admin sees it.
  EXPECT_EQ(Get(As("bob"), "/api/v0/api_tokens/" + hashed).Code(), "NO_SUCH_API_TOKEN");
  EXPECT_EQ(Do(As("bob"), "DELETE", "/api/v0/api_tokens/" + hashed).Code(), "NO_SUCH_API_TOKEN");
  EXPECT_TRUE(Get(As("bob"), "/api/v0/api_tokens").Json().empty());
  EXPECT_EQ(Get(As("bob"), "/api/v0/api_tokens?username=alice").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Get(As("admin"), "/api/v0/api_tokens?username=alice").Json().size(), 1u);
  EXPECT_EQ(Get(As("admin"), "/api/v0/api_tokens/" + hashed).status, 200);
  EXPECT_EQ(Get(As("admin"), "/api/v0/api_tokens?username=ghost").Code(), "NO_SUCH_USER");
  // Revoking.
  EXPECT_EQ(Do(As("alice"), "DELETE", "/api/v0/api_tokens/" + hashed).status, 204);
  EXPECT_FALSE(identity_->GetApiToken(hashed)->has_value());
  EXPECT_EQ(Get(As("alice"), "/api/v0/api_tokens/" + hashed).Code(), "NO_SUCH_API_TOKEN");
  EXPECT_EQ(Get(Anonymous(), "/api/v0/api_tokens").status, 401);
}

TEST_F(MetaTest, ApiTokensForOthersAndInBulk) {
  auto r = Do(As("admin"), "POST", "/api/v0/api_tokens?username=bob", "");
  ASSERT_EQ(r.status, 201) << r;
  Secret(r.Json()["token"]);
  EXPECT_EQ(Do(As("alice"), "POST", "/api/v0/api_tokens?username=bob", "{}").Code(),
            "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("bob"), "POST", "/api/v0/api_tokens", R"({"tokenLabel":5})").Code(),
            "INVALID_PARAMETERS");
  for (int i = 0; i < 3; ++i) {
    Secret(Do(As("bob"), "POST", "/api/v0/api_tokens", "{}").Json()["token"]);
  }
  EXPECT_EQ(Get(As("bob"), "/api/v0/api_tokens").Json().size(), 4u);
  EXPECT_EQ(Do(As("bob"), "DELETE", "/api/v0/api_tokens?generatedby=auto").status, 204);
  EXPECT_EQ(Get(As("bob"), "/api/v0/api_tokens").Json().size(), 4u);
  EXPECT_EQ(Do(As("bob"), "DELETE", "/api/v0/api_tokens?usedbefore=bad").Code(),
            "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("bob"), "DELETE", "/api/v0/api_tokens").status, 204);
  EXPECT_TRUE(Get(As("bob"), "/api/v0/api_tokens").Json().empty());
}

// ---- the OpenAPI document and routing ----

TEST_F(MetaTest, DocsListEveryRoute) {
  auto r = Get(Anonymous(), "/api/v0/docs.json");
  ASSERT_EQ(r.status, 200);
  json doc = r.Json();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["swagger"], "2.0");
  EXPECT_EQ(doc["info"]["title"], "Docker Trusted Registry");
  EXPECT_EQ(doc["info"]["version"], "2.7.0-reference");
  ASSERT_TRUE(doc["paths"].is_object());
  size_t operations = 0;
  for (auto& [path, ops] : doc["paths"].items()) operations += ops.size();
  EXPECT_EQ(operations, api_->routes().routes().size());
  std::set<std::string> ids;
  for (const auto& route : api_->routes().routes()) {
    std::string method = route.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(ch));
    ASSERT_TRUE(doc["paths"].contains(route.pattern)) << route.pattern;
    ASSERT_TRUE(doc["paths"][route.pattern].contains(method)) << route.method << route.pattern;
    json op = doc["paths"][route.pattern][method];
    EXPECT_FALSE(op["summary"].get<std::string>().empty()) << route.pattern;
    EXPECT_NE(op["description"].get<std::string>(), "Who may call it: .") << route.pattern;
    EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second) << route.pattern;
    EXPECT_TRUE(op["responses"].contains(std::to_string(route.status))) << route.pattern;
    // Every path parameter is declared.
    size_t declared = 0;
    for (const auto& p : op["parameters"]) declared += p["in"] == "path";
    size_t in_pattern = 0;
    for (const auto& seg : route.segments) in_pattern += !seg.empty() && seg.front() == '{';
    EXPECT_EQ(declared, in_pattern) << route.pattern;
  }
  // Every $ref resolves.
  std::function<void(const json&)> check = [&](const json& j) {
    if (j.is_object()) {
      for (auto& [k, v] : j.items()) {
        if (k == "$ref") {
          std::string ref = v;
          ASSERT_EQ(ref.rfind("#/definitions/", 0), 0u) << ref;
          EXPECT_TRUE(doc["definitions"].contains(ref.substr(14))) << ref;
        } else {
          check(v);
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) check(v);
    }
  };
  check(doc);
  // No two templates match the same paths ("/a/{x}" and "/a/{y}").
  std::set<std::string> shapes;
  for (auto& [path, ops] : doc["paths"].items()) {
    EXPECT_TRUE(shapes.insert(std::regex_replace(path, std::regex("\\{[^}]*\\}"), "{}")).second)
        << path;
  }
  // A sample of the routes the issue names.
  for (const char* p :
       {"/api/v0/repositories", "/api/v0/repositories/{namespace}/{reponame}/tags",
        "/api/v0/repositories/{namespace}/{reponame}/teamAccess/{teamname}",
        "/api/v0/repositoryNamespaces/{namespace}/teamAccess/{teamname}", "/api/v0/meta/settings",
        "/api/v0/api_tokens/{hashedtoken}", "/enzi/v0/accounts",
        "/enzi/v0/accounts/{orgNameOrID}/teams/{teamNameOrID}/members/{memberNameOrID}"}) {
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  }
}

// Endpoints other services answer (the jobs module's) are documented, never dispatched.
TEST_F(MetaTest, DescribedRoutesAreDocumentedNotServed) {
  auto route = [](std::string method, std::string pattern) {
    Route r;
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.caller = Caller::kAdmin;
    r.handler = [](Call& c) { c.Reply(200, json::object()); };
    return r;
  };
  std::vector<Route> described;
  described.push_back(route("GET", "/api/v0/jobs/{id}")
                          .Tag("jobs")
                          .Summary("Get a job")
                          .Permission("system admins")
                          .Returns(200, "responses.Job")
                          .Errors({err::kNoSuchJob}));
  described.push_back(route("POST", "/api/v0/webhooks/test")
                          .Tag("webhooks")
                          .Summary("Test an endpoint")
                          .Permission("any user")
                          .Body("forms.WebhookTest")
                          .Returns(202)
                          .Errors({err::kWebhookDeliveryFailed}));
  const std::string definitions =
      R"({"responses.Job": {"type": "object", "properties": {"id": {"type": "string"}}},
          "forms.WebhookTest": {"type": "object", "properties": {
            "job": {"$ref": "#/definitions/responses.Job"},
            "owner": {"$ref": "#/definitions/responses.Account"}}}})";
  // Refusals change nothing.
  auto refused = [&](std::vector<Route> routes, const std::string& defs) {
    std::string before = Get(Anonymous(), "/api/v0/docs.json").body;
    Status s = api_->Describe(std::move(routes), defs);
    EXPECT_TRUE(s.is(Code::kInvalidArgument)) << s.message();
    EXPECT_EQ(Get(Anonymous(), "/api/v0/docs.json").body, before);
    EXPECT_TRUE(api_->described().empty());
  };
  refused({route("GET", "/api/v0/repositories").Summary("twice")}, "{}");
  refused({route("DELETE", "/api/v0/repositories/{ns}/{name}")}, "{}");  // same paths
  refused({route("GET", "/v2/_catalog")}, "{}");
  refused({route("GET", "/api/v0/jobs").Returns(200, "[]responses.Nothing")}, "{}");
  refused(described, "[]");
  refused(described, R"({"responses.Account": {"type": "object"}})");  // the API's own
  refused(described, R"({"responses.Job": 1})");
  refused(described, R"({"responses.Job": {"$ref": "#/definitions/responses.Nothing"}})");
  refused({described[0], described[0]}, definitions);

  ASSERT_TRUE(api_->Describe(described, definitions).ok());
  EXPECT_EQ(api_->described().size(), 2u);
  EXPECT_EQ(api_->described()[0].segments, (std::vector<std::string>{"api", "v0", "jobs", "{id}"}));
  EXPECT_TRUE(api_->Describe(described, "{}").is(Code::kInvalidArgument));  // already there
  json doc = Get(Anonymous(), "/api/v0/docs.json").Json();
  json job = doc["paths"]["/api/v0/jobs/{id}"]["get"];
  EXPECT_EQ(job["summary"], "Get a job");
  ASSERT_EQ(job["parameters"].size(), 1u);
  EXPECT_EQ(job["parameters"][0]["name"], "id");
  EXPECT_EQ(job["parameters"][0]["in"], "path");
  EXPECT_EQ(job["responses"]["200"]["schema"]["$ref"], "#/definitions/responses.Job");
  EXPECT_EQ(job["responses"]["404"]["description"], "NO_SUCH_JOB: no such job");
  EXPECT_TRUE(job["responses"].contains("403"));  // admins only
  json test = doc["paths"]["/api/v0/webhooks/test"]["post"];
  EXPECT_NE(test["responses"]["502"]["description"].get<std::string>().find(
                "WEBHOOK_DELIVERY_FAILED: the endpoint"),
            std::string::npos);
  EXPECT_TRUE(test["responses"].contains("400"));  // INVALID_JSON: it has a body
  EXPECT_TRUE(doc["definitions"].contains("forms.WebhookTest"));
  EXPECT_TRUE(doc["definitions"].contains("responses.Account"));
  std::set<std::string> tags;
  for (const auto& t : doc["tags"]) tags.insert(t["name"]);
  EXPECT_TRUE(tags.count("jobs") && tags.count("webhooks"));
  // Never dispatched: the path is still unknown here, so the delegates get it.
  auto r = Get(As("admin"), "/api/v0/jobs/123");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Code(), "NOT_FOUND");
  r = Do(As("admin"), "POST", "/api/v0/webhooks/test", "{}");
  EXPECT_EQ(r.Code(), "NOT_FOUND");
}

TEST(CallHelpersTest, ErrorStatus) {
  EXPECT_EQ(ErrorStatus(err::kWebhookDeliveryFailed), 502);
  EXPECT_EQ(ErrorStatus(err::kNoSuchJob), 404);
  EXPECT_EQ(ErrorStatus(err::kNoSuchPruningPolicy), 404);
  EXPECT_EQ(ErrorStatus(err::kInvalidPruningPolicy), 400);
  EXPECT_EQ(ErrorStatus(err::kNotAllowed), 405);
  EXPECT_EQ(ErrorStatus(err::kTagInNotary), 409);
  EXPECT_EQ(ErrorStatus(err::kInvalidJson), 400);
  EXPECT_EQ(ErrorStatus(err::kInternal), 500);
}

TEST_F(MetaTest, UnknownRoutesAndMethods) {
  auto r = Get(As("alice"), "/api/v0/nothing/here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Code(), "NOT_FOUND");
  r = Do(As("alice"), "PUT", "/api/v0/repositories");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Code(), "NOT_ALLOWED");
  EXPECT_EQ(r.Header("Allow"), "GET");
  r = Do(As("alice"), "POST", "/api/v0/repositories/alice/app/tags/v1");
  EXPECT_EQ(r.Header("Allow"), "DELETE, GET");
  // Paths no route matches go to the delegates first.
  ApiDeps deps = api_->deps();
  std::vector<std::string> asked;
  deps.delegates.push_back([&](http::Request& req, http::Response& res, const access::Principal&) {
    asked.push_back(req.path);
    if (req.path != "/api/v0/jobs") return false;
    res.status = 202;
    return true;
  });
  ApiServer with_jobs(std::move(deps));
  http::Request jobs;
  jobs.method = "GET";
  jobs.path = "/api/v0/jobs";
  http::Response jobs_res;
  ASSERT_TRUE(with_jobs.Handle(jobs, jobs_res, As("admin")));
  EXPECT_EQ(jobs_res.status, 202);
  jobs.path = "/api/v0/nothing";
  ASSERT_TRUE(with_jobs.Handle(jobs, jobs_res, As("admin")));
  EXPECT_EQ(jobs_res.status, 404);
  jobs.method = "PUT";
  jobs.path = "/api/v0/repositories";  // a known path: 405, not the delegates' business
  ASSERT_TRUE(with_jobs.Handle(jobs, jobs_res, As("admin")));
  EXPECT_EQ(jobs_res.status, 405);
  EXPECT_EQ(asked, (std::vector<std::string>{"/api/v0/jobs", "/api/v0/nothing"}));
  // A trailing slash is the same route.
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/").status, 200);
  // Other prefixes are not ours.
  http::Request req;
  req.method = "GET";
  req.path = "/v2/";
  http::Response res;
  EXPECT_FALSE(api_->Handle(req, res, As("alice")));
  req.path = "/api/v01";
  EXPECT_FALSE(api_->Handle(req, res, As("alice")));
  EXPECT_TRUE(IsApiPath("/enzi/v0"));
  EXPECT_TRUE(IsApiPath("/api/v0/x"));
  EXPECT_FALSE(IsApiPath("/enzi/v1/x"));
}

TEST_F(MetaTest, OversizedBodiesAndInternalErrors) {
  std::string big = R"({"name":"big","longDescription":")" + std::string(1 << 20, 'x') + "\"}";
  auto r = Do(As("alice"), "POST", "/api/v0/repositories/alice", big);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Code(), "INVALID_JSON");
  EXPECT_FALSE(identity_->GetRepository("alice", "big")->has_value());
  // A missing dependency is a 500 whose message points at the log, not at internals.
  ApiDeps deps = api_->deps();
  deps.settings = nullptr;
  ApiServer broken(std::move(deps));
  http::Request req;
  req.method = "GET";
  req.path = "/api/v0/meta/settings";
  http::Response res;
  ASSERT_TRUE(broken.Handle(req, res, As("admin")));
  EXPECT_EQ(res.status, 500);
  json body = json::parse(res.body);
  EXPECT_EQ(body["errors"][0]["code"], "INTERNAL_ERROR");
  EXPECT_EQ(body["errors"][0]["message"], "internal error; the server log has the details");
}

TEST(RouteTableTest, LiteralSegmentsWin) {
  RouteTable t;
  std::string hit;
  t.Add("GET", "/a/{x}/c", Caller::kAnyone, [&](Call&) { hit = "param"; });
  t.Add("GET", "/a/b/c", Caller::kAnyone, [&](Call&) { hit = "literal"; });
  t.Add("POST", "/a/{x}", Caller::kAnyone, nullptr);
  auto m = t.Find("GET", "/a/b/c");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/a/b/c");
  m = t.Find("GET", "/a/z/c");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/a/{x}/c");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"x", "z"}));
  m = t.Find("GET", "/a/z");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"POST"}));
  m = t.Find("GET", "/a//c");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
  EXPECT_EQ(SplitPath("/a/b/"), (std::vector<std::string>{"a", "b"}));
}

TEST(CallHelpersTest, Times) {
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc3339(1556712000), "2019-05-01T12:00:00Z");
  EXPECT_EQ(Rfc3339Millis(1556712000123), "2019-05-01T12:00:00.123Z");
  EXPECT_EQ(ParseRfc3339Millis("2019-05-01T12:00:00Z"), 1556712000000);
  EXPECT_EQ(ParseRfc3339Millis("2019-05-01T12:00:00.5Z"), 1556712000500);
  EXPECT_EQ(ParseRfc3339Millis("2019-05-01T14:00:00.123456+02:00"), 1556712000123);
  EXPECT_EQ(ParseRfc3339Millis("2019-05-01T07:30:00-04:30"), 1556712000000);
  for (const char* bad :
       {"", "2019-05-01", "2019-05-01T12:00:00", "2019-05-01 12:00:00Z", "2019-02-01T25:00:00Z",
        "2019-05-01T12:00:00.Z", "2019-05-01T12:00:00Zx", "2019-05-01T12:00:00+0200"}) {
    EXPECT_FALSE(ParseRfc3339Millis(bad).has_value()) << bad;
  }
}

TEST(CallHelpersTest, Names) {
  std::vector<std::string> good = {"ab", "alice", "a.b", "a_b-c", "x9", std::string(100, 'a')};
  for (const auto& g : good) {
    EXPECT_TRUE(ValidateAccountName(g, "account").ok()) << g;
  }
  std::vector<std::string> bad_names = {
      "a", "Alice", "a..b", "-ab", "ab-", "a b", "a/b", "ab__c", std::string(101, 'a')};
  for (const auto& bad : bad_names) {
    auto s = ValidateAccountName(bad, "account");
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("account names must be 2 to 100 characters"), std::string::npos);
  }
  EXPECT_TRUE(ValidateRepoComponent("ns", "my__repo--x").ok());
  EXPECT_FALSE(ValidateRepoComponent("ns", "a/b").ok());
  EXPECT_FALSE(ValidateRepoComponent("ns", std::string(253, 'a')).ok());
  EXPECT_TRUE(ValidateRepoComponent("ns", std::string(252, 'a')).ok());
}

TEST(CallHelpersTest, BoundBefore) {
  EXPECT_EQ(BoundBefore(""), "");
  EXPECT_EQ(BoundBefore("b"), "a");
  EXPECT_LT(BoundBefore("alice/a3"), "alice/a3");
  EXPECT_EQ(BoundBefore("alice/a3"), "alice/a2");
  // Callers skip what lies between the bound and the start ("alice/a2zzzz").
  EXPECT_LT(BoundBefore("alice/a3"), "alice/a2zzzz");
}

}  // namespace
}  // namespace dtr::api::testing
