// /enzi/v0: accounts, organization members, teams and team members; and DELETE
// /api/v0/accounts/{namespace}.
#include "api/api_test_util.h"
#include "auth/password.h"

namespace dtr::api::testing {
namespace {

class AccountsTest : public ApiFixture {
 protected:
  size_t AccountCount() {
    auto all = identity_->ListAccounts("all", "", 0);
    return all.ok() ? all->size() : 0;
  }
};

TEST_F(AccountsTest, AdminCreatesUser) {
  Secret("correct-horse-1");
  auto r = Do(As("admin"), "POST", "/enzi/v0/accounts",
              R"({"name":"bob","fullName":"Bob Builder","password":"correct-horse-1"})");
  ASSERT_EQ(r.status, 201) << r;
  json j = r.Json();
  EXPECT_EQ(j["name"], "bob");
  EXPECT_EQ(j["fullName"], "Bob Builder");
  EXPECT_EQ(j["isOrg"], false);
  EXPECT_EQ(j["isAdmin"], false);
  EXPECT_EQ(j["isActive"], true);
  EXPECT_EQ(j["isImported"], false);
  EXPECT_EQ(j["membersCount"], 0);
  EXPECT_FALSE(j["id"].get<std::string>().empty());
  EXPECT_FALSE(j.contains("password"));
  EXPECT_FALSE(j.contains("passwordHash"));
  auto stored = identity_->GetAccount("bob");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->id, j["id"]);
  EXPECT_TRUE(auth::VerifyPassword("correct-horse-1", (*stored)->password_hash));
  Secret((*stored)->password_hash);
  // An admin user, inactive from the start.
  r = Do(As("admin"), "POST", "/enzi/v0/accounts",
         R"({"name":"root2","password":"correct-horse-1","isAdmin":true,"isActive":false})");
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.Json()["isAdmin"], true);
  EXPECT_EQ(r.Json()["isActive"], false);
}

TEST_F(AccountsTest, OnlyAdminsCreateUsers) {
  CreateUser("alice");
  size_t before = AccountCount();
  auto r = Do(As("alice"), "POST", "/enzi/v0/accounts",
              R"({"name":"mallory","password":"long-enough-pw"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Code(), "NOT_AUTHORIZED");
  r = Do(Anonymous(), "POST", "/enzi/v0/accounts", R"({"name":"mallory","password":"xxxxxxxxx"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Code(), "NOT_AUTHENTICATED");
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Basic realm=\"dtr\"");
  EXPECT_EQ(AccountCount(), before);
}

TEST_F(AccountsTest, AnyUserCreatesAnOrganizationAndAdministersIt) {
  CreateUser("alice");
  auto r = Do(As("alice"), "POST", "/enzi/v0/accounts",
              R"({"name":"acme","fullName":"Acme Inc","isOrg":true})");
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.Json()["isOrg"], true);
  EXPECT_EQ(r.Json()["membersCount"], 1);
  r = Get(As("alice"), "/enzi/v0/accounts/acme/members/alice");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["isAdmin"], true);
  EXPECT_EQ(r.Json()["member"]["name"], "alice");
  // Organizations are never admins and have no password.
  r = Do(As("alice"), "POST", "/enzi/v0/accounts",
         R"({"name":"acme2","isOrg":true,"isAdmin":true})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Code(), "INVALID_PARAMETERS");
  r = Do(As("alice"), "POST", "/enzi/v0/accounts",
         R"({"name":"acme3","isOrg":true,"password":"whatever-pw"})");
  EXPECT_EQ(r.Code(), "INVALID_PARAMETERS");
}

