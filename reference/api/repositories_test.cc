// /api/v0/repositories: create, list, get, patch, delete; tags and manifests.
#include "api/api_test_util.h"
#include "api/call.h"
#include "core/digest.h"

namespace dtr::api::testing {
namespace {

using meta::AccessLevel;

class RepositoriesTest : public ApiFixture {
 protected:
  void SetUp() override {
    CreateUser("alice");
    CreateUser("bob");
    CreateOrg("acme");
    CreateTeam("acme", "owners");
    CreateTeam("acme", "writers");
  }
  static std::vector<std::string> Names(const Reply& r) {
    std::vector<std::string> out;
    json body = r.Json();
    for (const auto& x : body["repositories"]) {
      out.push_back(x["namespace"].get<std::string>() + "/" + x["name"].get<std::string>());
    }
    return out;
  }
};

TEST_F(RepositoriesTest, CreateInOwnNamespace) {
  auto r = Do(As("alice"), "POST", "/api/v0/repositories/alice",
              R"({"name":"web","shortDescription":"the site","longDescription":"# Web",)"
              R"("visibility":"public","immutableTags":true,"tagLimit":5,"scanOnPush":true})");
  ASSERT_EQ(r.status, 201) << r;
  json j = r.Json();
  EXPECT_FALSE(j["id"].get<std::string>().empty());
  EXPECT_EQ(j["namespace"], "alice");
  EXPECT_EQ(j["namespaceType"], "user");
  EXPECT_EQ(j["name"], "web");
  EXPECT_EQ(j["shortDescription"], "the site");
  EXPECT_EQ(j["longDescription"], "# Web");
  EXPECT_EQ(j["visibility"], "public");
  EXPECT_EQ(j["immutableTags"], true);
  EXPECT_EQ(j["scanOnPush"], true);
  EXPECT_EQ(j["enableManifestLists"], false);
  EXPECT_EQ(j["tagLimit"], 5);
  EXPECT_EQ(j["pulls"], 0);
  EXPECT_EQ(j["pushes"], 0);
  auto stored = identity_->GetRepository("alice", "web");
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->tag_limit, 5);
  EXPECT_TRUE((*stored)->immutable_tags);
  EXPECT_TRUE(*meta_->RepositoryExists("alice/web"));
  ASSERT_FALSE(seen_events_.empty());
  EXPECT_EQ(seen_events_.back().type, "CREATE");
  EXPECT_EQ(seen_events_.back().object_type, "REPOSITORY");
  EXPECT_EQ(seen_events_.back().actor, "alice");
  EXPECT_EQ(seen_events_.back().repository, "alice/web");
  // Private by default.
  r = Do(As("alice"), "POST", "/api/v0/repositories/alice", R"({"name":"db"})");
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.Json()["visibility"], "private");
}

TEST_F(RepositoriesTest, CreateNeedsNamespaceAdmin) {
  std::string body = R"({"name":"svc"})";
  EXPECT_EQ(Do(As("bob"), "POST", "/api/v0/repositories/alice", body).Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(Anonymous(), "POST", "/api/v0/repositories/alice", body).Code(),
            "NOT_AUTHENTICATED");
  EXPECT_EQ(Do(As("bob"), "POST", "/api/v0/repositories/acme", body).Code(), "NOT_AUTHORIZED");
  // A namespace read-write grant is not enough; admin is.
  AddToTeam("acme", "writers", "bob");
  GrantNamespace("acme", "writers", "acme", AccessLevel::kReadWrite);
  EXPECT_EQ(Do(As("bob"), "POST", "/api/v0/repositories/acme", body).Code(), "NOT_AUTHORIZED");
  GrantNamespace("acme", "writers", "acme", AccessLevel::kAdmin);
  auto r = Do(As("bob"), "POST", "/api/v0/repositories/acme", body);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.Json()["namespaceType"], "organization");
  // Organization admins and system admins.
  AddToOrg("acme", "alice", true);
  EXPECT_EQ(Do(As("alice"), "POST", "/api/v0/repositories/acme", R"({"name":"two"})").status, 201);
  EXPECT_EQ(Do(As("admin"), "POST", "/api/v0/repositories/bob", R"({"name":"three"})").status, 201);
  EXPECT_EQ(Do(As("admin"), "POST", "/api/v0/repositories/ghost", body).Code(), "NO_SUCH_ACCOUNT");
  EXPECT_FALSE(identity_->GetRepository("alice", "svc")->has_value());
}

