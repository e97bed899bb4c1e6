#include "storage/swift_config.h"

#include <gtest/gtest.h>

namespace dtr::storage {
namespace {

std::map<std::string, std::string> Minimal() {
  return {{"authurl", "http://127.0.0.1:8080/auth/v1.0"},
          {"username", "test:tester"},
          {"password", "testing"},
          {"container", "registry"}};
}

TEST(SwiftConfig, DefaultsFromTheMinimalSettings) {
  auto c = ParseSwiftConfig(Minimal());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->auth_url, "http://127.0.0.1:8080/auth/v1.0");
  EXPECT_EQ(c->auth_version, 1);
  EXPECT_EQ(c->container, "registry");
  EXPECT_EQ(c->chunk_size, 20u << 20);
  EXPECT_EQ(c->root, "");
  EXPECT_FALSE(c->skip_verify);
  EXPECT_EQ(c->endpoint_type, "public");
}

TEST(SwiftConfig, MissingKeysAreNamed) {
  for (const char* key : {"authurl", "username", "password", "container"}) {
    auto p = Minimal();
    p.erase(key);
    auto c = ParseSwiftConfig(p);
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_TRUE(c.status().is(Code::kInvalidArgument));
    EXPECT_NE(c.status().message().find(std::string("storage.swift.") + key + ": required"),
              std::string::npos)
        << c.status().message();
  }
}

TEST(SwiftConfig, AllDistributionKeys) {
  auto p = Minimal();
  p["authurl"] = "https://keystone.example/v3/";
  p["region"] = "RegionTwo";
  p["tenant"] = "proj";
  p["tenantid"] = "p-id";
  p["domain"] = "Default";
  p["domainid"] = "d-id";
  p["tenantdomain"] = "pd";
  p["tenantdomainid"] = "pd-id";
  p["trustid"] = "t";
  p["prefix"] = "/some/prefix/";
  p["chunksize"] = "5242880";
  p["insecureskipverify"] = "true";
  p["endpointtype"] = "internal";
  auto c = ParseSwiftConfig(p);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->auth_url, "https://keystone.example/v3");
  EXPECT_EQ(c->auth_version, 3);  // guessed from the URL
  EXPECT_EQ(c->region, "RegionTwo");
  EXPECT_EQ(c->tenant, "proj");
  EXPECT_EQ(c->tenant_id, "p-id");
  EXPECT_EQ(c->domain, "Default");
  EXPECT_EQ(c->domain_id, "d-id");
  EXPECT_EQ(c->tenant_domain, "pd");
  EXPECT_EQ(c->tenant_domain_id, "pd-id");
  EXPECT_EQ(c->trust_id, "t");
  EXPECT_EQ(c->root, "some/prefix");
  EXPECT_EQ(c->chunk_size, 5242880u);
  EXPECT_TRUE(c->skip_verify);
  EXPECT_EQ(c->endpoint_type, "internal");
}

TEST(SwiftConfig, BadValuesAreRefusedWithTheirKey) {
  struct Case {
    const char* key;
    const char* value;
    const char* says;
  } cases[] = {
      {"authurl", "ftp://x", "storage.swift.authurl"},
      {"chunksize", "1000", "storage.swift.chunksize: must be from 1048576"},
      {"chunksize", "lots", "not a byte count"},
      {"authversion", "2", "Keystone v2 is not supported"},
      {"authversion", "9", "storage.swift.authversion"},
      {"insecureskipverify", "maybe", "not a boolean"},
      {"container", "a/b", "must not hold '/'"},
      {"endpointtype", "private", "storage.swift.endpointtype"},
      {"requesttimeout", "soon", "storage.swift.requesttimeout"},
  };
  for (const auto& tc : cases) {
    auto p = Minimal();
    p[tc.key] = tc.value;
    auto c = ParseSwiftConfig(p);
    ASSERT_FALSE(c.ok()) << tc.key << "=" << tc.value;
    EXPECT_NE(c.status().message().find(tc.says), std::string::npos) << c.status().message();
  }
}

TEST(SwiftConfig, KeystoneV3NeedsADomain) {
  auto p = Minimal();
  p["authversion"] = "3";
  auto c = ParseSwiftConfig(p);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("storage.swift.domain"), std::string::npos);
  p["domain"] = "Default";
  EXPECT_TRUE(ParseSwiftConfig(p).ok());
}

}  // namespace
}  // namespace dtr::storage