TEST_F(AccountsTest, CreateRejectsBadInputAndStoresNothing) {
  size_t before = AccountCount();
  auto admin = As("admin");
  struct Case {
    std::string body, code, message_part;
  };
  std::vector<Case> cases = {
      {"{not json", "INVALID_JSON", "not valid JSON"},
      {"", "INVALID_JSON", "empty"},
      {"[1,2]", "INVALID_JSON", "JSON object"},
      {R"({"password":"long-enough-pw"})", "INVALID_PARAMETERS", "'name' is required"},
      {R"({"name":42,"password":"long-enough-pw"})", "INVALID_PARAMETERS", "must be a string"},
      {R"({"name":"ok-name","isOrg":"yes"})", "INVALID_PARAMETERS", "must be a boolean"},
      {R"({"name":"Bob","password":"long-enough-pw"})", "INVALID_PARAMETERS", "lowercase"},
      {R"({"name":"b","password":"long-enough-pw"})", "INVALID_PARAMETERS", "2 to 100"},
      {R"({"name":"-bob","password":"long-enough-pw"})", "INVALID_PARAMETERS", "separated"},
      {R"({"name":"bo..b","password":"long-enough-pw"})", "INVALID_PARAMETERS", "separated"},
      {R"({"name":"bob"})", "INVALID_PARAMETERS", "'password' is required"},
      {R"({"name":"bob","password":"short"})", "INVALID_PARAMETERS", "at least 8"},
  };
  for (const auto& c : cases) {
    auto r = Do(admin, "POST", "/enzi/v0/accounts", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r;
    EXPECT_EQ(r.Code(), c.code) << c.body;
    EXPECT_NE(r.Json()["errors"][0]["message"].get<std::string>().find(c.message_part),
              std::string::npos)
        << c.body << " -> " << r;
  }
  EXPECT_EQ(AccountCount(), before);
  auto r =
      Do(admin, "POST", "/enzi/v0/accounts", R"({"name":"admin","password":"long-enough-pw"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Code(), "ACCOUNT_EXISTS");
}

TEST_F(AccountsTest, ListFiltersAndPages) {
  for (const char* n : {"user-a", "user-b", "user-c"}) CreateUser(n);
  CreateOrg("org-x");
  CreateOrg("org-y");
  auto me = As("user-a");
  auto names = [](const Reply& r) {
    std::vector<std::string> out;
    json body = r.Json();
    for (const auto& a : body["accounts"]) out.push_back(a["name"]);
    return out;
  };
  auto r = Get(me, "/enzi/v0/accounts?filter=orgs");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(names(r), (std::vector<std::string>{"org-x", "org-y"}));
  r = Get(me, "/enzi/v0/accounts?filter=admins");
  EXPECT_EQ(names(r), (std::vector<std::string>{"admin"}));
  r = Get(me, "/enzi/v0/accounts?filter=non-admins");
  EXPECT_EQ(names(r), (std::vector<std::string>{"user-a", "user-b", "user-c"}));
  r = Get(me, "/enzi/v0/accounts?filter=users");
  EXPECT_EQ(names(r), (std::vector<std::string>{"admin", "user-a", "user-b", "user-c"}));
  r = Get(me, "/enzi/v0/accounts");
  EXPECT_EQ(names(r).size(), 6u);
  // Pages of two.
  r = Get(me, "/enzi/v0/accounts?limit=2");
  EXPECT_EQ(names(r), (std::vector<std::string>{"admin", "org-x"}));
  EXPECT_EQ(r.Json()["nextPageStart"], "org-y");
  EXPECT_EQ(r.Header("X-Next-Page-Start"), "org-y");
  r = Get(me, "/enzi/v0/accounts?limit=2&start=org-y");
  EXPECT_EQ(names(r), (std::vector<std::string>{"org-y", "user-a"}));
  r = Get(me, "/enzi/v0/accounts?limit=2&start=user-b");
  EXPECT_EQ(names(r), (std::vector<std::string>{"user-b", "user-c"}));
  EXPECT_EQ(r.Json()["nextPageStart"], "");
  // Bad parameters.
  EXPECT_EQ(Get(me, "/enzi/v0/accounts?filter=robots").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Get(me, "/enzi/v0/accounts?limit=0").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Get(me, "/enzi/v0/accounts?limit=ten").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Get(Anonymous(), "/enzi/v0/accounts").status, 401);
}

TEST_F(AccountsTest, GetByNameOrId) {
  auto bob = CreateUser("bob");
  auto r = Get(As("admin"), "/enzi/v0/accounts/bob");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["id"], bob.id);
  EXPECT_EQ(r.Json()["fullName"], "User bob");
  r = Get(As("admin"), "/enzi/v0/accounts/" + bob.id);
  EXPECT_EQ(r.Json()["name"], "bob");
  r = Get(As("admin"), "/enzi/v0/accounts/nobody");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Code(), "NO_SUCH_ACCOUNT");
}

