// The permission model through /api/v0: team grants per repository and per namespace,
// additive teams, organization admins, own namespaces, public and private, anonymous; the
// team access endpoints; and user A learning nothing of user B's private repository.
#include <regex>

#include "api/api_test_util.h"

namespace dtr::api::testing {
namespace {

using meta::AccessLevel;

class AccessTest : public ApiFixture {
 protected:
  void SetUp() override {
    CreateOrg("eng");
    for (const char* t : {"readers", "writers", "admins", "ns-readers", "ns-admins"}) {
      CreateTeam("eng", t);
    }
    for (const char* u : {"reader", "writer", "radmin", "multi", "nsreader", "nsadmin", "orgadmin",
                          "member", "outsider"}) {
      CreateUser(u);
    }
    CreateRepo("eng", "app");
    AddToTeam("eng", "readers", "reader");
    AddToTeam("eng", "writers", "writer");
    AddToTeam("eng", "admins", "radmin");
    AddToTeam("eng", "readers", "multi");
    AddToTeam("eng", "writers", "multi");
    AddToTeam("eng", "ns-readers", "nsreader");
    AddToTeam("eng", "ns-admins", "nsadmin");
    AddToOrg("eng", "orgadmin", true);
    AddToOrg("eng", "member");
    GrantRepo("eng", "readers", "eng/app", AccessLevel::kReadOnly);
    GrantRepo("eng", "writers", "eng/app", AccessLevel::kReadWrite);
    GrantRepo("eng", "admins", "eng/app", AccessLevel::kAdmin);
    GrantNamespace("eng", "ns-readers", "eng", AccessLevel::kReadOnly);
    GrantNamespace("eng", "ns-admins", "eng", AccessLevel::kAdmin);
  }
};

TEST_F(AccessTest, PermissionMatrix) {
  struct Row {
    std::string user;
    std::string level;  // expected effective level; "" = cannot see
  };
  std::vector<Row> rows = {
      {"outsider", ""},          {"member", ""},           {"reader", "read-only"},
      {"nsreader", "read-only"}, {"writer", "read-write"}, {"multi", "read-write"},
      {"radmin", "admin"},       {"nsadmin", "admin"},     {"orgadmin", "admin"},
      {"admin", "admin"},
  };
  int n = 0;
  for (const auto& row : rows) {
    SCOPED_TRACE(row.user);
    auto who = As(row.user);
    std::string tag = "t" + std::to_string(n++);
    PushImage("eng/app", tag, "layer-" + tag);
    auto get = Get(who, "/api/v0/repositories/eng/app");
    auto del = Do(who, "DELETE", "/api/v0/repositories/eng/app/tags/" + tag);
    auto patch = Do(who, "PATCH", "/api/v0/repositories/eng/app", R"({"shortDescription":"x"})");
    auto team_access = Get(who, "/api/v0/repositories/eng/app/teamAccess");
    auto mine = Get(who, "/api/v0/accounts/" + row.user + "/repositoryAccess/eng/app");
    if (row.level.empty()) {
      for (const auto* r : {&get, &del, &patch, &team_access, &mine}) {
        EXPECT_EQ(r->status, 404) << *r;
        EXPECT_EQ(r->Code(), "NO_SUCH_REPOSITORY");
      }
      continue;
    }
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(mine.status, 200) << mine;
    EXPECT_EQ(mine.Json()["accessLevel"], row.level);
    EXPECT_EQ(mine.Json()["user"]["name"], row.user);
    EXPECT_EQ(mine.Json()["repository"]["name"], "app");
    bool can_write = row.level != "read-only";
    bool is_admin = row.level == "admin";
    EXPECT_EQ(del.status, can_write ? 204 : 403) << del;
    EXPECT_EQ(meta_->GetTag("eng/app", tag)->has_value(), !can_write);
    EXPECT_EQ(patch.status, is_admin ? 200 : 403) << patch;
    EXPECT_EQ(team_access.status, is_admin ? 200 : 403) << team_access;
  }
}

TEST_F(AccessTest, PublicRepositoriesAndAnonymous) {
  CreateRepo("eng", "open", "public");
  PushImage("eng/open", "v1", "l1");
  auto anon = Anonymous();
  EXPECT_EQ(Get(anon, "/api/v0/repositories/eng/open").status, 200);
  EXPECT_EQ(Get(anon, "/api/v0/repositories/eng/open/tags").Json().size(), 1u);
  EXPECT_EQ(Get(anon, "/api/v0/repositories/eng/app").Code(), "NO_SUCH_REPOSITORY");
  auto del = Do(anon, "DELETE", "/api/v0/repositories/eng/open/tags/v1");
  EXPECT_EQ(del.status, 401);
  EXPECT_EQ(del.Header("WWW-Authenticate"), "Basic realm=\"dtr\"");
  // Any user reads a public repository but may not write to it.
  auto r = Get(As("outsider"), "/api/v0/accounts/outsider/repositoryAccess/eng/open");
  EXPECT_EQ(r.Json()["accessLevel"], "read-only");
  EXPECT_EQ(Do(As("outsider"), "DELETE", "/api/v0/repositories/eng/open/tags/v1").Code(),
            "NOT_AUTHORIZED");
  // Own namespace: admin.
  CreateRepo("outsider", "mine");
  r = Get(As("outsider"), "/api/v0/accounts/outsider/repositoryAccess/outsider/mine");
  EXPECT_EQ(r.Json()["accessLevel"], "admin");
}

TEST_F(AccessTest, RepositoryAccessIsSelfOrAdmin) {
  auto r = Get(As("reader"), "/api/v0/accounts/writer/repositoryAccess/eng/app");
  EXPECT_EQ(r.Code(), "NOT_AUTHORIZED");
  r = Get(As("admin"), "/api/v0/accounts/writer/repositoryAccess/eng/app");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["accessLevel"], "read-write");
  r = Get(As("admin"), "/api/v0/accounts/outsider/repositoryAccess/eng/app");
  EXPECT_EQ(r.Json()["accessLevel"], "none");
  EXPECT_EQ(Get(As("admin"), "/api/v0/accounts/ghost/repositoryAccess/eng/app").Code(),
            "NO_SUCH_USER");
  EXPECT_EQ(Get(As("admin"), "/api/v0/accounts/eng/repositoryAccess/eng/app").Code(),
            "NO_SUCH_USER");
  EXPECT_EQ(Get(As("admin"), "/api/v0/accounts/writer/repositoryAccess/eng/nope").Code(),
            "NO_SUCH_REPOSITORY");
}

TEST_F(AccessTest, RepositoryTeamAccess) {
  std::string url = "/api/v0/repositories/eng/app/teamAccess";
  auto r = Get(As("radmin"), url);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["repository"]["name"], "app");
  std::map<std::string, std::string> levels;
  json body = r.Json();
  for (const auto& a : body["teamAccessList"]) levels[a["team"]["name"]] = a["accessLevel"];
  EXPECT_EQ(levels, (std::map<std::string, std::string>{
                        {"admins", "admin"}, {"readers", "read-only"}, {"writers", "read-write"}}));
  // Grant, change, revoke.
  EXPECT_EQ(Do(As("writer"), "PUT", url + "/ns-readers", R"({"accessLevel":"admin"})").Code(),
            "NOT_AUTHORIZED");
  r = Do(As("radmin"), "PUT", url + "/readers", R"({"accessLevel":"read-write"})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["accessLevel"], "read-write");
  EXPECT_EQ(r.Json()["team"]["name"], "readers");
  EXPECT_EQ(r.Json()["repository"]["name"], "app");
  EXPECT_EQ(
      Get(As("reader"), "/api/v0/accounts/reader/repositoryAccess/eng/app").Json()["accessLevel"],
      "read-write");
  EXPECT_EQ(Do(As("radmin"), "PUT", url + "/readers", R"({"accessLevel":"owner"})").Code(),
            "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("radmin"), "PUT", url + "/readers", R"({})").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("radmin"), "PUT", url + "/ghosts", R"({"accessLevel":"admin"})").Code(),
            "NO_SUCH_TEAM");
  EXPECT_EQ(Do(As("radmin"), "DELETE", url + "/readers").status, 204);
  EXPECT_EQ(Do(As("radmin"), "DELETE", url + "/readers").status, 204);
  EXPECT_EQ(Get(As("reader"), "/api/v0/repositories/eng/app").Code(), "NO_SUCH_REPOSITORY");
  // Teams belong to organizations: not for user repositories.
  CreateRepo("outsider", "mine");
  EXPECT_EQ(Do(As("outsider"), "PUT", "/api/v0/repositories/outsider/mine/teamAccess/readers",
               R"({"accessLevel":"admin"})")
                .Code(),
            "INVALID_PARAMETERS");
  EXPECT_TRUE(Get(As("outsider"), "/api/v0/repositories/outsider/mine/teamAccess")
                  .Json()["teamAccessList"]
                  .empty());
}

TEST_F(AccessTest, NamespaceTeamAccess) {
  std::string url = "/api/v0/repositoryNamespaces/eng/teamAccess";
  auto r = Get(As("orgadmin"), url);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["namespace"]["name"], "eng");
  EXPECT_EQ(r.Json()["teamAccessList"].size(), 2u);
  EXPECT_EQ(Get(As("nsreader"), url).Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Get(As("nsadmin"), url).status, 200);
  r = Get(As("orgadmin"), url + "/ns-readers");
  EXPECT_EQ(r.Json()["accessLevel"], "read-only");
  EXPECT_EQ(r.Json()["team"]["name"], "ns-readers");
  EXPECT_EQ(r.Json()["namespace"]["name"], "eng");
  EXPECT_EQ(Get(As("orgadmin"), url + "/writers").Code(), "NO_SUCH_NAMESPACE_TEAM_ACCESS");
  // A namespace grant reaches every repository, present and future.
  r = Do(As("orgadmin"), "PUT", url + "/writers", R"({"accessLevel":"read-write"})");
  ASSERT_EQ(r.status, 200) << r;
  CreateRepo("eng", "later");
  EXPECT_EQ(
      Get(As("writer"), "/api/v0/accounts/writer/repositoryAccess/eng/later").Json()["accessLevel"],
      "read-write");
  EXPECT_EQ(Do(As("member"), "PUT", url + "/writers", R"({"accessLevel":"admin"})").Code(),
            "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("orgadmin"), "PUT", url + "/writers", R"({"accessLevel":1})").Code(),
            "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("orgadmin"), "DELETE", url + "/writers").status, 204);
  EXPECT_EQ(Get(As("writer"), "/api/v0/repositories/eng/later").Code(), "NO_SUCH_REPOSITORY");
  EXPECT_EQ(Get(As("admin"), "/api/v0/repositoryNamespaces/ghost/teamAccess").Code(),
            "NO_SUCH_ACCOUNT");
  EXPECT_EQ(Do(As("admin"), "PUT", "/api/v0/repositoryNamespaces/outsider/teamAccess/readers",
               R"({"accessLevel":"admin"})")
                .Code(),
            "INVALID_PARAMETERS");
}

TEST_F(AccessTest, TeamRepositoryAccess) {
  CreateRepo("eng", "other");
  GrantRepo("eng", "readers", "eng/other", AccessLevel::kAdmin);
  auto r = Get(As("orgadmin"), "/api/v0/accounts/eng/teams/readers/repositoryAccess");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["team"]["name"], "readers");
  auto list = r.Json()["repositoryAccessList"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["repository"]["name"], "app");
  EXPECT_EQ(list[0]["accessLevel"], "read-only");
  EXPECT_EQ(list[1]["accessLevel"], "admin");
  // A member sees only grants on repositories they can read.
  r = Get(As("writer"), "/api/v0/accounts/eng/teams/readers/repositoryAccess");
  ASSERT_EQ(r.Json()["repositoryAccessList"].size(), 1u);
  EXPECT_EQ(r.Json()["repositoryAccessList"][0]["repository"]["name"], "app");
  r = Get(As("orgadmin"), "/api/v0/accounts/eng/teams/readers/repositoryAccess?pageSize=1");
  EXPECT_EQ(r.Json()["repositoryAccessList"].size(), 1u);
  EXPECT_EQ(r.Header("X-Next-Page-Start"), "eng/other");
  EXPECT_EQ(Get(As("outsider"), "/api/v0/accounts/eng/teams/readers/repositoryAccess").Code(),
            "NOT_AUTHORIZED");
  EXPECT_EQ(Get(As("admin"), "/api/v0/accounts/eng/teams/ghosts/repositoryAccess").Code(),
            "NO_SUCH_TEAM");
}

