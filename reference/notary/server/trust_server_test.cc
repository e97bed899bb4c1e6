// notary-server's endpoints in process, through App::Handle: publish, read back by name,
// checksum and version, server keys, rotation, delete, changefeed, caching headers; the
// attacks of issue 5 item 7 over HTTP (each refused with notary's error code, nothing
// stored); and the token flow on GUNs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "access/policy.h"
#include "auth/base64.h"
#include "auth/password.h"
#include "core/digest.h"
#include "core/tuf/tuf_test_util.h"
#include "core/tuf/tuf_time.h"
#include "core/tuf/verify.h"
#include "notary/server/multipart.h"
#include "tests/test_registry.h"

namespace dtr::notary {
namespace {

using dtr::testing::Reply;
using dtr::testing::TestRegistry;
using nlohmann::json;
using tuf::testing::TestPublisher;

const std::string kGun = "dtr.example.com/alice/app";
const std::string kBase = "/v2/" + kGun + "/_trust/tuf/";

std::string Multipart(const std::vector<tuf::MetaUpdate>& files, const std::string& boundary) {
  std::string body;
  for (const auto& f : files) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
            f.role + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + f.data + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

class TrustServerTest : public ::testing::Test {
 protected:
  explicit TrustServerTest(app::Settings settings = dtr::testing::NoAuth()) : reg(settings) {}

  Reply Get(const std::string& target, std::vector<std::pair<std::string, std::string>> h = {}) {
    return reg.Do("GET", target, "", std::move(h));
  }
  Reply Post(const std::vector<tuf::MetaUpdate>& files, const std::string& gun = kGun,
             std::vector<std::pair<std::string, std::string>> h = {}) {
    h.push_back({"Content-Type", "multipart/form-data; boundary=xYzZY"});
    return reg.Do("POST", "/v2/" + gun + "/_trust/tuf/", Multipart(files, "xYzZY"), std::move(h));
  }
  tuf::PublicKey ServerKey(const std::string& role, const std::string& method = "GET") {
    Reply r = reg.Do(method, kBase + role + ".key");
    EXPECT_EQ(r.status, 200) << r.body;
    auto key = tuf::PublicKeyFromJson(*tuf::ParseJson(r.body));
    EXPECT_TRUE(key.ok());
    return *key;
  }
  static std::string Code(const Reply& r) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("errors")) return "";
    return j["errors"][0].value("code", "");
  }
  static std::string DetailName(const Reply& r) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return "";
    return j["errors"][0]["detail"].value("Name", "");
  }
  size_t Changes() {
    Reply r = Get("/v2/_trust/changefeed?records=1000&change_id=0");
    return json::parse(r.body)["count"].get<size_t>();
  }

  TestRegistry reg;
};