TEST_F(AccountsTest, Update) {
  CreateUser("bob");
  CreateUser("carol");
  auto r = Do(As("bob"), "PATCH", "/enzi/v0/accounts/bob", R"({"fullName":"Robert"})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["fullName"], "Robert");
  EXPECT_EQ((*identity_->GetAccount("bob"))->full_name, "Robert");
  // Users cannot make themselves admins or touch others.
  r = Do(As("bob"), "PATCH", "/enzi/v0/accounts/bob", R"({"isAdmin":true})");
  EXPECT_EQ(r.Code(), "NOT_AUTHORIZED");
  EXPECT_FALSE((*identity_->GetAccount("bob"))->is_admin);
  r = Do(As("bob"), "PATCH", "/enzi/v0/accounts/carol", R"({"fullName":"Hacked"})");
  EXPECT_EQ(r.Code(), "NOT_AUTHORIZED");
  EXPECT_EQ((*identity_->GetAccount("carol"))->full_name, "User carol");
  // Admins can.
  r = Do(As("admin"), "PATCH", "/enzi/v0/accounts/carol", R"({"isActive":false,"isAdmin":true})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["isActive"], false);
  EXPECT_EQ(r.Json()["isAdmin"], true);
  // An inactive account is not authenticated anywhere.
  r = Get(As("carol"), "/enzi/v0/accounts/bob");
  EXPECT_EQ(r.status, 401);
  // Organization admins rename their organization; it cannot become an admin.
  CreateOrg("acme");
  AddToOrg("acme", "bob", true);
  r = Do(As("bob"), "PATCH", "/enzi/v0/accounts/acme", R"({"fullName":"Acme Corp"})");
  EXPECT_EQ(r.status, 200) << r;
  r = Do(As("admin"), "PATCH", "/enzi/v0/accounts/acme", R"({"isAdmin":true})");
  EXPECT_EQ(r.Code(), "INVALID_PARAMETERS");
  r = Do(As("admin"), "PATCH", "/enzi/v0/accounts/bob", R"({"fullName":7})");
  EXPECT_EQ(r.Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("admin"), "PATCH", "/enzi/v0/accounts/ghost", "{}").Code(), "NO_SUCH_ACCOUNT");
}

TEST_F(AccountsTest, DeleteRemovesAccountAndItsRepositories) {
  CreateUser("bob");
  CreateRepo("bob", "app");
  PushImage("bob/app", "v1", "layer-1");
  EXPECT_EQ(Do(As("bob"), "DELETE", "/enzi/v0/accounts/bob").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("admin"), "DELETE", "/enzi/v0/accounts/admin").Code(), "INVALID_PARAMETERS");
  auto r = Do(As("admin"), "DELETE", "/enzi/v0/accounts/bob");
  ASSERT_EQ(r.status, 204) << r;
  EXPECT_FALSE(identity_->GetAccount("bob")->has_value());
  EXPECT_FALSE(identity_->GetRepository("bob", "app")->has_value());
  EXPECT_FALSE(registry_->GetManifest("bob/app", "v1").ok());
  EXPECT_EQ(Do(As("admin"), "DELETE", "/enzi/v0/accounts/bob").Code(), "NO_SUCH_ACCOUNT");
}

TEST_F(AccountsTest, ApiDeleteAccountIsIdempotent) {
  CreateOrg("acme");
  CreateRepo("acme", "one");
  CreateRepo("acme", "two");
  PushImage("acme/one", "latest", "l1");
  CreateUser("bob");
  EXPECT_EQ(Do(As("bob"), "DELETE", "/api/v0/accounts/acme").status, 403);
  EXPECT_TRUE(identity_->GetAccount("acme")->has_value());
  auto r = Do(As("admin"), "DELETE", "/api/v0/accounts/acme");
  ASSERT_EQ(r.status, 204) << r;
  EXPECT_FALSE(identity_->GetAccount("acme")->has_value());
  EXPECT_TRUE(identity_->ListRepositoryRecords("acme", "", 0)->empty());
  EXPECT_FALSE(*meta_->RepositoryExists("acme/one"));
  EXPECT_EQ(Do(As("admin"), "DELETE", "/api/v0/accounts/acme").status, 204);
  EXPECT_EQ(Do(As("admin"), "DELETE", "/api/v0/accounts/never-was").status, 204);
}