TEST_F(RepositoriesTest, CreateRejectsBadInput) {
  CreateRepo("alice", "taken");
  struct Case {
    std::string body, code;
  };
  std::vector<Case> cases = {
      {R"({"name":"taken"})", "REPOSITORY_EXISTS"},
      {R"({"name":"ok","visibility":"secret"})", "INVALID_REPOSITORY_VISIBILITY"},
      {R"({"name":"Bad"})", "INVALID_PARAMETERS"},
      {R"({"name":"a/b"})", "INVALID_PARAMETERS"},
      {R"({"name":"-x"})", "INVALID_PARAMETERS"},
      {R"({"name":""})", "INVALID_PARAMETERS"},
      {R"({"name":")" + std::string(250, 'a') + R"("})", "INVALID_PARAMETERS"},
      {R"({})", "INVALID_PARAMETERS"},
      {R"({"name":"ok","tagLimit":-1})", "INVALID_PARAMETERS"},
      {R"({"name":"ok","tagLimit":"5"})", "INVALID_PARAMETERS"},
      {R"({"name":"ok","tagLimit":1.5})", "INVALID_PARAMETERS"},
      {R"({"name":"ok","immutableTags":"true"})", "INVALID_PARAMETERS"},
      {R"({"name":"ok","shortDescription":")" + std::string(141, 'd') + R"("})",
       "INVALID_PARAMETERS"},
      {R"(["name"])", "INVALID_JSON"},
      {R"({"name":)", "INVALID_JSON"},
  };
  for (const auto& c : cases) {
    auto r = Do(As("alice"), "POST", "/api/v0/repositories/alice", c.body);
    EXPECT_EQ(r.status, 400) << c.body.substr(0, 60) << " -> " << r;
    EXPECT_EQ(r.Code(), c.code) << c.body.substr(0, 60);
  }
  auto all = identity_->ListRepositoryRecords("", "", 0);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().name, "taken");
}

TEST_F(RepositoriesTest, ListShowsOnlyWhatTheCallerCanRead) {
  CreateRepo("alice", "pub", "public");
  CreateRepo("alice", "priv");
  CreateRepo("bob", "priv");
  CreateRepo("acme", "granted");
  CreateRepo("acme", "internal");
  AddToTeam("acme", "writers", "bob");
  GrantRepo("acme", "writers", "acme/granted", AccessLevel::kReadOnly);
  EXPECT_EQ(Names(Get(Anonymous(), "/api/v0/repositories")),
            (std::vector<std::string>{"alice/pub"}));
  EXPECT_EQ(Names(Get(As("alice"), "/api/v0/repositories")),
            (std::vector<std::string>{"alice/priv", "alice/pub"}));
  EXPECT_EQ(Names(Get(As("bob"), "/api/v0/repositories")),
            (std::vector<std::string>{"acme/granted", "alice/pub", "bob/priv"}));
  EXPECT_EQ(Names(Get(As("admin"), "/api/v0/repositories?pageSize=100")).size(), 5u);
  EXPECT_EQ(Names(Get(As("bob"), "/api/v0/repositories/acme")),
            (std::vector<std::string>{"acme/granted"}));
  EXPECT_EQ(Names(Get(As("bob"), "/api/v0/repositories/alice")),
            (std::vector<std::string>{"alice/pub"}));
  auto r = Get(As("bob"), "/api/v0/repositories/ghost");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Code(), "NO_SUCH_ACCOUNT");
}

TEST_F(RepositoriesTest, ListPages) {
  for (const char* n : {"a1", "a2", "a3", "a4", "a5"}) CreateRepo("alice", n);
  CreateRepo("bob", "hidden");
  auto r = Get(As("alice"), "/api/v0/repositories?pageSize=2&count=true");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(Names(r), (std::vector<std::string>{"alice/a1", "alice/a2"}));
  EXPECT_EQ(r.Header("X-Next-Page-Start"), "alice/a3");
  EXPECT_EQ(r.Header("X-Resource-Count"), "5");
  EXPECT_EQ(r.Header("Link"),
            "</api/v0/repositories?pageStart=alice/a3&pageSize=2&count=true>; rel=\"next\"");
  r = Get(As("alice"), "/api/v0/repositories?pageSize=2&pageStart=alice%2Fa3");
  EXPECT_EQ(Names(r), (std::vector<std::string>{"alice/a3", "alice/a4"}));
  r = Get(As("alice"), "/api/v0/repositories?pageSize=2&pageStart=alice%2Fa5");
  EXPECT_EQ(Names(r), (std::vector<std::string>{"alice/a5"}));
  EXPECT_EQ(r.Header("X-Next-Page-Start"), "");
  // The default page is 10.
  EXPECT_EQ(Names(Get(As("admin"), "/api/v0/repositories")).size(), 6u);
  for (const char* bad : {"pageSize=0", "pageSize=1001", "pageSize=ten", "count=maybe"}) {
    EXPECT_EQ(Get(As("alice"), std::string("/api/v0/repositories?") + bad).Code(),
              "INVALID_PARAMETERS")
        << bad;
  }
}