TEST_F(TrustServerTest, PublishAndReadBack) {
  EXPECT_EQ(Code(Get(kBase + "root.json")), "METADATA_NOT_FOUND");
  EXPECT_EQ(Get(kBase + "root.json").status, 404);
  tuf::PublicKey ts_key = ServerKey("timestamp");
  EXPECT_EQ(ts_key.type(), "ecdsa");
  // Asked again before it signs anything, the server hands out the same key.
  EXPECT_EQ(ServerKey("timestamp").id(), ts_key.id());

  TestPublisher pub(kGun, ts_key, tuf::Time::Now());
  auto updates = pub.Publish(1, 1, {{"v1", "manifest one"}});
  Reply posted = Post(updates);
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(posted.body, "");

  Reply root = Get(kBase + "root.json");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(root.body, pub.last_root());
  EXPECT_EQ(root.Header("Cache-Control"), "public, max-age=300, s-maxage=300, must-revalidate");
  EXPECT_NE(root.Header("Last-Modified").find(" UTC"), std::string::npos);
  EXPECT_EQ(Get(kBase + "targets.json").body, updates[1].data);

  Reply ts = Get(kBase + "timestamp.json");
  ASSERT_EQ(ts.status, 200);
  // Still valid, so served as stored, dated when it was stored.
  auto stored_ts = reg.app().trust_store().GetCurrent(kGun, "timestamp");
  ASSERT_TRUE(stored_ts.ok() && stored_ts->has_value());
  EXPECT_EQ(ts.body, (*stored_ts)->data);
  EXPECT_EQ(ts.Header("Last-Modified"),
            tuf::FormatRfc1123(tuf::Time::FromUnix((*stored_ts)->created_at)));
  auto ts_signed = tuf::ParseSigned(ts.body);
  ASSERT_TRUE(ts_signed.ok());
  tuf::BaseRole role{"timestamp", {{ts_key.id(), ts_key}}, 1};
  EXPECT_TRUE(tuf::VerifySignatures(*ts_signed, role).ok());
  Reply snap = Get(kBase + "snapshot.json");
  EXPECT_EQ(snap.body, updates[2].data);
  auto ts_meta = tuf::ParseTimestamp(ts_signed->signed_value);
  EXPECT_TRUE(tuf::CheckHashes(snap.body, "snapshot", ts_meta->meta["snapshot"].hashes).ok());

  // By checksum and by version, with the long cache lifetime.
  Reply by_hash = Get(kBase + "snapshot." + ComputeDigest(snap.body).hex() + ".json");
  EXPECT_EQ(by_hash.body, snap.body);
  EXPECT_EQ(by_hash.Header("Cache-Control"), "public, max-age=2592000, s-maxage=2592000");
  EXPECT_EQ(Get(kBase + "1.root.json").body, pub.last_root());
  EXPECT_EQ(Get(kBase + "2.root.json").status, 404);
  EXPECT_EQ(Get(kBase + "root." + std::string(64, 'a') + ".json").status, 404);

  // A second publish; the changefeed has one update per timestamp.
  ASSERT_EQ(Post(pub.Publish(0, 2, {{"v1", "manifest one"}, {"v2", "two"}})).status, 200);
  Reply feed = Get("/v2/" + kGun + "/_trust/changefeed?records=10&change_id=0");
  ASSERT_EQ(feed.status, 200) << feed.body;
  json f = json::parse(feed.body);
  ASSERT_EQ(f["count"], 2);
  EXPECT_EQ(f["records"][0]["GUN"], kGun);
  EXPECT_EQ(f["records"][1]["Version"], 2);
  EXPECT_EQ(f["records"][1]["Category"], "update");
  EXPECT_TRUE(f["records"][0]["ID"].is_string());
  EXPECT_EQ(json::parse(Get("/v2/_trust/changefeed?records=-1&change_id=-1").body)["count"], 1);
  EXPECT_EQ(Code(Get("/v2/_trust/changefeed?records=x")), "INVALID_PARAMETERS");

  // DTR's tag APIs see what is signed.
  auto signed_targets = reg.app().trust_store().SignedTargets(kGun);
  ASSERT_TRUE(signed_targets.ok());
  ASSERT_EQ(signed_targets->size(), 2u);
  EXPECT_EQ(signed_targets->at("v2").sha256_hex, ComputeDigest("two").hex());
  EXPECT_TRUE(*reg.app().trust_store().HasTrustData(kGun));

  // Rotating the timestamp key gives a new key; publishing a root naming it switches over.
  tuf::PublicKey rotated = ServerKey("timestamp", "POST");
  EXPECT_NE(rotated.id(), ts_key.id());
  pub.timestamp_key() = rotated;
  ASSERT_EQ(Post(pub.Publish(2, 3, {{"v3", "three"}})).status, 200);
  auto ts3 = tuf::ParseSigned(Get(kBase + "timestamp.json").body);
  EXPECT_TRUE(tuf::VerifySignatures(*ts3, {"timestamp", {{rotated.id(), rotated}}, 1}).ok());

  // Delete: everything goes, and the feed says so.
  EXPECT_EQ(reg.Do("DELETE", kBase).status, 200);
  EXPECT_EQ(Get(kBase + "root.json").status, 404);
  EXPECT_EQ(Get(kBase + "timestamp.json").status, 404);
  EXPECT_FALSE(*reg.app().trust_store().HasTrustData(kGun));
  f = json::parse(Get("/v2/" + kGun + "/_trust/changefeed?records=10").body);
  EXPECT_EQ(f["records"][f["count"].get<int>() - 1]["Category"], "deletion");
}

