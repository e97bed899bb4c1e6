#include "core/tuf/repo.h"

#include <gtest/gtest.h>

#include "core/tuf/tuf_test_util.h"
#include "core/tuf/verify.h"

namespace dtr::tuf {
namespace {

using testing::Fixture;
using testing::FixtureTime;
using testing::MemoryCrypto;
using testing::MemorySource;
using testing::TestPublisher;

const char* kGun = "dtr.example.com/ns/repo";

struct Server {
  MemoryCrypto crypto;
  MemorySource store;
  Time now = FixtureTime();

  Result<std::vector<MetaUpdate>> Validate(const std::vector<MetaUpdate>& updates) {
    return ValidateUpdate(kGun, updates, store, crypto, now);
  }
  // Validates and stores, as the server does; returns the status of the whole publish.
  Status Publish(const std::vector<MetaUpdate>& updates) {
    auto v = Validate(updates);
    if (!v.ok()) return v.status();
    return store.Apply(*v);
  }
};

std::string Role(const std::vector<MetaUpdate>& u, const std::string& role) {
  for (const auto& x : u) {
    if (x.role == role) return x.data;
  }
  return "";
}

TEST(ValidateUpdate, FirstPublishThenUpdates) {
  Server server;
  TestPublisher pub(kGun, &server.crypto, server.now);
  auto first = server.Validate(pub.Publish(1, 1, {{"v1", "one"}}));
  ASSERT_TRUE(first.ok()) << first.status().tag() << ": " << first.status().message();
  ASSERT_EQ(first->size(), 4u);
  EXPECT_EQ((*first)[3].role, "timestamp");
  EXPECT_EQ((*first)[3].version, 1);
  ASSERT_TRUE(server.store.Apply(*first).ok());

  // The server's timestamp names the stored snapshot and is signed by the timestamp key.
  auto ts = ParseSigned(Role(*first, "timestamp"));
  auto root = ParseRoot(ParseSigned(pub.last_root())->signed_value);
  EXPECT_TRUE(VerifySignatures(*ts, *BuildBaseRole(*root, "timestamp")).ok());
  auto ts_meta = ParseTimestamp(ts->signed_value);
  ASSERT_TRUE(ts_meta.ok());
  EXPECT_TRUE(
      CheckHashes(Role(*first, "snapshot"), "snapshot", ts_meta->meta["snapshot"].hashes).ok());

  auto second = server.Validate(pub.Publish(0, 2, {{"v1", "one"}, {"v2", "two"}}));
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->back().version, 2);
  ASSERT_TRUE(server.store.Apply(*second).ok());

  auto served = CurrentTimestamp(kGun, server.store, server.crypto, server.now);
  ASSERT_TRUE(served.ok());
  EXPECT_FALSE(served->fresh);
  EXPECT_EQ(served->data, Role(*second, "timestamp"));
}

TEST(ValidateUpdate, ServerManagedSnapshot) {
  Server server;
  TestPublisher pub(kGun, &server.crypto, server.now);
  pub.server_snapshot = true;
  pub.server_snapshot_key =
      *GetOrCreateServerKey(kGun, "snapshot", server.store, server.crypto, "ecdsa");
  auto v = server.Validate(pub.Publish(1, 1, {{"v1", "one"}}));
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->size(), 4u);
  EXPECT_EQ((*v)[2].role, "snapshot");
  EXPECT_EQ((*v)[2].version, 1);
  ASSERT_TRUE(server.store.Apply(*v).ok());
  // The key is now in use: asking again gives the same key, rotating gives a new one.
  EXPECT_EQ(GetOrCreateServerKey(kGun, "snapshot", server.store, server.crypto, "ecdsa")->id(),
            pub.server_snapshot_key.id());
  EXPECT_NE(server.crypto.Create(kGun, "snapshot", "ecdsa")->id(), pub.server_snapshot_key.id());
  // Later publishes send only targets; the snapshot version follows the stored one.
  auto next = server.Validate(pub.Publish(0, 2, {{"v2", "two"}}));
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ((*next)[1].role, "snapshot");
  EXPECT_EQ((*next)[1].version, 2);
}