TEST_F(AccountsTest, ChangePassword) {
  CreateUser("bob");
  CreateUser("carol");
  std::string url = "/enzi/v0/accounts/bob/changePassword";
  Secret("brand-new-password");
  auto r = Do(As("bob"), "POST", url,
              R"({"oldPassword":"wrong-password","newPassword":"brand-new-password"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Code(), "NOT_AUTHORIZED");
  r = Do(As("bob"), "POST", url, R"({"newPassword":"brand-new-password"})");
  EXPECT_EQ(r.Code(), "INVALID_PARAMETERS");
  r = Do(As("bob"), "POST", url,
         R"({"oldPassword":")" + Password("bob") + R"(","newPassword":"short"})");
  EXPECT_EQ(r.Code(), "INVALID_PARAMETERS");
  r = Do(As("bob"), "POST", url,
         R"({"oldPassword":")" + Password("bob") + R"(","newPassword":"brand-new-password"})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["name"], "bob");
  auto hash = (*identity_->GetAccount("bob"))->password_hash;
  Secret(hash);
  EXPECT_TRUE(auth::VerifyPassword("brand-new-password", hash));
  // Someone else: refused; an admin needs no old password.
  r = Do(As("carol"), "POST", url, R"({"newPassword":"carols-choice-pw"})");
  EXPECT_EQ(r.Code(), "NOT_AUTHORIZED");
  r = Do(As("admin"), "POST", url, R"({"newPassword":"admins-choice-pw"})");
  ASSERT_EQ(r.status, 200) << r;
  Secret((*identity_->GetAccount("bob"))->password_hash);
  EXPECT_TRUE(
      auth::VerifyPassword("admins-choice-pw", (*identity_->GetAccount("bob"))->password_hash));
  CreateOrg("acme");
  r = Do(As("admin"), "POST", "/enzi/v0/accounts/acme/changePassword",
         R"({"newPassword":"whatever-pw"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Code(), "NO_SUCH_USER");
}

TEST_F(AccountsTest, UserOrganizationsHidePrivateMemberships) {
  CreateUser("bob");
  CreateUser("carol");
  CreateOrg("open");
  CreateOrg("hidden");
  auto open = *identity_->GetAccount("open");
  auto hidden = *identity_->GetAccount("hidden");
  auto bob = *identity_->GetAccount("bob");
  ASSERT_TRUE(identity_->SetOrgMember({open->id, bob->id, false, true}).ok());
  ASSERT_TRUE(identity_->SetOrgMember({hidden->id, bob->id, true, false}).ok());
  auto orgs = [](const Reply& r) {
    std::vector<std::string> out;
    json body = r.Json();
    for (const auto& m : body["memberOrgs"]) out.push_back(m["org"]["name"]);
    return out;
  };
  auto r = Get(As("bob"), "/enzi/v0/accounts/bob/organizations");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(orgs(r), (std::vector<std::string>{"hidden", "open"}));
  EXPECT_EQ(r.Json()["memberOrgs"][0]["isAdmin"], true);
  EXPECT_EQ(orgs(Get(As("carol"), "/enzi/v0/accounts/bob/organizations")),
            (std::vector<std::string>{"open"}));
  EXPECT_EQ(orgs(Get(As("admin"), "/enzi/v0/accounts/bob/organizations")).size(), 2u);
  EXPECT_EQ(Get(As("bob"), "/enzi/v0/accounts/nobody/organizations").Code(), "NO_SUCH_USER");
}

// ---- organization members ----

class OrgsTest : public ApiFixture {
 protected:
  void SetUp() override {
    CreateUser("boss");     // org admin
    CreateUser("worker");   // org member, private
    CreateUser("visible");  // org member, public
    CreateUser("outsider");
    CreateOrg("acme");
    AddToOrg("acme", "boss", true);
    AddToOrg("acme", "worker");
    auto acme = *identity_->GetAccount("acme");
    auto v = *identity_->GetAccount("visible");
    ASSERT_TRUE(identity_->SetOrgMember({acme->id, v->id, false, true}).ok());
  }
  static std::vector<std::string> Members(const Reply& r) {
    std::vector<std::string> out;
    json body = r.Json();
    for (const auto& m : body["members"]) out.push_back(m["member"]["name"]);
    return out;
  }
};

TEST_F(OrgsTest, ListMembers) {
  auto r = Get(As("worker"), "/enzi/v0/accounts/acme/members");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(Members(r), (std::vector<std::string>{"boss", "visible", "worker"}));
  EXPECT_EQ(Members(Get(As("outsider"), "/enzi/v0/accounts/acme/members")),
            (std::vector<std::string>{"visible"}));
  EXPECT_EQ(Members(Get(As("worker"), "/enzi/v0/accounts/acme/publicMembers")),
            (std::vector<std::string>{"visible"}));
  EXPECT_EQ(Members(Get(As("admin"), "/enzi/v0/accounts/acme/members?filter=admins")),
            (std::vector<std::string>{"boss"}));
  EXPECT_EQ(Members(Get(As("admin"), "/enzi/v0/accounts/acme/members?filter=non-admins")),
            (std::vector<std::string>{"visible", "worker"}));
  r = Get(As("admin"), "/enzi/v0/accounts/acme/members?limit=1&start=visible");
  EXPECT_EQ(Members(r), (std::vector<std::string>{"visible"}));
  EXPECT_EQ(r.Json()["nextPageStart"], "worker");
  EXPECT_EQ(Get(As("admin"), "/enzi/v0/accounts/acme/members?filter=x").Code(),
            "INVALID_PARAMETERS");
  EXPECT_EQ(Get(As("admin"), "/enzi/v0/accounts/nope/members").Code(), "NO_SUCH_ACCOUNT");
  EXPECT_EQ(Get(As("admin"), "/enzi/v0/accounts/boss/members").Code(), "NO_SUCH_ACCOUNT");
}

TEST_F(OrgsTest, MembershipLifecycle) {
  std::string url = "/enzi/v0/accounts/acme/members/outsider";
  EXPECT_EQ(Get(As("worker"), url).Code(), "NO_SUCH_USER");
  // Only org admins add members.
  EXPECT_EQ(Do(As("worker"), "PUT", url, R"({"isAdmin":false})").Code(), "NOT_AUTHORIZED");
  auto r = Do(As("boss"), "PUT", url, R"({"isAdmin":false,"isPublic":true})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["member"]["name"], "outsider");
  EXPECT_EQ(r.Json()["isPublic"], true);
  r = Get(As("worker"), url);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["isAdmin"], false);
  // A member may hide themselves but not promote themselves.
  r = Do(As("outsider"), "PATCH", url, R"({"isPublic":false})");
  EXPECT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["isPublic"], false);
  EXPECT_EQ(Do(As("outsider"), "PATCH", url, R"({"isAdmin":true})").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("worker"), "PATCH", url, R"({"isPublic":true})").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("boss"), "PATCH", url, R"({"isAdmin":"yes"})").Code(), "INVALID_PARAMETERS");
  r = Do(As("boss"), "PATCH", url, R"({"isAdmin":true})");
  EXPECT_EQ(r.Json()["isAdmin"], true);
  // Organizations cannot be members; unknown users are NO_SUCH_USER.
  CreateOrg("other");
  EXPECT_EQ(Do(As("boss"), "PUT", "/enzi/v0/accounts/acme/members/other", "{}").Code(),
            "NO_SUCH_USER");
  EXPECT_EQ(Do(As("boss"), "PUT", "/enzi/v0/accounts/acme/members/ghost", "{}").Code(),
            "NO_SUCH_USER");
  // Leaving.
  EXPECT_EQ(Do(As("outsider"), "DELETE", url).status, 204);
  EXPECT_EQ(Get(As("boss"), url).Code(), "NO_SUCH_USER");
  EXPECT_EQ(Do(As("visible"), "DELETE", "/enzi/v0/accounts/acme/members/worker").Code(),
            "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("boss"), "DELETE", "/enzi/v0/accounts/acme/members/worker").status, 204);
  EXPECT_EQ(Members(Get(As("boss"), "/enzi/v0/accounts/acme/members")),
            (std::vector<std::string>{"boss", "visible"}));
}

TEST_F(OrgsTest, Teams) {
  std::string teams = "/enzi/v0/accounts/acme/teams";
  EXPECT_EQ(Do(As("worker"), "POST", teams, R"({"name":"devs"})").Code(), "NOT_AUTHORIZED");
  auto r = Do(As("boss"), "POST", teams, R"({"name":"devs","description":"Developers"})");
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.Json()["name"], "devs");
  EXPECT_EQ(r.Json()["description"], "Developers");
  EXPECT_EQ(r.Json()["orgID"], (*identity_->GetAccount("acme"))->id);
  std::string id = r.Json()["id"];
  EXPECT_EQ(Do(As("boss"), "POST", teams, R"({"name":"devs"})").Code(), "TEAM_EXISTS");
  EXPECT_EQ(Do(As("boss"), "POST", teams, R"({"name":"Dev Team"})").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("boss"), "POST", teams, R"({"description":"x"})").Code(), "INVALID_PARAMETERS");
  ASSERT_EQ(Do(As("boss"), "POST", teams, R"({"name":"ops"})").status, 201);
  // Members list; outsiders may not.
  r = Get(As("worker"), teams);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json()["teams"].size(), 2u);
  EXPECT_EQ(r.Json()["teams"][0]["name"], "devs");
  EXPECT_EQ(Get(As("outsider"), teams).Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Get(As("worker"), teams + "/" + id).Json()["name"], "devs");
  EXPECT_EQ(Get(As("worker"), teams + "/nope").Code(), "NO_SUCH_TEAM");
  // Rename and describe.
  r = Do(As("boss"), "PATCH", teams + "/devs", R"({"name":"developers","description":"Devs"})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["name"], "developers");
  EXPECT_EQ(r.Json()["id"], id);
  EXPECT_EQ(Do(As("boss"), "PATCH", teams + "/developers", R"({"name":"ops"})").Code(),
            "TEAM_EXISTS");
  EXPECT_EQ(Do(As("worker"), "PATCH", teams + "/developers", R"({"name":"x1"})").Code(),
            "NOT_AUTHORIZED");
  // Delete, with its grants.
  GrantNamespace("acme", "developers", "acme", meta::AccessLevel::kReadWrite);
  EXPECT_EQ(Do(As("worker"), "DELETE", teams + "/developers").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("boss"), "DELETE", teams + "/developers").status, 204);
  EXPECT_EQ(Get(As("boss"), teams + "/developers").Code(), "NO_SUCH_TEAM");
  EXPECT_TRUE(identity_->ListNamespaceGrants("acme")->empty());
}