TEST_F(TrustServerTest, ServerManagedSnapshot) {
  TestPublisher pub(kGun, ServerKey("timestamp"), tuf::Time::Now());
  pub.server_snapshot = true;
  pub.server_snapshot_key = ServerKey("snapshot");
  ASSERT_EQ(Post(pub.Publish(1, 1, {{"v1", "x"}})).status, 200);
  auto snap = tuf::ParseSigned(Get(kBase + "snapshot.json").body);
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(tuf::VerifySignatures(
                  *snap, {"snapshot", {{pub.server_snapshot_key.id(), pub.server_snapshot_key}}, 1})
                  .ok());
}

// Attacks over HTTP: notary-server's error codes, and nothing stored.
class TrustAttackTest : public TrustServerTest {
 protected:
  void SetUp() override {
    pub = std::make_unique<TestPublisher>(kGun, ServerKey("timestamp"), tuf::Time::Now());
    first = pub->Publish(1, 1, {{"v1", "x"}});
    ASSERT_EQ(Post(first).status, 200);
    before_root = Get(kBase + "root.json").body;
    before_ts = Get(kBase + "timestamp.json").body;
    before_changes = Changes();
  }
  void ExpectNothingStored() {
    EXPECT_EQ(Get(kBase + "root.json").body, before_root);
    EXPECT_EQ(Get(kBase + "timestamp.json").body, before_ts);
    EXPECT_EQ(Get(kBase + "2.targets.json").status, 404);
    EXPECT_EQ(Changes(), before_changes);
  }
  std::string Snap(int64_t v, const std::string& targets) {
    return pub->Snapshot(v, {{"root", pub->last_root()}, {"targets", targets}});
  }

  std::unique_ptr<TestPublisher> pub;
  std::vector<tuf::MetaUpdate> first;
  std::string before_root, before_ts;
  size_t before_changes = 0;
};