TEST_F(RepositoriesTest, GetHidesPrivateRepositories) {
  CreateRepo("alice", "priv");
  CreateRepo("alice", "pub", "public");
  auto r = Get(As("alice"), "/api/v0/repositories/alice/priv");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["visibility"], "private");
  EXPECT_EQ(Get(Anonymous(), "/api/v0/repositories/alice/pub").status, 200);
  auto hidden = Get(As("bob"), "/api/v0/repositories/alice/priv");
  auto missing = Get(As("bob"), "/api/v0/repositories/alice/nothing");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.Code(), "NO_SUCH_REPOSITORY");
  EXPECT_EQ(missing.Code(), "NO_SUCH_REPOSITORY");
  EXPECT_EQ(Get(Anonymous(), "/api/v0/repositories/alice/priv").Code(), "NO_SUCH_REPOSITORY");
}

TEST_F(RepositoriesTest, Update) {
  CreateRepo("acme", "app");
  AddToTeam("acme", "writers", "bob");
  GrantRepo("acme", "writers", "acme/app", AccessLevel::kReadWrite);
  std::string url = "/api/v0/repositories/acme/app";
  EXPECT_EQ(Do(As("bob"), "PATCH", url, R"({"visibility":"public"})").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("alice"), "PATCH", url, R"({"visibility":"public"})").Code(),
            "NO_SUCH_REPOSITORY");
  EXPECT_EQ(Do(Anonymous(), "PATCH", url, R"({"visibility":"public"})").Code(),
            "NOT_AUTHENTICATED");
  EXPECT_EQ((*identity_->GetRepository("acme", "app"))->visibility, "private");
  AddToTeam("acme", "owners", "alice");
  GrantRepo("acme", "owners", "acme/app", AccessLevel::kAdmin);
  auto r =
      Do(As("alice"), "PATCH", url,
         R"({"visibility":"public","shortDescription":"new","immutableTags":true,"tagLimit":3})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.Json()["visibility"], "public");
  EXPECT_EQ(r.Json()["shortDescription"], "new");
  EXPECT_EQ(r.Json()["tagLimit"], 3);
  auto stored = *identity_->GetRepository("acme", "app");
  EXPECT_EQ(stored->visibility, "public");
  EXPECT_TRUE(stored->immutable_tags);
  EXPECT_EQ(stored->tag_limit, 3);
  EXPECT_EQ(seen_events_.back().type, "UPDATE");
  EXPECT_EQ(seen_events_.back().actor, "alice");
  EXPECT_EQ(Do(As("alice"), "PATCH", url, R"({"name":"renamed"})").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("alice"), "PATCH", url, R"({"visibility":"hidden"})").Code(),
            "INVALID_REPOSITORY_VISIBILITY");
  EXPECT_EQ(Do(As("alice"), "PATCH", url, R"({"tagLimit":true})").Code(), "INVALID_PARAMETERS");
  EXPECT_EQ(Do(As("alice"), "PATCH", url, "").Code(), "INVALID_JSON");
  EXPECT_EQ((*identity_->GetRepository("acme", "app"))->visibility, "public");
}

TEST_F(RepositoriesTest, DeleteRemovesEverything) {
  CreateRepo("acme", "app");
  std::string d1 = PushImage("acme/app", "v1", "layer-one");
  PushImage("acme/app", "v2", "layer-two");
  GrantRepo("acme", "writers", "acme/app", AccessLevel::kReadWrite);
  AddToTeam("acme", "writers", "bob");
  std::string url = "/api/v0/repositories/acme/app";
  // Read-write is not enough; someone who cannot see it deletes nothing.
  EXPECT_EQ(Do(As("bob"), "DELETE", url).Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("alice"), "DELETE", url).status, 204);
  ASSERT_TRUE(identity_->GetRepository("acme", "app")->has_value());
  ASSERT_TRUE(registry_->GetManifest("acme/app", "v1").ok());
  // Read-only mode refuses.
  ASSERT_TRUE(settings_->Update(json{{"readOnlyRegistry", true}}).ok());
  auto r = Do(As("admin"), "DELETE", url);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Code(), "NOT_ALLOWED");
  ASSERT_TRUE(settings_->Update(json{{"readOnlyRegistry", false}}).ok());
  r = Do(As("admin"), "DELETE", url);
  ASSERT_EQ(r.status, 204) << r;
  EXPECT_FALSE(identity_->GetRepository("acme", "app")->has_value());
  EXPECT_TRUE(identity_->ListRepoGrants("acme/app")->empty());
  EXPECT_FALSE(*meta_->RepositoryExists("acme/app"));
  EXPECT_FALSE(registry_->GetManifest("acme/app", "v1").ok());
  EXPECT_FALSE(registry_->GetManifest("acme/app", d1).ok());
  EXPECT_EQ(seen_events_.back().type, "DELETE");
  EXPECT_EQ(seen_events_.back().object_type, "REPOSITORY");
  EXPECT_EQ(seen_events_.back().actor, "admin");
  EXPECT_EQ(Do(As("admin"), "DELETE", url).status, 204);
  EXPECT_EQ(Do(Anonymous(), "DELETE", url).status, 401);
}

