// Token auth and DTR permissions on /v2/, in process: challenges, the token server, grants,
// create-on-push, immutable tags, tag limits, catalog filtering, mounts, and refused tokens.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "auth/base64.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "tests/test_registry.h"

namespace dtr::testing {
namespace {

using nlohmann::json;

app::Settings TokenSettings() {
  app::Settings s;
  s.auth = "token";
  return s;
}

class AuthFlowTest : public ::testing::Test {
 protected:
  AuthFlowTest() : reg(TokenSettings()) {
    alice = AddUser("alice", false);
    bob = AddUser("bob", false);
    AddUser("root", true);
    meta::Account org;
    org.name = "eng";
    org.is_org = true;
    EXPECT_TRUE(Id().CreateAccount(&org).ok());
    org_id = org.id;
  }

  meta::IdentityStore& Id() { return reg.app().identity(); }

  std::string AddUser(const std::string& name, bool admin) {
    meta::Account a;
    a.name = name;
    a.is_admin = admin;
    a.password_hash = auth::HashPassword("pw-" + name, 1000);
    EXPECT_TRUE(Id().CreateAccount(&a).ok());
    return a.id;
  }

  void AddRepo(const std::string& ns, const std::string& name, const std::string& visibility,
               bool immutable = false, int64_t tag_limit = 0) {
    meta::Repository r;
    r.namespace_name = ns;
    r.name = name;
    r.visibility = visibility;
    r.immutable_tags = immutable;
    r.tag_limit = tag_limit;
    ASSERT_TRUE(Id().CreateRepository(&r).ok());
    // As the API does when it creates a repository: the registry index knows it too.
    ASSERT_TRUE(reg.app().registry().meta()->EnsureRepository(ns + "/" + name).ok());
  }

  static std::pair<std::string, std::string> Basic(const std::string& user) {
    return {"Authorization", "Basic " + auth::Base64Encode(user + ":pw-" + user)};
  }

  // The token flow a client runs: GET /auth/token with Basic credentials (or none).
  std::string Token(const std::string& user, const std::string& scope) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!user.empty()) h.push_back(Basic(user));
    auto r = reg.Do("GET", "/auth/token?service=dtr&scope=" + scope, "", h);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["token"].get<std::string>();
  }

  json GrantedAccess(const std::string& token) {
    auto claims = auth::ParseUnverified(token);
    return claims.ok() ? claims->claims["access"] : json();
  }

  Reply As(const std::string& token, const std::string& method, const std::string& target,
           const std::string& body = "",
           std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.push_back({"Authorization", "Bearer " + token});
    return reg.Do(method, target, body, headers);
  }

  TestRegistry reg;
  std::string alice, bob, org_id;
};

TEST_F(AuthFlowTest, ChallengeNamesTheRealmServiceAndScope) {
  auto r = reg.Do("GET", "/v2/");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"),
            "Bearer realm=\"http://registry.test/auth/token\",service=\"dtr\"");
  AddRepo("alice", "app", "private");
  auto m = reg.Do("GET", "/v2/alice/app/manifests/latest");
  EXPECT_EQ(m.status, 401);
  EXPECT_NE(m.Header("WWW-Authenticate").find("scope=\"repository:alice/app:pull\""),
            std::string::npos);
  // Behind a proxy the realm follows X-Forwarded-*.
  auto p = reg.Do("GET", "/v2/", "",
                  {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "dtr.example.com"}});
  EXPECT_NE(p.Header("WWW-Authenticate").find("realm=\"https://dtr.example.com/auth/token\""),
            std::string::npos);
}

TEST_F(AuthFlowTest, OwnerPushesAndPullsWithAToken) {
  AddRepo("alice", "app", "private");
  std::string t = Token("alice", "repository:alice/app:pull,push");
  EXPECT_EQ(GrantedAccess(t),
            json::parse(R"([{"type":"repository","name":"alice/app","actions":["pull","push"]}])"));
  std::string data = "layer";
  auto put = As(t, "POST", "/v2/alice/app/blobs/uploads/?digest=" + DigestOf(data), data);
  EXPECT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(As(t, "GET", "/v2/alice/app/blobs/" + DigestOf(data)).body, data);
  EXPECT_EQ(As(t, "GET", "/v2/").status, 200);
  // Basic auth works on /v2/ too.
  EXPECT_EQ(reg.Do("GET", "/v2/alice/app/blobs/" + DigestOf(data), "", {Basic("alice")}).status,
            200);
}