TEST_F(TrustAttackTest, WrongKey) {
  tuf::PrivateKey real = pub->targets_key();
  pub->targets_key() = *tuf::PrivateKey::Generate("ecdsa");
  std::string t = pub->Targets(2, {{"evil", "x"}});
  pub->targets_key() = real;
  Reply r = Post({{"targets", 2, t}, {"snapshot", 2, Snap(2, t)}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "INVALID_UPDATE");
  EXPECT_EQ(DetailName(r), "ErrBadTargets");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, RolledBackVersion) {
  std::string t = pub->Targets(1, {{"old", "x"}});
  Reply r = Post({{"targets", 1, t}, {"snapshot", 1, Snap(1, t)}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "VERSION");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, ExpiredMetadata) {
  TestPublisher old(kGun, pub->timestamp_key(), tuf::Time::Now().AddSeconds(-4 * 365 * 86400));
  old.root_key() = pub->root_key();
  old.targets_key() = pub->targets_key();
  old.snapshot_key() = pub->snapshot_key();
  std::string t = old.Targets(2, {{"v2", "x"}});  // expired a year ago
  Reply r = Post({{"targets", 2, t}, {"snapshot", 2, Snap(2, t)}});
  EXPECT_EQ(Code(r), "INVALID_UPDATE");
  EXPECT_EQ(DetailName(r), "ErrBadTargets");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, SnapshotLiesAboutTargets) {
  std::string t = pub->Targets(2, {{"v2", "x"}});
  Reply r = Post({{"targets", 2, t}, {"snapshot", 2, Snap(2, pub->Targets(2, {{"v2", "y"}}))}});
  EXPECT_EQ(Code(r), "INVALID_UPDATE");
  EXPECT_EQ(DetailName(r), "ErrBadSnapshot");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, RootRotationNotSignedByTheOldRoot) {
  TestPublisher usurper(kGun, pub->timestamp_key(), tuf::Time::Now());
  auto updates = usurper.Publish(2, 2, {{"v2", "x"}});
  Reply r = Post(updates);
  EXPECT_EQ(Code(r), "INVALID_UPDATE");
  EXPECT_EQ(DetailName(r), "ErrBadRoot");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, BelowThreshold) {
  tuf::Json root = pub->RootValue(2, tuf::Time::Now().AddSeconds(86400 * 365));
  for (auto& m : root.members()) {
    if (m.key != "roles") continue;
    for (auto& role : m.value.members()) {
      if (role.key == "root") role.value.Set("threshold", tuf::Json::Number(2));
    }
  }
  std::string root_bytes = tuf::testing::SignWith(root, {&pub->root_key()});
  std::string t = pub->Targets(2, {{"v2", "x"}});
  Reply r = Post({{"root", 2, root_bytes},
                  {"targets", 2, t},
                  {"snapshot", 2, pub->Snapshot(2, {{"root", root_bytes}, {"targets", t}})}});
  EXPECT_EQ(Code(r), "INVALID_UPDATE");
  EXPECT_EQ(DetailName(r), "ErrBadRoot");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, MalformedUploads) {
  Reply r = reg.Do("POST", kBase, "not multipart", {{"Content-Type", "application/json"}});
  EXPECT_EQ(Code(r), "MALFORMED_UPLOAD");
  r = reg.Do("POST", kBase, "--b\r\nContent-Disposition: form-data; name=\"files\"\r\n\r\n{}",
             {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(Code(r), "MALFORMED_UPLOAD");
  EXPECT_EQ(Code(Post({{"", 2, "{}"}})), "NO_FILENAME");
  EXPECT_EQ(Code(Post({{"targets/../root", 2, "{}"}})), "INVALID_ROLE");
  EXPECT_EQ(Code(Post({{"targets", 2, "{\"signed\": [1, 2"}})), "MALFORMED_JSON");
  EXPECT_EQ(Code(Post({{"targets", 2, "{\"signed\":{\"version\":\"2\"},\"signatures\":[]}"}})),
            "MALFORMED_JSON");
  EXPECT_EQ(Code(Post({{"targets", 2, std::string(100000, '[') + std::string(100000, ']')}})),
            "MALFORMED_JSON");
  ExpectNothingStored();
}

TEST_F(TrustAttackTest, Oversized) {
  std::string huge = "{\"signed\":{\"pad\":\"" + std::string(65u << 20, 'a') + "\"}}";
  Reply r = Post({{"targets", 2, huge}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "MALFORMED_UPLOAD");
  ExpectNothingStored();
}

TEST(Multipart, ParsesWhatGoWrites) {
  std::string body =
      "preamble\r\n--abc\r\nContent-Disposition: form-data; name=\"files\"; "
      "filename=\"targets/releases\"\r\nContent-Type: application/octet-stream\r\n\r\n{\"a\":1}\r\n"
      "--abc\r\nContent-Disposition: form-data; name=\"files\"; filename=\"root\"\r\n\r\n"
      "line1\r\nline2\r\n--abc--\r\n";
  auto parts = ParseMultipart(body, "abc");
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].filename, "targets/releases");
  EXPECT_EQ((*parts)[0].body, "{\"a\":1}");
  EXPECT_EQ((*parts)[1].body, "line1\r\nline2");
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=\"q r\""), "q r");
  EXPECT_FALSE(MultipartBoundary("text/plain").ok());
  EXPECT_FALSE(ParseMultipart("--abc\r\n\r\nno end", "abc").ok());
}

TEST(SplitRepoName, SkipsTheHostOfAGun) {
  auto n = access::SplitRepoName("dtr.example.com:443/alice/app");
  EXPECT_EQ(n.ns, "alice");
  EXPECT_EQ(n.name, "app");
  n = access::SplitRepoName("localhost/alice/app");
  EXPECT_EQ(n.full(), "alice/app");
  n = access::SplitRepoName("127.0.0.1:5000/alice/app");
  EXPECT_EQ(n.full(), "alice/app");
  n = access::SplitRepoName("alice/app");
  EXPECT_EQ(n.full(), "alice/app");
  n = access::SplitRepoName("my.org/app");  // two components: a namespace with a dot
  EXPECT_EQ(n.ns, "my.org");
}

// The token flow, as the notary client goes through it.
class TrustAuthTest : public TrustServerTest {
 protected:
  static app::Settings Token() {
    app::Settings s;
    s.auth = "token";
    return s;
  }
  TrustAuthTest() : TrustServerTest(Token()) {
    for (const char* u : {"alice", "bob"}) {
      meta::Account a;
      a.name = u;
      a.password_hash = auth::HashPassword(std::string("pw-") + u, 1000);
      EXPECT_TRUE(reg.app().identity().CreateAccount(&a).ok());
    }
    meta::Repository r;
    r.namespace_name = "alice";
    r.name = "app";
    r.visibility = "public";
    EXPECT_TRUE(reg.app().identity().CreateRepository(&r).ok());
  }
  std::string TokenFor(const std::string& user, const std::string& actions) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!user.empty()) {
      h.push_back({"Authorization", "Basic " + auth::Base64Encode(user + ":pw-" + user)});
    }
    Reply r =
        reg.Do("GET", "/auth/token?service=dtr&scope=repository:" + kGun + ":" + actions, "", h);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["token"];
  }
  std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
};