// ---- tags and manifests ----

class TagsTest : public RepositoriesTest {
 protected:
  void SetUp() override {
    RepositoriesTest::SetUp();
    CreateRepo("alice", "app");
    digest_ = PushImage("alice/app", "v1", "layer-one");
    PushImage("alice/app", "latest", "layer-one");
    other_ = PushImage("alice/app", "v2", "layer-two");
  }
  std::string digest_, other_;
};

TEST_F(TagsTest, List) {
  auto r = Get(As("alice"), "/api/v0/repositories/alice/app/tags");
  ASSERT_EQ(r.status, 200) << r;
  json j = r.Json();
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["name"], "latest");
  EXPECT_EQ(j[1]["name"], "v1");
  EXPECT_EQ(j[2]["name"], "v2");
  EXPECT_EQ(j[1]["digest"], digest_);
  EXPECT_EQ(j[2]["digest"], other_);
  EXPECT_EQ(j[1]["author"], "Alice <alice@example.com>");
  EXPECT_EQ(j[1]["hashMismatch"], false);
  EXPECT_EQ(j[1]["inNotary"], false);
  EXPECT_TRUE(ParseRfc3339Millis(j[1]["createdAt"].get<std::string>()).has_value());
  EXPECT_TRUE(ParseRfc3339Millis(j[1]["updatedAt"].get<std::string>()).has_value());
  EXPECT_FALSE(j[1].contains("manifest"));

  r = Get(As("alice"), "/api/v0/repositories/alice/app/tags?includeManifests=true");
  json m = r.Json()[1]["manifest"];
  EXPECT_EQ(m["digest"], digest_);
  EXPECT_EQ(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(m["configMediaType"], "application/vnd.oci.image.config.v1+json");
  EXPECT_EQ(m["os"], "linux");
  EXPECT_EQ(m["architecture"], "amd64");
  EXPECT_EQ(m["author"], "Alice <alice@example.com>");
  EXPECT_EQ(m["createdAt"], "2024-01-02T03:04:05Z");
  EXPECT_GT(m["size"].get<int>(), 100);
  ASSERT_EQ(m["dockerfile"].size(), 2u);
  EXPECT_EQ(m["dockerfile"][0]["line"], "ADD layer /");
  EXPECT_EQ(m["dockerfile"][0]["isEmpty"], false);
  EXPECT_EQ(m["dockerfile"][0]["layerDigest"], ComputeDigest("layer-one").str());
  EXPECT_EQ(m["dockerfile"][0]["size"], 9);
  EXPECT_EQ(m["dockerfile"][1]["isEmpty"], true);

  // Pages.
  r = Get(As("alice"), "/api/v0/repositories/alice/app/tags?pageSize=2&count=true");
  ASSERT_EQ(r.Json().size(), 2u);
  EXPECT_EQ(r.Header("X-Next-Page-Start"), "v2");
  EXPECT_EQ(r.Header("X-Resource-Count"), "3");
  r = Get(As("alice"), "/api/v0/repositories/alice/app/tags?pageSize=2&pageStart=v2");
  ASSERT_EQ(r.Json().size(), 1u);
  EXPECT_EQ(r.Json()[0]["name"], "v2");
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/alice/app/tags?includeManifests=yes").Code(),
            "INVALID_PARAMETERS");
  EXPECT_EQ(Get(As("bob"), "/api/v0/repositories/alice/app/tags").Code(), "NO_SUCH_REPOSITORY");
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/alice/none/tags").Code(), "NO_SUCH_REPOSITORY");
}