TEST_F(AuthFlowTest, PartialGrantIsNotAnError) {
  AddRepo("alice", "app", "public");
  std::string t = Token("bob", "repository:alice/app:pull,push");
  EXPECT_EQ(GrantedAccess(t)[0]["actions"], json({"pull"}));
  auto push = As(t, "POST", "/v2/alice/app/blobs/uploads/");
  EXPECT_EQ(push.status, 401);
  EXPECT_NE(push.Header("WWW-Authenticate").find("error=\"insufficient_scope\""),
            std::string::npos);
  // Anonymous may pull a public repository, and nothing else.
  std::string anon = Token("", "repository:alice/app:pull,push");
  EXPECT_EQ(GrantedAccess(anon)[0]["actions"], json({"pull"}));
  EXPECT_EQ(As(anon, "GET", "/v2/alice/app/tags/list").status, 200);
}

TEST_F(AuthFlowTest, PrivateRepositoriesAreInvisibleToOthers) {
  AddRepo("alice", "secret", "private");
  std::string data = "secret layer";
  std::string ta = Token("alice", "repository:alice/secret:pull,push");
  ASSERT_EQ(As(ta, "POST", "/v2/alice/secret/blobs/uploads/?digest=" + DigestOf(data), data).status,
            201);
  reg.PushImage("alice/secret", "v1", "x");  // (unauthenticated helper: refused, harmless)
  std::string tb = Token("bob", "repository:alice/secret:pull,push,delete");
  EXPECT_EQ(GrantedAccess(tb)[0]["actions"], json::array());
  // The same answers as for a repository that does not exist.
  std::string tn = Token("bob", "repository:alice/nothing:pull,push,delete");
  for (const char* path :
       {"/v2/alice/secret/tags/list", "/v2/alice/secret/manifests/v1",
        "/v2/alice/secret/referrers/"
        "sha256:0000000000000000000000000000000000000000000000000000000000000000"}) {
    auto secret = As(tb, "GET", path);
    std::string other = path;
    other.replace(other.find("secret"), 6, "nothing");
    auto missing = As(tn, "GET", other);
    EXPECT_EQ(secret.status, 401) << path;
    EXPECT_EQ(secret.status, missing.status) << path;
  }
  EXPECT_EQ(As(tb, "GET", "/v2/alice/secret/blobs/" + DigestOf(data)).status, 401);
  EXPECT_EQ(As(tb, "DELETE", "/v2/alice/secret/blobs/" + DigestOf(data)).status, 401);
  // Basic-authenticated bob gets 403 for both, never the content.
  auto basic = reg.Do("GET", "/v2/alice/secret/blobs/" + DigestOf(data), "", {Basic("bob")});
  auto basic_missing =
      reg.Do("GET", "/v2/alice/nothing/blobs/" + DigestOf(data), "", {Basic("bob")});
  EXPECT_EQ(basic.status, 403);
  EXPECT_EQ(basic_missing.status, 403);
  EXPECT_EQ(basic.body, basic_missing.body);
  // No mounting out of it: bob's mount becomes an ordinary upload.
  AddRepo("bob", "mine", "private");
  std::string tm = Token("bob", "repository:bob/mine:pull,push");
  auto mount =
      As(tm, "POST", "/v2/bob/mine/blobs/uploads/?mount=" + DigestOf(data) + "&from=alice/secret");
  EXPECT_EQ(mount.status, 202);
  EXPECT_EQ(As(tm, "HEAD", "/v2/bob/mine/blobs/" + DigestOf(data)).status, 404);
  // Alice can mount her own blob.
  AddRepo("alice", "copy", "private");
  std::string tc = Token("alice", "repository:alice/copy:pull,push repository:alice/secret:pull");
  EXPECT_EQ(
      As(tc, "POST", "/v2/alice/copy/blobs/uploads/?mount=" + DigestOf(data) + "&from=alice/secret")
          .status,
      201);
}