// ---- isolation ----

// User A probes every /api/v0 endpoint that names a repository, once for B's private
// repository and once for one that does not exist: the replies must be the same.
TEST_F(AccessTest, PrivateRepositoryOfAnotherUserIsIndistinguishableFromNone) {
  CreateUser("usera");
  CreateUser("userb");
  CreateRepo("userb", "secret");
  PushImage("userb/secret", "v1", "private-layer");
  auto a = As("usera");
  ASSERT_EQ(Do(As("userb"), "PATCH", "/api/v0/repositories/userb/secret",
               R"({"shortDescription":"hush"})")
                .status,
            200);
  struct Probe {
    std::string method, path, body;
  };
  std::vector<Probe> probes = {
      {"GET", "", ""},
      {"PATCH", "", R"({"visibility":"public"})"},
      {"DELETE", "", ""},
      {"GET", "/tags", ""},
      {"GET", "/tags?includeManifests=true", ""},
      {"GET", "/tags/v1", ""},
      {"GET", "/tags/nope", ""},
      {"DELETE", "/tags/v1", ""},
      {"GET", "/manifests", ""},
      {"GET", "/events", ""},
      {"GET", "/teamAccess", ""},
      {"PUT", "/teamAccess/devs", R"({"accessLevel":"admin"})"},
      {"DELETE", "/teamAccess/devs", ""},
  };
  for (const auto& p : probes) {
    auto secret = Do(a, p.method, "/api/v0/repositories/userb/secret" + p.path, p.body);
    auto none = Do(a, p.method, "/api/v0/repositories/userb/nothing" + p.path, p.body);
    EXPECT_EQ(secret.status, none.status) << p.method << " " << p.path;
    EXPECT_EQ(std::regex_replace(secret.body, std::regex("secret"), "X"),
              std::regex_replace(none.body, std::regex("nothing"), "X"))
        << p.method << " " << p.path;
    EXPECT_EQ(secret.body.find("hush"), std::string::npos);
  }
  // Creating one in B's namespace is refused before the name is looked at.
  auto create_secret = Do(a, "POST", "/api/v0/repositories/userb", R"({"name":"secret"})");
  auto create_none = Do(a, "POST", "/api/v0/repositories/userb", R"({"name":"nothing"})");
  EXPECT_EQ(create_secret.status, 403);
  EXPECT_EQ(create_secret.body, create_none.body);
  auto mine = Get(a, "/api/v0/accounts/usera/repositoryAccess/userb/secret");
  auto none = Get(a, "/api/v0/accounts/usera/repositoryAccess/userb/nothing");
  EXPECT_EQ(mine.status, 404);
  EXPECT_EQ(std::regex_replace(mine.body, std::regex("secret"), "X"),
            std::regex_replace(none.body, std::regex("nothing"), "X"));
  // Listings and counts leave it out; the event stream says nothing about it.
  for (const char* list :
       {"/api/v0/repositories?count=true", "/api/v0/repositories/userb?count=true",
        "/api/v0/events?count=true&pageSize=1000"}) {
    auto r = Get(a, list);
    ASSERT_EQ(r.status, 200) << list << " " << r;
    EXPECT_EQ(r.body.find("userb/secret"), std::string::npos) << list;
    EXPECT_EQ(r.body.find("\"secret\""), std::string::npos) << list;
    EXPECT_EQ(r.Header("X-Resource-Count"), "0") << list;
  }
  // Nothing changed.
  auto rec = *identity_->GetRepository("userb", "secret");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->visibility, "private");
  EXPECT_TRUE(meta_->GetTag("userb/secret", "v1")->has_value());
}

}  // namespace
}  // namespace dtr::api::testing
