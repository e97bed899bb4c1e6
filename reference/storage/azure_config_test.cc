#include "storage/azure_config.h"

#include <gtest/gtest.h>

namespace dtr::storage {
namespace {

std::map<std::string, std::string> Minimal() {
  return {{"accountname", "myaccount"}, {"accountkey", "Zm9vYmFy"}, {"container", "registry"}};
}

TEST(AzureConfig, DefaultsToTheAccountsEndpointInTheRealm) {
  auto c = ParseAzureConfig(Minimal());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->origin, "https://myaccount.blob.core.windows.net");
  EXPECT_EQ(c->base_path, "");
  EXPECT_EQ(c->container, "registry");
  EXPECT_EQ(c->root, "");
  EXPECT_EQ(c->chunk_size, 8u << 20);
  auto p = Minimal();
  p["realm"] = "core.chinacloudapi.cn";
  EXPECT_EQ(ParseAzureConfig(p)->origin, "https://myaccount.blob.core.chinacloudapi.cn");
}

TEST(AzureConfig, ServiceUrlPointsAtAzurite) {
  for (const char* key : {"serviceurl", "endpoint", "blobendpoint"}) {
    auto p = Minimal();
    p[key] = "http://127.0.0.1:10000/devstoreaccount1/";
    p["rootdirectory"] = "/a/b/";
    p["chunksize"] = "1048576";
    auto c = ParseAzureConfig(p);
    ASSERT_TRUE(c.ok()) << key << ": " << c.status().message();
    EXPECT_EQ(c->origin, "http://127.0.0.1:10000");
    EXPECT_EQ(c->base_path, "/devstoreaccount1");
    EXPECT_EQ(c->root, "a/b");
    EXPECT_EQ(c->chunk_size, 1048576u);
  }
}

TEST(AzureConfig, MissingKeysAreNamed) {
  for (const char* key : {"accountname", "accountkey", "container"}) {
    auto p = Minimal();
    p.erase(key);
    auto c = ParseAzureConfig(p);
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_TRUE(c.status().is(Code::kInvalidArgument));
    EXPECT_NE(c.status().message().find(std::string("storage.azure.") + key + ": required"),
              std::string::npos)
        << c.status().message();
  }
}

TEST(AzureConfig, BadValuesAreRefusedWithTheirKey) {
  struct Case {
    const char* key;
    const char* value;
    const char* says;
  } cases[] = {
      {"accountkey", "not base64!", "storage.azure.accountkey: is not base64"},
      {"container", "Registry", "lower-case"},
      {"container", "ab", "3 to 63"},
      {"serviceurl", "127.0.0.1:10000", "storage.azure.serviceurl"},
      {"chunksize", "100", "storage.azure.chunksize: must be from 1048576"},
      {"uploadconcurrency", "0", "storage.azure.uploadconcurrency"},
      {"requesttimeout", "1y", "unknown duration unit"},
  };
  for (const auto& tc : cases) {
    auto p = Minimal();
    p[tc.key] = tc.value;
    auto c = ParseAzureConfig(p);
    ASSERT_FALSE(c.ok()) << tc.key << "=" << tc.value;
    EXPECT_NE(c.status().message().find(tc.says), std::string::npos) << c.status().message();
  }
  auto p = Minimal();
  p["serviceurl"] = "http://a:1/x";
  p["endpoint"] = "http://b:2/y";
  EXPECT_FALSE(ParseAzureConfig(p).ok());
}

}  // namespace
}  // namespace dtr::storage