TEST_F(AuthFlowTest, CatalogShowsOnlyWhatTheCallerCanSee) {
  AddRepo("alice", "private1", "private");
  AddRepo("alice", "public1", "public");
  AddRepo("bob", "private2", "private");
  auto list = [&](const std::string& user) {
    std::string t = Token(user, "registry:catalog:*");
    auto r = As(t, "GET", "/v2/_catalog");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["repositories"];
  };
  EXPECT_EQ(list("alice"), json({"alice/private1", "alice/public1"}));
  EXPECT_EQ(list("bob"), json({"alice/public1", "bob/private2"}));
  EXPECT_EQ(list(""), json({"alice/public1"}));
  EXPECT_EQ(list("root"), json({"alice/private1", "alice/public1", "bob/private2"}));
  // Paging counts visible entries only.
  std::string t = Token("bob", "registry:catalog:*");
  auto page = As(t, "GET", "/v2/_catalog?n=1");
  EXPECT_EQ(json::parse(page.body)["repositories"], json({"alice/public1"}));
  EXPECT_FALSE(page.Header("Link").empty());
}

TEST_F(AuthFlowTest, TeamGrantsAreAdditive) {
  AddRepo("eng", "svc", "private");
  ASSERT_TRUE(Id().SetOrgMember({org_id, bob, false, false}).ok());
  meta::Team readers{"", org_id, "readers", ""}, writers{"", org_id, "writers", ""};
  ASSERT_TRUE(Id().CreateTeam(&readers).ok());
  ASSERT_TRUE(Id().CreateTeam(&writers).ok());
  ASSERT_TRUE(Id().SetTeamMember(readers.id, {org_id, bob, false, false}).ok());
  ASSERT_TRUE(Id().SetRepoGrant({readers.id, "eng/svc", meta::AccessLevel::kReadOnly}).ok());
  EXPECT_EQ(GrantedAccess(Token("bob", "repository:eng/svc:pull,push"))[0]["actions"],
            json({"pull"}));
  ASSERT_TRUE(Id().SetTeamMember(writers.id, {org_id, bob, false, false}).ok());
  ASSERT_TRUE(Id().SetNamespaceGrant({writers.id, "eng", meta::AccessLevel::kReadWrite}).ok());
  EXPECT_EQ(GrantedAccess(Token("bob", "repository:eng/svc:pull,push"))[0]["actions"],
            json({"pull", "push"}));
  // Alice is not in the org.
  EXPECT_EQ(GrantedAccess(Token("alice", "repository:eng/svc:pull"))[0]["actions"], json::array());
}

TEST_F(AuthFlowTest, CreateOnPush) {
  // Off: a missing repository cannot be pushed to.
  EXPECT_EQ(GrantedAccess(Token("alice", "repository:alice/new:push"))[0]["actions"],
            json::array());
  ASSERT_TRUE(reg.app().dtr_settings().Update(json{{"createRepositoryOnPush", true}}).ok());
  std::string t = Token("alice", "repository:alice/new:pull,push");
  EXPECT_EQ(GrantedAccess(t)[0]["actions"], json({"pull", "push"}));
  EXPECT_EQ(As(t, "POST", "/v2/alice/new/blobs/uploads/?digest=" + DigestOf("x"), "x").status, 201);
  auto created = Id().GetRepository("alice", "new");
  ASSERT_TRUE(created.ok() && created->has_value());
  EXPECT_EQ((*created)->visibility, "private");
  // Not in someone else's namespace.
  EXPECT_EQ(GrantedAccess(Token("bob", "repository:alice/other:push"))[0]["actions"],
            json::array());
}

