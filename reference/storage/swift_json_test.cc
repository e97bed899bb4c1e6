#include "storage/swift_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dtr::storage::swiftjson {
namespace {

TEST(SwiftJson, ParsesAListingWithObjectsSubdirsAndLargeObjects) {
  // As Swift 2.30 answers GET /v1/AUTH_test/c?format=json&delimiter=/ (slo adds slo_etag).
  const char* doc = R"([
    {"name": "a/file", "hash": "5d41402abc4b2a76b9719d911017c592", "bytes": 5,
     "content_type": "application/octet-stream", "last_modified": "2024-03-05T10:11:12.123450"},
    {"subdir": "a/sub/"},
    {"name": "a/big", "hash": "0123", "bytes": 3145732, "content_type": "x",
     "last_modified": "2024-03-05T10:11:13.000000", "slo_etag": "\"abc\""},
    {"name": "a/\u00fc\u65e5", "hash": "", "bytes": 0, "last_modified": "2024-03-05T10:11:14"}
  ])";
  auto l = ParseListing(doc);
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->size(), 4u);
  EXPECT_EQ((*l)[0].name, "a/file");
  EXPECT_EQ((*l)[0].bytes, 5u);
  EXPECT_FALSE((*l)[0].is_subdir);
  EXPECT_FALSE((*l)[0].is_slo);
  EXPECT_EQ(std::chrono::system_clock::to_time_t((*l)[0].last_modified), 1709633472);
  EXPECT_TRUE((*l)[1].is_subdir);
  EXPECT_EQ((*l)[1].name, "a/sub/");
  EXPECT_TRUE((*l)[2].is_slo);
  EXPECT_EQ((*l)[2].bytes, 3145732u);
  EXPECT_EQ((*l)[3].name, "a/\xC3\xBC\xE6\x97\xA5");
  EXPECT_TRUE(ParseListing("[]")->empty());
}

TEST(SwiftJson, RefusesMalformedListings) {
  for (const char* doc : {"", "{", "{}", "[1]", R"([{"name": "x"}])", R"([{"bytes": 1}])",
                          R"([{"name": "x", "bytes": -1}])", R"([{"name": "x", "bytes": "1"}])"}) {
    auto l = ParseListing(doc);
    ASSERT_FALSE(l.ok()) << doc;
    EXPECT_TRUE(l.status().is(Code::kCorruption)) << doc;
  }
}

TEST(SwiftJson, KeystoneV3RequestIsPasswordAuthScopedToTheProject) {
  SwiftConfig c;
  c.username = "alice";
  c.password = "s3cret";
  c.domain = "Default";
  c.tenant = "registry";
  auto j = nlohmann::json::parse(KeystoneV3Request(c));
  EXPECT_EQ(j["auth"]["identity"]["methods"][0], "password");
  EXPECT_EQ(j["auth"]["identity"]["password"]["user"]["name"], "alice");
  EXPECT_EQ(j["auth"]["identity"]["password"]["user"]["password"], "s3cret");
  EXPECT_EQ(j["auth"]["identity"]["password"]["user"]["domain"]["name"], "Default");
  EXPECT_EQ(j["auth"]["scope"]["project"]["name"], "registry");
  EXPECT_EQ(j["auth"]["scope"]["project"]["domain"]["name"], "Default");

  c.domain_id = "dom-1";
  c.tenant_domain_id = "pdom";
  j = nlohmann::json::parse(KeystoneV3Request(c));
  EXPECT_EQ(j["auth"]["identity"]["password"]["user"]["domain"]["id"], "dom-1");
  EXPECT_EQ(j["auth"]["scope"]["project"]["domain"]["id"], "pdom");

  c.tenant_id = "p-123";
  j = nlohmann::json::parse(KeystoneV3Request(c));
  EXPECT_EQ(j["auth"]["scope"]["project"]["id"], "p-123");
  EXPECT_FALSE(j["auth"]["scope"]["project"].contains("name"));

  c.trust_id = "trust-9";
  j = nlohmann::json::parse(KeystoneV3Request(c));
  EXPECT_EQ(j["auth"]["scope"]["OS-TRUST:trust"]["id"], "trust-9");
}