TEST(ValidateUpdate, ExpiredTimestampIsResigned) {
  Server server;
  TestPublisher pub(kGun, &server.crypto, server.now);
  ASSERT_TRUE(server.Publish(pub.Publish(1, 1, {{"v1", "one"}})).ok());
  Time later = server.now.AddSeconds(15 * 86400);
  auto served = CurrentTimestamp(kGun, server.store, server.crypto, later);
  ASSERT_TRUE(served.ok()) << served.status().message();
  EXPECT_TRUE(served->fresh);
  ASSERT_EQ(served->to_store.size(), 1u);
  EXPECT_EQ(served->to_store[0].version, 2);
  auto ts = ParseTimestamp(ParseSigned(served->data)->signed_value);
  EXPECT_TRUE(later < ts->common.expires);
}

// Attacks: each is refused with notary-server's error and nothing is stored.
class Attack : public ::testing::Test {
 protected:
  void SetUp() override {
    pub_ = std::make_unique<TestPublisher>(kGun, &server_.crypto, server_.now);
    ASSERT_TRUE(server_.Publish(pub_->Publish(1, 1, {{"v1", "one"}})).ok());
    stored_ = server_.store.count();
  }
  void ExpectRefused(const std::vector<MetaUpdate>& updates, const std::string& tag) {
    Status s = server_.Publish(updates);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.tag(), tag) << s.message();
    EXPECT_EQ(server_.store.count(), stored_);
  }
  std::string SnapshotFor(int64_t v, const std::string& targets) {
    return pub_->Snapshot(v, {{"root", pub_->last_root()}, {"targets", targets}});
  }

  Server server_;
  std::unique_ptr<TestPublisher> pub_;
  size_t stored_ = 0;
};

TEST_F(Attack, TargetsSignedByTheWrongKey) {
  PrivateKey real = pub_->targets_key();
  pub_->targets_key() = *PrivateKey::Generate(kEcdsaKey);
  std::string t = pub_->Targets(2, {{"evil", "x"}});
  pub_->targets_key() = real;
  ExpectRefused({{"targets", 2, t}, {"snapshot", 2, SnapshotFor(2, t)}}, kErrBadTargets);
}

TEST_F(Attack, TargetsBelowThreshold) {
  // A root that wants two targets signatures; the targets carry one.
  Json root = pub_->RootValue(2, server_.now.AddSeconds(86400 * 365));
  for (auto& m : root.members()) {
    if (m.key != "roles") continue;
    for (auto& r : m.value.members()) {
      if (r.key == "targets") r.value.Set("threshold", Json::Number(2));
    }
  }
  std::string root_bytes = testing::SignWith(root, {&pub_->root_key()});
  std::string t = pub_->Targets(2, {{"v2", "x"}});
  ExpectRefused({{"root", 2, root_bytes},
                 {"targets", 2, t},
                 {"snapshot", 2, pub_->Snapshot(2, {{"root", root_bytes}, {"targets", t}})}},
                kErrBadTargets);
}

TEST_F(Attack, RolledBackVersion) {
  // Validation passes (notary-server leaves versions to storage); storing refuses it.
  std::string t = pub_->Targets(1, {{"old", "x"}});
  auto v = server_.Validate({{"targets", 1, t}, {"snapshot", 1, SnapshotFor(1, t)}});
  ASSERT_TRUE(v.ok());
  Status s = server_.store.Apply(*v);
  EXPECT_EQ(s.tag(), "VERSION");
  EXPECT_EQ(server_.store.count(), stored_);
}

TEST_F(Attack, ExpiredTargets) {
  Server later;
  later.now = server_.now.AddSeconds(4 * 365 * 86400);  // past the targets' 3 years
  std::string t = pub_->Targets(2, {{"v2", "x"}});
  auto v = ValidateUpdate(kGun, {{"targets", 2, t}, {"snapshot", 2, SnapshotFor(2, t)}},
                          server_.store, server_.crypto, later.now);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().tag(), kErrBadTargets);
  EXPECT_NE(v.status().message().find("expired"), std::string::npos);
}