TEST_F(AuthFlowTest, ImmutableTagsAndTagLimit) {
  AddRepo("alice", "frozen", "private", /*immutable=*/true);
  std::string t = Token("alice", "repository:alice/frozen:pull,push");
  std::string config = "{}";
  As(t, "POST", "/v2/alice/frozen/blobs/uploads/?digest=" + DigestOf(config), config);
  std::string m1 = ImageManifest(config, {}, R"(,"annotations":{"v":"1"})");
  std::string m2 = ImageManifest(config, {}, R"(,"annotations":{"v":"2"})");
  const std::vector<std::pair<std::string, std::string>> oci = {
      {"Content-Type", "application/vnd.oci.image.manifest.v1+json"}};
  EXPECT_EQ(As(t, "PUT", "/v2/alice/frozen/manifests/v1", m1, oci).status, 201);
  auto again = As(t, "PUT", "/v2/alice/frozen/manifests/v1", m2, oci);
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(again.body.find(
                "tag=v1 cannot be overwritten because alice/frozen is an immutable repository"),
            std::string::npos);
  EXPECT_EQ(As(t, "GET", "/v2/alice/frozen/manifests/v1").body, m1);

  AddRepo("alice", "limited", "private", false, /*tag_limit=*/2);
  std::string tl = Token("alice", "repository:alice/limited:pull,push");
  As(tl, "POST", "/v2/alice/limited/blobs/uploads/?digest=" + DigestOf(config), config);
  for (const char* tag : {"a", "b", "c"}) {
    ASSERT_EQ(As(tl, "PUT", std::string("/v2/alice/limited/manifests/") + tag, m1, oci).status,
              201);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // distinct updated_at
  }
  auto tags = json::parse(As(tl, "GET", "/v2/alice/limited/tags/list").body)["tags"];
  EXPECT_EQ(tags, json({"b", "c"}));
}

TEST_F(AuthFlowTest, RefusedTokensAndCredentials) {
  AddRepo("alice", "app", "public");
  std::string good = Token("alice", "repository:alice/app:pull");
  auto parts = [](const std::string& t) {
    auto a = t.find('.'), b = t.rfind('.');
    return std::vector<std::string>{t.substr(0, a), t.substr(a + 1, b - a - 1), t.substr(b + 1)};
  };
  auto p = parts(good);
  // Tampered payload: same signature, different claims.
  auto claims = json::parse(*auth::Base64UrlDecode(p[1]));
  claims["access"][0]["actions"] = {"pull", "push"};
  std::string tampered = p[0] + "." + auth::Base64UrlEncode(claims.dump()) + "." + p[2];
  EXPECT_EQ(As(tampered, "POST", "/v2/alice/app/blobs/uploads/").status, 401);
  // alg:none and HS256.
  std::string none = auth::Base64UrlEncode(R"({"typ":"JWT","alg":"none"})") + "." + p[1] + ".";
  EXPECT_EQ(As(none, "GET", "/v2/alice/app/tags/list").status, 401);
  std::string hs =
      auth::Base64UrlEncode(R"({"typ":"JWT","alg":"HS256"})") + "." + p[1] + "." + p[2];
  EXPECT_EQ(As(hs, "GET", "/v2/alice/app/tags/list").status, 401);
  // A token for one repository does not open another.
  AddRepo("alice", "other", "private");
  EXPECT_EQ(As(good, "GET", "/v2/alice/other/tags/list").status, 401);
  // Wrong password; then the rate limit.
  auto bad = reg.Do("GET", "/auth/token?service=dtr", "",
                    {{"Authorization", "Basic " + auth::Base64Encode("alice:wrong")}});
  EXPECT_EQ(bad.status, 401);
  int limited = 0;
  for (int i = 0; i < 15; ++i) {
    auto r = reg.Do("GET", "/auth/token?service=dtr", "",
                    {{"Authorization", "Basic " + auth::Base64Encode("alice:wrong")}});
    if (r.status == 429) ++limited;
  }
  EXPECT_GT(limited, 0);
  // While limited, even the right password is refused for that user.
  auto right = reg.Do("GET", "/auth/token?service=dtr", "", {Basic("alice")});
  EXPECT_EQ(right.status, 429);
  // Nothing secret in the answers.
  EXPECT_EQ(bad.body.find("pw-alice"), std::string::npos);
}