TEST_F(TagsTest, GetOne) {
  auto r = Get(As("alice"), "/api/v0/repositories/alice/app/tags/v1");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.Json().size(), 1u);
  EXPECT_EQ(r.Json()[0]["name"], "v1");
  EXPECT_EQ(r.Json()[0]["manifest"]["os"], "linux");
  // A digest: every tag that points at it.
  r = Get(As("alice"), "/api/v0/repositories/alice/app/tags/" + digest_);
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.Json().size(), 2u);
  EXPECT_EQ(r.Json()[0]["name"], "latest");
  EXPECT_EQ(r.Json()[1]["name"], "v1");
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/alice/app/tags/nope").Code(), "NO_SUCH_TAG");
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/alice/app/tags/-bad").Code(),
            "INVALID_TAG_NAME");
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/alice/app/tags/sha256:zz").Code(),
            "INVALID_DIGEST");
  EXPECT_EQ(
      Get(As("alice"), "/api/v0/repositories/alice/app/tags/sha256:" + std::string(64, 'a')).Code(),
      "NO_SUCH_TAG");
  // A manifest list: one entry per platform, filtered by os/arch.
  PushIndex("alice/app", "multi", {digest_, "linux", "amd64", other_, "linux", "amd64"});
  r = Get(As("alice"), "/api/v0/repositories/alice/app/tags/multi");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.Json().size(), 2u);
  EXPECT_EQ(r.Json()[0]["name"], "multi");
  EXPECT_EQ(r.Json()[0]["manifest"]["digest"], digest_);
  EXPECT_EQ(r.Json()[1]["manifest"]["digest"], other_);
  EXPECT_EQ(Get(As("alice"), "/api/v0/repositories/alice/app/tags/multi?arch=arm64").Json().size(),
            0u);
}

TEST_F(TagsTest, Delete) {
  CreateOrg("org");
  CreateTeam("org", "readers");
  CreateTeam("org", "writers");
  CreateRepo("org", "repo");
  PushImage("org/repo", "v1", "l1");
  PushImage("org/repo", "v2", "l2");
  CreateUser("reader");
  CreateUser("writer");
  AddToTeam("org", "readers", "reader");
  AddToTeam("org", "writers", "writer");
  GrantRepo("org", "readers", "org/repo", AccessLevel::kReadOnly);
  GrantRepo("org", "writers", "org/repo", AccessLevel::kReadWrite);
  std::string url = "/api/v0/repositories/org/repo/tags/";
  EXPECT_EQ(Do(As("reader"), "DELETE", url + "v1").Code(), "NOT_AUTHORIZED");
  EXPECT_EQ(Do(As("bob"), "DELETE", url + "v1").Code(), "NO_SUCH_REPOSITORY");
  EXPECT_TRUE(meta_->GetTag("org/repo", "v1")->has_value());
  auto r = Do(As("writer"), "DELETE", url + "v1");
  ASSERT_EQ(r.status, 204) << r;
  EXPECT_FALSE(meta_->GetTag("org/repo", "v1")->has_value());
  EXPECT_FALSE(registry_->GetManifest("org/repo", "v1").ok());
  EXPECT_EQ(seen_events_.back().type, "DELETE");
  EXPECT_EQ(seen_events_.back().object_type, "TAG");
  EXPECT_EQ(seen_events_.back().object_name, "org/repo:v1");
  EXPECT_EQ(seen_events_.back().actor, "writer");
  EXPECT_EQ(Do(As("writer"), "DELETE", url + "v1").Code(), "NO_SUCH_TAG");
  EXPECT_EQ(Do(As("writer"), "DELETE", url + "bad%20tag").Code(), "INVALID_TAG_NAME");
  ASSERT_TRUE(settings_->Update(json{{"readOnlyRegistry", true}}).ok());
  EXPECT_EQ(Do(As("writer"), "DELETE", url + "v2").Code(), "NOT_ALLOWED");
  EXPECT_TRUE(meta_->GetTag("org/repo", "v2")->has_value());
}

TEST_F(TagsTest, Manifests) {
  std::string index = PushIndex("alice/app", "multi", {digest_, "linux", "amd64"});
  auto r = Get(As("alice"), "/api/v0/repositories/alice/app/manifests");
  ASSERT_EQ(r.status, 200) << r;
  std::map<std::string, json> by_digest;
  for (const auto& m : r.Json()) by_digest[m["digest"]] = m;
  ASSERT_EQ(by_digest.size(), 3u);
  EXPECT_EQ(by_digest[digest_]["os"], "linux");
  EXPECT_EQ(by_digest[other_]["architecture"], "amd64");
  EXPECT_EQ(by_digest[index]["mediaType"], "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(Get(As("bob"), "/api/v0/repositories/alice/app/manifests").Code(),
            "NO_SUCH_REPOSITORY");
}

}  // namespace
}  // namespace dtr::api::testing