TEST_F(Attack, SnapshotLiesAboutTargets) {
  std::string t = pub_->Targets(2, {{"v2", "x"}});
  std::string other = pub_->Targets(2, {{"v2", "y"}});
  ExpectRefused({{"targets", 2, t}, {"snapshot", 2, SnapshotFor(2, other)}}, kErrBadSnapshot);
}

TEST_F(Attack, SnapshotSignedByTheWrongKey) {
  std::string t = pub_->Targets(2, {{"v2", "x"}});
  pub_->snapshot_key() = *PrivateKey::Generate(kEcdsaKey);
  ExpectRefused({{"targets", 2, t}, {"snapshot", 2, SnapshotFor(2, t)}}, kErrBadSnapshot);
}

TEST_F(Attack, RootRotationNotSignedByTheOldRoot) {
  // A new root key (certificate for the right GUN), signing its own root only.
  auto k = *PrivateKey::Generate(kEcdsaKey);
  auto cert = *k.SelfSignedCertificate(kGun, server_.now, server_.now.AddSeconds(86400 * 365));
  PrivateKey old = pub_->root_key();
  pub_->root_key() = k.WithPublicKey(cert);
  // TestPublisher names its root_cert_ in the root; rebuild the root by hand.
  Json root = pub_->RootValue(2, server_.now.AddSeconds(86400 * 365));
  for (auto& m : root.members()) {
    if (m.key == "keys") m.value.Set(cert.id(), cert.ToJson());
    if (m.key == "roles") {
      m.value.Set("root", Json::Object({{"keyids", Json::Array({Json::String(cert.id())})},
                                        {"threshold", Json::Number(1)}}));
    }
  }
  std::string root_bytes = testing::SignWith(root, {&pub_->root_key()});
  std::string t = pub_->Targets(2, {{"v2", "x"}});
  ExpectRefused({{"root", 2, root_bytes},
                 {"targets", 2, t},
                 {"snapshot", 2, pub_->Snapshot(2, {{"root", root_bytes}, {"targets", t}})}},
                kErrBadRoot);
  // Signed by both the old and the new root key, the same rotation is accepted.
  std::string both = testing::SignWith(root, {&pub_->root_key(), &old});
  EXPECT_TRUE(server_
                  .Publish({{"root", 2, both},
                            {"targets", 2, t},
                            {"snapshot", 2, pub_->Snapshot(2, {{"root", both}, {"targets", t}})}})
                  .ok());
}

TEST_F(Attack, RootVersionSkips) {
  std::string root = pub_->Root(5);
  std::string t = pub_->Targets(2, {{"v2", "x"}});
  ExpectRefused({{"root", 5, root},
                 {"targets", 2, t},
                 {"snapshot", 2, pub_->Snapshot(2, {{"root", root}, {"targets", t}})}},
                kErrBadRoot);
}

TEST_F(Attack, RootForAnotherGun) {
  MemoryCrypto crypto;
  MemorySource store;
  TestPublisher other("dtr.example.com/ns/other", &crypto, server_.now);
  auto v = ValidateUpdate(kGun, other.Publish(1, 1, {{"v1", "x"}}), store, crypto, server_.now);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().tag(), kErrBadRoot);
}

TEST_F(Attack, NoRootAtAll) {
  MemorySource empty;
  std::string t = pub_->Targets(1, {{"v1", "x"}});
  auto v = ValidateUpdate(kGun, {{"targets", 1, t}}, empty, server_.crypto, server_.now);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().tag(), kErrValidation);
}

TEST_F(Attack, SnapshotMissingWhenServerHasNoSnapshotKey) {
  ExpectRefused({{"targets", 2, pub_->Targets(2, {{"v2", "x"}})}}, kErrBadHierarchy);
}