TEST_F(AuthFlowTest, OAuthPasswordAndRefreshGrants) {
  AddRepo("bob", "app", "private");
  auto r = reg.Do("POST", "/auth/token",
                  "grant_type=password&username=bob&password=pw-bob&service=dtr&client_id=test&"
                  "access_type=offline&scope=repository%3Abob%2Fapp%3Apull",
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  ASSERT_TRUE(j.contains("refresh_token"));
  EXPECT_EQ(j["scope"], "repository:bob/app:pull");
  auto refreshed =
      reg.Do("POST", "/auth/token",
             "grant_type=refresh_token&service=dtr&client_id=test&refresh_token=" +
                 j["refresh_token"].get<std::string>() + "&scope=repository%3Abob%2Fapp%3Apush",
             {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(json::parse(refreshed.body)["scope"], "repository:bob/app:push");
  // A refresh token is not an access token.
  EXPECT_EQ(As(j["refresh_token"], "GET", "/v2/bob/app/tags/list").status, 401);
}

TEST_F(AuthFlowTest, ApiTokensWorkWherePasswordsDoAndCanBeRevoked) {
  AddRepo("alice", "app", "private");
  std::string secret = "tok-abcdefghijklmnop";
  meta::ApiToken t;
  t.hashed_token = auth::Sha256Hex(secret);
  t.account_id = alice;
  t.label = "ci";
  ASSERT_TRUE(Id().CreateApiToken(t).ok());
  auto basic = std::make_pair(std::string("Authorization"),
                              "Basic " + auth::Base64Encode("alice:" + secret));
  auto r = reg.Do("GET", "/auth/token?service=dtr&scope=repository:alice/app:pull", "", {basic});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(reg.Do("GET", "/v2/alice/app/tags/list", "", {basic}).status, 200);
  // Another user's name with alice's token is refused.
  EXPECT_EQ(reg.Do("GET", "/auth/token?service=dtr", "",
                   {{"Authorization", "Basic " + auth::Base64Encode("bob:" + secret)}})
                .status,
            401);
  t.is_active = false;
  ASSERT_TRUE(Id().UpdateApiToken(t).ok());
  EXPECT_EQ(reg.Do("GET", "/auth/token?service=dtr", "", {basic}).status, 401);
}

TEST_F(AuthFlowTest, EventsRecordPushesPullsAndDeletes) {
  AddRepo("alice", "ev", "private");
  std::string t = Token("alice", "repository:alice/ev:pull,push,delete");
  std::string config = "{}";
  As(t, "POST", "/v2/alice/ev/blobs/uploads/?digest=" + DigestOf(config), config);
  std::string m = ImageManifest(config, {});
  As(t, "PUT", "/v2/alice/ev/manifests/v1", m,
     {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}});
  As(t, "GET", "/v2/alice/ev/manifests/v1");
  As(t, "DELETE", "/v2/alice/ev/manifests/v1");
  meta::EventQuery q;
  q.repository = "alice/ev";
  auto events = Id().ListEvents(q);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].type, "DELETE");
  EXPECT_EQ((*events)[1].type, "GET");
  EXPECT_EQ((*events)[2].type, "CREATE");
  EXPECT_EQ((*events)[2].actor, "alice");
  EXPECT_EQ((*events)[2].object_name, "alice/ev:v1");
  auto repo = Id().GetRepository("alice", "ev");
  EXPECT_EQ((*repo)->pushes, 1);
  EXPECT_EQ((*repo)->pulls, 1);
}

// Verified tokens are remembered briefly; a change to the account is seen at once anyway.
TEST_F(AuthFlowTest, ATokenStopsWorkingWhenItsUserIsDeactivatedOrDeleted) {
  AddRepo("alice", "app", "private");
  std::string t = Token("alice", "repository:alice/app:pull");
  EXPECT_EQ(As(t, "GET", "/v2/").status, 200);
  EXPECT_EQ(As(t, "GET", "/v2/").status, 200);  // from the cache
  auto account = Id().GetAccount("alice");
  ASSERT_TRUE(account.ok() && account->has_value());
  meta::Account off = **account;
  off.is_active = false;
  ASSERT_TRUE(Id().UpdateAccount(off).ok());
  EXPECT_EQ(As(t, "GET", "/v2/").status, 401);
  off.is_active = true;
  ASSERT_TRUE(Id().UpdateAccount(off).ok());
  EXPECT_EQ(As(t, "GET", "/v2/").status, 200);
  ASSERT_TRUE(Id().DeleteAccount(off.id).ok());
  EXPECT_EQ(As(t, "GET", "/v2/").status, 401);
}