TEST_F(OrgsTest, TeamMembers) {
  CreateTeam("acme", "devs");
  std::string base = "/enzi/v0/accounts/acme/teams/devs/members";
  EXPECT_EQ(Do(As("worker"), "PUT", base + "/outsider", "").Code(), "NOT_AUTHORIZED");
  // Adding someone to a team adds them to the organization.
  auto r = Do(As("boss"), "PUT", base + "/outsider", "");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["member"]["name"], "outsider");
  auto acme = *identity_->GetAccount("acme");
  auto outsider = *identity_->GetAccount("outsider");
  EXPECT_TRUE(identity_->GetOrgMember(acme->id, outsider->id)->has_value());
  ASSERT_EQ(Do(As("boss"), "PUT", base + "/worker", R"({"isAdmin":true})").status, 200);
  r = Get(As("worker"), base);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Members(r), (std::vector<std::string>{"outsider", "worker"}));
  EXPECT_EQ(Get(As("worker"), base + "/worker").Json()["isAdmin"], true);
  EXPECT_EQ(Get(As("worker"), base + "/boss").Code(), "NO_SUCH_USER");
  r = Do(As("boss"), "PATCH", base + "/worker", R"({"isAdmin":false})");
  EXPECT_EQ(r.Json()["isAdmin"], false);
  EXPECT_EQ(Do(As("boss"), "PATCH", base + "/boss", "{}").Code(), "NO_SUCH_USER");
  // A member's teams.
  r = Get(As("worker"), "/enzi/v0/accounts/acme/members/outsider/teams");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.Json()["memberTeams"].size(), 1u);
  EXPECT_EQ(r.Json()["memberTeams"][0]["name"], "devs");
  EXPECT_EQ(r.Json()["memberTeams"][0]["membersCount"], 2);
  // Removal; leaving the organization leaves its teams.
  EXPECT_EQ(Do(As("boss"), "DELETE", base + "/outsider").status, 204);
  EXPECT_EQ(Members(Get(As("boss"), base)), (std::vector<std::string>{"worker"}));
  EXPECT_EQ(Do(As("boss"), "DELETE", "/enzi/v0/accounts/acme/members/worker").status, 204);
  EXPECT_TRUE(Get(As("boss"), base).Json()["members"].empty());
  EXPECT_EQ(Get(As("boss"), "/enzi/v0/accounts/acme/teams/nope/members").Code(), "NO_SUCH_TEAM");
}

}  // namespace
}  // namespace dtr::api::testing