TEST_F(Attack, MalformedMetadata) {
  ExpectRefused({{"targets", 2, "{\"signed\":"}}, kErrBadTargets);
  ExpectRefused({{"targets", 2, "[1,2]"}}, kErrBadTargets);
  ExpectRefused({{"root", 2, "{\"signed\":{\"_type\":\"Root\"},\"signatures\":[]}"}}, kErrBadRoot);
}

TEST_F(Attack, DelegationSignedByTheWrongKey) {
  auto releases = *PrivateKey::Generate(kEcdsaKey);
  std::string t = pub_->Targets(2, {}, {{"targets/releases", &releases}});
  ASSERT_TRUE(server_.Publish({{"targets", 2, t}, {"snapshot", 2, SnapshotFor(2, t)}}).ok());
  stored_ = server_.store.count();
  PrivateKey real = pub_->targets_key();
  pub_->targets_key() = *PrivateKey::Generate(kEcdsaKey);  // signs the delegation below
  std::string d = pub_->Targets(1, {{"r1", "x"}});
  pub_->targets_key() = real;
  ExpectRefused(
      {{"targets/releases", 1, d},
       {"snapshot", 3,
        pub_->Snapshot(3, {{"root", pub_->last_root()}, {"targets", t}, {"targets/releases", d}})}},
      kErrBadTargets);
  // Signed by the delegation's key it goes in, with the parent loaded from storage.
  pub_->targets_key() = releases;
  std::string good = pub_->Targets(1, {{"r1", "x"}});
  pub_->targets_key() = real;
  EXPECT_TRUE(server_
                  .Publish({{"targets/releases", 1, good},
                            {"snapshot", 3,
                             pub_->Snapshot(3, {{"root", pub_->last_root()},
                                                {"targets", t},
                                                {"targets/releases", good}})}})
                  .ok());
  stored_ = server_.store.count();
  // A delegation nobody declared is refused.
  ExpectRefused({{"targets/other", 1, good}}, kErrBadTargets);
}

// The real client's uploads pass every check up to the timestamp, which only the server that
// made the fixtures could sign.
TEST(ValidateUpdate, NotaryClientUploads) {
  MemoryCrypto crypto;
  MemorySource store;
  const std::string gun = "example.com/fixtures/delegation";
  auto first = ValidateUpdate(gun,
                              {{"root", 1, Fixture("delegation/1.root.json")},
                               {"targets", 2, Fixture("delegation/2.targets.json")},
                               {"snapshot", 2, Fixture("delegation/2.snapshot.json")}},
                              store, crypto, FixtureTime());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().tag(), kErrBadRoot);
  EXPECT_EQ(first.status().message(), "no  timestamp keys exist on the server");

  ASSERT_TRUE(store
                  .Apply({{"root", 1, Fixture("delegation/1.root.json")},
                          {"targets", 3, Fixture("delegation/3.targets.json")},
                          {"snapshot", 3, Fixture("delegation/3.snapshot.json")}})
                  .ok());
  auto delegations =
      ValidateUpdate(gun,
                     {{"targets/releases", 1, Fixture("delegation/1.targets_releases.json")},
                      {"targets/rsa", 1, Fixture("delegation/1.targets_rsa.json")},
                      {"snapshot", 4, Fixture("delegation/4.snapshot.json")}},
                     store, crypto, FixtureTime());
  ASSERT_FALSE(delegations.ok());
  EXPECT_EQ(delegations.status().message(), "no  timestamp keys exist on the server");
  // With a snapshot that does not describe the delegations, it fails earlier.
  auto stale =
      ValidateUpdate(gun,
                     {{"targets/releases", 1, Fixture("delegation/1.targets_releases.json")},
                      {"snapshot", 4, Fixture("delegation/3.snapshot.json")}},
                     store, crypto, FixtureTime());
  EXPECT_EQ(stale.status().tag(), kErrBadSnapshot);
}

}  // namespace
}  // namespace dtr::tuf