// Pulls are recorded in the background, in batches: many of them, from several threads, all
// arrive (counted and as events), in order with the events around them.
TEST_F(AuthFlowTest, ManyConcurrentPullsAreAllRecorded) {
  AddRepo("alice", "busy", "private");
  std::string t = Token("alice", "repository:alice/busy:pull,push,delete");
  std::string config = "{}";
  As(t, "POST", "/v2/alice/busy/blobs/uploads/?digest=" + DigestOf(config), config);
  ASSERT_EQ(As(t, "PUT", "/v2/alice/busy/manifests/v1", ImageManifest(config, {}),
               {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}})
                .status,
            201);
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kEach; ++j) {
        EXPECT_EQ(As(t, "GET", "/v2/alice/busy/manifests/v1").status, 200);
      }
    });
  }
  for (auto& th : threads) th.join();
  As(t, "DELETE", "/v2/alice/busy/manifests/v1");
  meta::EventQuery q;
  q.repository = "alice/busy";
  q.page_size = 1000;
  auto events = Id().ListEvents(q);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), static_cast<size_t>(kThreads * kEach + 2));
  EXPECT_EQ(events->front().type, "DELETE");  // after every pull
  EXPECT_EQ(events->back().type, "CREATE");
  auto repo = Id().GetRepository("alice", "busy");
  EXPECT_EQ((*repo)->pulls, kThreads * kEach);
}

TEST_F(AuthFlowTest, ReadOnlyRegistrySetting) {
  AddRepo("alice", "app", "private");
  ASSERT_TRUE(reg.app().dtr_settings().Update(json{{"readOnlyRegistry", true}}).ok());
  std::string t = Token("alice", "repository:alice/app:pull,push");
  auto r = As(t, "POST", "/v2/alice/app/blobs/uploads/");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("read-only"), std::string::npos);
}

// `--auth none` lets every caller act as the admin, but what the registry records and
// enforces does not depend on authentication: repositories, events, pull counts, read-only
// mode and immutable tags.
TEST(NoAuthGateTest, WithoutAuthenticationTheRegistryStillRecordsAndEnforces) {
  TestRegistry reg;  // auth none; createRepositoryOnPush off, as by default
  meta::IdentityStore& id = reg.app().identity();
  std::string m = reg.PushImage("library/app", "v1", "layer");
  ASSERT_FALSE(m.empty());
  auto repo = id.GetRepository("library", "app");
  ASSERT_TRUE(repo.ok() && repo->has_value()) << "a push without auth creates the repository";
  EXPECT_EQ((*repo)->pushes, 1);
  EXPECT_EQ(reg.Do("GET", "/v2/library/app/manifests/v1").body, m);
  EXPECT_EQ(reg.Do("GET", "/api/v0/repositories/library/app").status, 200);  // flushes pulls
  repo = id.GetRepository("library", "app");
  EXPECT_EQ((*repo)->pulls, 1);
  meta::EventQuery q;
  q.repository = "library/app";
  auto events = id.ListEvents(q);
  ASSERT_TRUE(events.ok());
  ASSERT_GE(events->size(), 2u);
  EXPECT_EQ((*events)[0].type, "GET");
  EXPECT_EQ((*events)[0].actor, "admin");
  EXPECT_EQ(reg.Do("GET", "/v2/_catalog").body, R"({"repositories":["library/app"]})");

  ASSERT_TRUE(reg.app().dtr_settings().Update(json{{"readOnlyRegistry", true}}).ok());
  auto refused = reg.Do("POST", "/v2/library/app/blobs/uploads/");
  EXPECT_EQ(refused.status, 405);
  EXPECT_NE(refused.body.find("read-only"), std::string::npos);
  EXPECT_EQ(reg.Do("DELETE", "/v2/library/app/manifests/v1").status, 405);
  ASSERT_TRUE(reg.app().dtr_settings().Update(json{{"readOnlyRegistry", false}}).ok());

  auto patched = reg.Do("PATCH", "/api/v0/repositories/library/app", R"({"immutableTags":true})",
                        {{"Content-Type", "application/json"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  ASSERT_EQ(reg.PushBlob("library/app", "{}").status, 201);
  std::string other = ImageManifest("{}", {}, R"(,"annotations":{"v":"2"})");
  auto overwrite =
      reg.PushManifest("library/app", "v1", "application/vnd.oci.image.manifest.v1+json", other);
  EXPECT_EQ(overwrite.status, 403);
  EXPECT_NE(overwrite.body.find("immutable"), std::string::npos);
}

}  // namespace
}  // namespace dtr::testing