TEST_F(TrustAuthTest, TokenFlowOnGuns) {
  // Anonymous: a challenge naming the GUN's scope.
  Reply r = Get(kBase + "timestamp.key");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.Header("WWW-Authenticate").find("scope=\"repository:" + kGun + ":push,pull\""),
            std::string::npos)
      << r.Header("WWW-Authenticate");
  // Alice owns alice/app: push and pull on the GUN.
  std::string alice = TokenFor("alice", "push,pull");
  r = reg.Do("GET", kBase + "timestamp.key", "", Bearer(alice));
  ASSERT_EQ(r.status, 200) << r.body;
  TestPublisher pub(kGun, *tuf::PublicKeyFromJson(*tuf::ParseJson(r.body)), tuf::Time::Now());
  EXPECT_EQ(Post(pub.Publish(1, 1, {{"v1", "x"}}), kGun, Bearer(alice)).status, 200);
  // Bob may read (public repository) but not publish, rotate or delete.
  std::string bob = TokenFor("bob", "push,pull");
  EXPECT_EQ(Get(kBase + "root.json", Bearer(bob)).status, 200);
  r = Post(pub.Publish(0, 2, {{"v2", "y"}}), kGun, Bearer(bob));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.Header("WWW-Authenticate").find("insufficient_scope"), std::string::npos);
  EXPECT_EQ(reg.Do("POST", kBase + "timestamp.key", "", Bearer(bob)).status, 401);
  EXPECT_EQ(reg.Do("DELETE", kBase, "", Bearer(TokenFor("bob", "*"))).status, 401);
  // Basic credentials without the right: 403.
  EXPECT_EQ(Post(pub.Publish(0, 2, {{"v2", "y"}}), kGun,
                 {{"Authorization", "Basic " + auth::Base64Encode("bob:pw-bob")}})
                .status,
            403);
  EXPECT_EQ(Get(kBase + "2.targets.json").status, 404);  // nothing stored
  // Alice may delete her repository's trust data.
  EXPECT_EQ(reg.Do("DELETE", kBase, "", Bearer(TokenFor("alice", "*"))).status, 200);
  // The global changefeed needs the catalog scope, and shows what the caller can read.
  EXPECT_EQ(Get("/v2/_trust/changefeed?records=10", Bearer(alice)).status, 401);
  auto catalog_token = [&](const std::string& user) {
    Reply t = reg.Do("GET", "/auth/token?service=dtr&scope=registry:catalog:*", "",
                     {{"Authorization", "Basic " + auth::Base64Encode(user + ":pw-" + user)}});
    return json::parse(t.body)["token"].get<std::string>();
  };
  r = Get("/v2/_trust/changefeed?records=10", Bearer(catalog_token("alice")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], 2);  // the publish and the delete
  meta::Repository hidden;
  hidden.namespace_name = "alice";
  hidden.name = "secret";
  hidden.visibility = "private";
  ASSERT_TRUE(reg.app().identity().CreateRepository(&hidden).ok());
  ASSERT_TRUE(reg.app()
                  .trust_store()
                  .UpdateMany("dtr.example.com/alice/secret", {{"timestamp", 1, "{}"}})
                  .ok());
  r = Get("/v2/_trust/changefeed?records=10", Bearer(catalog_token("bob")));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["count"], 2);  // bob cannot read alice/secret
  r = Get("/v2/_trust/changefeed?records=10", Bearer(catalog_token("alice")));
  EXPECT_EQ(json::parse(r.body)["count"], 3);
}

}  // namespace
}  // namespace dtr::notary
