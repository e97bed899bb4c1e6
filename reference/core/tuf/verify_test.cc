#include "core/tuf/verify.h"

#include <gtest/gtest.h>

#include "core/tuf/tuf_test_util.h"

namespace dtr::tuf {
namespace {

using testing::Fixture;
using testing::FixtureTime;

TEST(ValidateRoot, AcceptsTheClientsRootForItsGunOnly) {
  auto s = ParseSigned(Fixture("basic/1.root.json"));
  ASSERT_TRUE(s.ok());
  auto root = ValidateRoot(nullptr, *s, "example.com/fixtures/basic", FixtureTime());
  ASSERT_TRUE(root.ok()) << root.status().message();
  EXPECT_EQ(root->common.version, 1);
  EXPECT_FALSE(ValidateRoot(nullptr, *s, "example.com/fixtures/other", FixtureTime()).ok());
  // Its certificate has expired by 2040.
  EXPECT_FALSE(
      ValidateRoot(nullptr, *s, "example.com/fixtures/basic", *ParseRfc3339("2040-01-01T00:00:00Z"))
          .ok());
}

// `key rotate timestamp -r` and `snapshot -r` made roots 2 and 3, each signed by the
// same root key: each validates against its predecessor, and not against another GUN's.
TEST(ValidateRoot, RotationsChainFromThePreviousRoot) {
  const std::string gun = "example.com/fixtures/rotate";
  auto r1 = ValidateRoot(nullptr, *ParseSigned(Fixture("rotate/1.root.json")), gun, FixtureTime());
  ASSERT_TRUE(r1.ok());
  auto r2 = ValidateRoot(&*r1, *ParseSigned(Fixture("rotate/2.root.json")), gun, FixtureTime());
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  auto r3 = ValidateRoot(&*r2, *ParseSigned(Fixture("rotate/3.root.json")), gun, FixtureTime());
  ASSERT_TRUE(r3.ok()) << r3.status().message();
  EXPECT_NE(r1->roles.at("timestamp")->key_ids, r3->roles.at("timestamp")->key_ids);

  auto other = ValidateRoot(nullptr, *ParseSigned(Fixture("basic/1.root.json")),
                            "example.com/fixtures/basic", FixtureTime());
  auto cross =
      ValidateRoot(&*other, *ParseSigned(Fixture("rotate/2.root.json")), gun, FixtureTime());
  EXPECT_FALSE(cross.ok());
}

TEST(VerifySignatures, ThresholdsAndKeyIds) {
  auto a = *PrivateKey::Generate(kEcdsaKey);
  auto b = *PrivateKey::Generate(kEd25519Key);
  Json value = Json::Object({{"x", Json::Number(1)}});
  BaseRole role{"targets", {{a.id(), a.public_key()}, {b.id(), b.public_key()}}, 2};
  auto both = ParseSigned(testing::SignWith(value, {&a, &b}));
  auto one = ParseSigned(testing::SignWith(value, {&a}));
  auto twice = ParseSigned(testing::SignWith(value, {&a, &a}));
  EXPECT_TRUE(VerifySignatures(*both, role).ok());
  EXPECT_FALSE(VerifySignatures(*one, role).ok());
  EXPECT_FALSE(VerifySignatures(*twice, role).ok());  // one key counts once
  role.threshold = 1;
  EXPECT_TRUE(VerifySignatures(*one, role).ok());
  role.threshold = 0;
  EXPECT_FALSE(VerifySignatures(*one, role).ok());

  // A signature by a key the role does not list does not count.
  auto stranger = *PrivateKey::Generate(kEcdsaKey);
  role.threshold = 1;
  EXPECT_FALSE(VerifySignatures(*ParseSigned(testing::SignWith(value, {&stranger})), role).ok());
  // A role key filed under another key's id is refused outright.
  BaseRole mislabeled{"targets", {{a.id(), b.public_key()}}, 1};
  EXPECT_EQ(VerifySignatures(*one, mislabeled).message(), "key ID is not valid for key content");
  // No signatures at all.
  auto none = ParseSigned(R"({"signed":{"x":1},"signatures":[]})");
  EXPECT_FALSE(VerifySignatures(*none, role).ok());
  // Non-canonicalisable content cannot be verified.
  auto frac =
      ParseSigned(R"({"signed":{"x":1.5},"signatures":[{"keyid":"k","method":"ecdsa","sig":""}]})");
  EXPECT_FALSE(VerifySignatures(*frac, role).ok());
}

TEST(VerifyVersionAndExpiry, Rules) {
  SignedCommon c{"Targets", FixtureTime(), 3};
  EXPECT_TRUE(VerifyVersion(c, 3).ok());
  EXPECT_FALSE(VerifyVersion(c, 4).ok());
  EXPECT_TRUE(VerifyExpiry(c, "targets", FixtureTime().AddSeconds(-1)).ok());
  EXPECT_FALSE(VerifyExpiry(c, "targets", FixtureTime().AddSeconds(1)).ok());
}

TEST(Metadata, StructureChecks) {
  auto parse = [](const std::string& signed_json, const char* role) -> Status {
    auto j = ParseJson(signed_json);
    EXPECT_TRUE(j.ok());
    if (std::string(role) == "root") return ParseRoot(*j).status();
    if (std::string(role) == "snapshot") return ParseSnapshot(*j).status();
    if (std::string(role) == "timestamp") return ParseTimestamp(*j).status();
    return ParseTargets(*j, role).status();
  };
  EXPECT_FALSE(
      parse(R"({"_type":"Targets","version":1,"expires":"2030-01-01T00:00:00Z"})", "root").ok());
  EXPECT_FALSE(
      parse(R"({"_type":"Root","version":1,"expires":"2030-01-01T00:00:00Z","roles":{}})", "root")
          .ok());
  EXPECT_TRUE(
      parse(R"({"_type":"Targets","version":1,"expires":"2030-01-01T00:00:00Z"})", "targets").ok());
  EXPECT_FALSE(
      parse(R"({"_type":"Targets","version":0,"expires":"2030-01-01T00:00:00Z"})", "targets").ok());
  EXPECT_FALSE(
      parse(R"({"_type":"Targets","version":"1","expires":"2030-01-01T00:00:00Z"})", "targets")
          .ok());
  EXPECT_FALSE(parse(R"({"_type":"Targets","version":1,"expires":"soon"})", "targets").ok());
  EXPECT_FALSE(parse(R"({"_type":"Targets","version":1,"expires":"2030-01-01T00:00:00Z",
     "delegations":{"keys":{},"roles":[{"name":"targets/a/b","keyids":[],"threshold":1}]}})",
                     "targets")
                   .ok());
  EXPECT_FALSE(parse(R"({"_type":"Targets","version":1,"expires":"2030-01-01T00:00:00Z",
     "delegations":{"keys":{},"roles":[{"name":"targets/a","keyids":["k"],"threshold":1}]}})",
                     "targets")
                   .ok());
  EXPECT_FALSE(
      parse(R"({"_type":"Targets","version":1,"expires":"2030-01-01T00:00:00Z"})", "releases")
          .ok());
  EXPECT_FALSE(parse(R"({"_type":"Snapshot","version":1,"expires":"2030-01-01T00:00:00Z",
     "meta":{"root":{"hashes":{"sha256":"AAAA"},"length":1}}})",
                     "snapshot")
                   .ok());
  EXPECT_FALSE(
      parse(R"({"_type":"Timestamp","version":1,"expires":"2030-01-01T00:00:00Z","meta":{}})",
            "timestamp")
          .ok());
}

TEST(Roles, Names) {
  EXPECT_TRUE(IsDelegation("targets/releases"));
  EXPECT_TRUE(IsDelegation("targets/a/b_c-1"));
  EXPECT_FALSE(IsDelegation("targets"));
  EXPECT_FALSE(IsDelegation("targets/"));
  EXPECT_FALSE(IsDelegation("targets/../root"));
  EXPECT_FALSE(IsDelegation("targets//a"));
  EXPECT_FALSE(IsDelegation("targets/A"));
  EXPECT_FALSE(IsDelegation("targets/" + std::string(250, 'a')));
  EXPECT_TRUE(ValidRole("snapshot"));
  EXPECT_FALSE(ValidRole("snapshots"));
  EXPECT_EQ(ParentRole("targets/a/b"), "targets/a");
}

}  // namespace
}  // namespace dtr::tuf