// A Keystone v3 token answer (abridged from the Identity API v3 reference).
const char* kToken = R"({"token": {
  "methods": ["password"], "expires_at": "2030-01-02T03:04:05.000000Z",
  "project": {"id": "p-123", "name": "registry", "domain": {"id": "default", "name": "Default"}},
  "catalog": [
    {"type": "identity", "name": "keystone", "endpoints": [
      {"interface": "public", "region_id": "RegionOne", "url": "https://keystone/v3"}]},
    {"type": "object-store", "name": "swift", "endpoints": [
      {"interface": "internal", "region_id": "RegionOne", "region": "RegionOne",
       "url": "http://10.0.0.1:8080/v1/AUTH_p-123"},
      {"interface": "public", "region_id": "RegionOne", "region": "RegionOne",
       "url": "https://swift.one/v1/AUTH_p-123"},
      {"interface": "public", "region_id": "RegionTwo", "region": "RegionTwo",
       "url": "https://swift.two/v1/AUTH_p-123/"}]}
  ]}})";

TEST(SwiftJson, KeystoneV3TokenGivesTheObjectStoreEndpoint) {
  auto t = ParseKeystoneV3(kToken, "", "public");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->storage_url, "https://swift.one/v1/AUTH_p-123");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(t->expires), 1893553445);
  t = ParseKeystoneV3(kToken, "RegionTwo", "public");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->storage_url, "https://swift.two/v1/AUTH_p-123");
  t = ParseKeystoneV3(kToken, "RegionOne", "internal");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->storage_url, "http://10.0.0.1:8080/v1/AUTH_p-123");
}

TEST(SwiftJson, KeystoneV3WithoutAMatchingEndpointSaysWhatThereIs) {
  auto t = ParseKeystoneV3(kToken, "RegionThree", "public");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().is(Code::kFailedPrecondition));
  EXPECT_NE(t.status().message().find("public@RegionTwo"), std::string::npos)
      << t.status().message();
  auto unscoped = ParseKeystoneV3(R"({"token": {"methods": ["password"]}})", "", "public");
  ASSERT_FALSE(unscoped.ok());
  EXPECT_NE(unscoped.status().message().find("tenant"), std::string::npos);
  EXPECT_TRUE(ParseKeystoneV3("not json", "", "public").status().is(Code::kCorruption));
}

TEST(SwiftJson, BulkDeleteResults) {
  auto ok = ParseBulkDelete(
      R"({"Number Not Found": 0, "Response Status": "200 OK", "Response Body": "",
          "Errors": [], "Number Deleted": 4})");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_TRUE(ok->ok());
  EXPECT_EQ(ok->deleted, 4u);
  auto bad = ParseBulkDelete(
      R"({"Number Not Found": 1, "Response Status": "400 Bad Request", "Response Body": "",
          "Errors": [["/c/seg/1", "409 Conflict"]], "Number Deleted": 0})");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok());
  ASSERT_EQ(bad->errors.size(), 1u);
  EXPECT_EQ(bad->errors[0], "/c/seg/1: 409 Conflict");
  EXPECT_FALSE(ParseBulkDelete("{}").ok());
}

TEST(SwiftJson, SloManifestRoundTrip) {
  std::string m = SloManifest({{"/c/seg/0", 1048576}, {"/c/seg/ü 1", 4}});
  auto j = nlohmann::json::parse(m);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["path"], "/c/seg/0");
  EXPECT_EQ(j[0]["size_bytes"], 1048576);
  EXPECT_EQ(j[1]["path"], "/c/seg/ü 1");
  // What GET ?multipart-manifest=get answers: the stored form, with "name".
  auto segs = ParseSloManifest(
      R"([{"name": "/c/seg/0", "bytes": 1048576, "hash": "x", "last_modified": "y"},
          {"name": "/c/seg/1", "bytes": 4, "hash": "z"}])");
  ASSERT_TRUE(segs.ok()) << segs.status().message();
  EXPECT_EQ(*segs, (std::vector<std::string>{"/c/seg/0", "/c/seg/1"}));
  EXPECT_FALSE(ParseSloManifest("[{}]").ok());
}

}  // namespace
}  // namespace dtr::storage::swiftjson
