// Parsing the s3/cleversafe parameters of config.yml, and the driver factory.
#include "storage/s3_config.h"

#include <gtest/gtest.h>

#include "storage/factory.h"

namespace dtr::storage {
namespace {

using Params = std::map<std::string, std::string>;

Params Base() {
  return {{"accesskey", "test:tester"}, {"secretkey", "testing"}, {"bucket", "registry"}};
}

TEST(S3Config, AwsDefaults) {
  auto c = ParseS3Config("s3", Base());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(c->path_style);
  EXPECT_EQ(c->Host(), "registry.s3.us-east-1.amazonaws.com");
  EXPECT_EQ(c->storage_class, "STANDARD");
  EXPECT_EQ(c->chunk_size, 10u << 20);
  EXPECT_EQ(c->driver, "s3");
}

TEST(S3Config, CustomEndpointIsPathStyle) {
  Params p = Base();
  p["regionendpoint"] = "http://127.0.0.1:8080/";
  p["rootdirectory"] = "/some/root/";
  p["chunksize"] = "5242880";
  p["encrypt"] = "true";
  p["keyid"] = "k1";
  p["storageclass"] = "NONE";
  p["requesttimeout"] = "1m30s";
  p["connecttimeout"] = "500ms";
  p["maxretries"] = "2";
  p["delimiterlisting"] = "false";
  auto c = ParseS3Config("s3", p);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:8080");
  EXPECT_TRUE(c->path_style);
  EXPECT_EQ(c->Host(), "127.0.0.1:8080");
  EXPECT_EQ(c->root, "some/root");
  EXPECT_EQ(c->chunk_size, 5u << 20);
  EXPECT_TRUE(c->encrypt);
  EXPECT_EQ(c->kms_key_id, "k1");
  EXPECT_EQ(c->storage_class, "");
  EXPECT_EQ(c->request_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c->connect_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c->max_retries, 2);
  EXPECT_FALSE(c->delimiter_listing);
  p["forcepathstyle"] = "false";
  EXPECT_FALSE(ParseS3Config("s3", p)->path_style);
  p["regionendpoint"] = "minio.local:9000";
  p["secure"] = "false";
  EXPECT_EQ(ParseS3Config("s3", p)->endpoint, "http://minio.local:9000");
}

TEST(S3Config, ErrorsNameTheKey) {
  struct Case {
    const char* key;
    const char* value;
  } cases[] = {{"chunksize", "1000"},
               {"chunksize", "ten"},
               {"secure", "maybe"},
               {"v4auth", "false"},
               {"region", "Not A Region"},
               {"regionendpoint", "ftp://x"},
               {"maxretries", "99"},
               {"requesttimeout", "soon"},
               {"bucket", ""},
               {"multipartcopychunksize", "1"}};
  for (const auto& c : cases) {
    Params p = Base();
    p[c.key] = c.value;
    auto r = ParseS3Config("s3", p);
    ASSERT_FALSE(r.ok()) << c.key << "=" << c.value;
    EXPECT_TRUE(r.status().is(Code::kInvalidArgument));
    EXPECT_NE(r.status().message().find(c.key), std::string::npos) << r.status().message();
  }
  Params nokey = Base();
  nokey.erase("secretkey");
  EXPECT_FALSE(ParseS3Config("s3", nokey).ok());
}

TEST(S3Config, CleversafeDefaults) {
  auto missing = ParseS3Config("cleversafe", Base());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("regionendpoint"), std::string::npos);
  Params p = Base();
  p["regionendpoint"] = "https://s3.us.cloud-object-storage.appdomain.cloud";
  auto c = ParseS3Config("cleversafe", p);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->driver, "cleversafe");
  EXPECT_TRUE(c->path_style);
  EXPECT_EQ(c->region, "us-standard");
  EXPECT_EQ(c->storage_class, "");
  for (const char* region : {"us-south", "eu-geo", "us-east-smart", "jp-tok"}) {
    p["region"] = region;
    EXPECT_TRUE(ParseS3Config("cleversafe", p).ok()) << region;
  }
  p["forcepathstyle"] = "false";
  EXPECT_FALSE(ParseS3Config("cleversafe", p).ok());
}

TEST(StorageFactory, CreatesByName) {
  Params p = Base();
  p["regionendpoint"] = "http://127.0.0.1:1";
  auto s3 = CreateDriver("s3", p, "/tmp");
  ASSERT_TRUE(s3.ok()) << s3.status().message();
  EXPECT_EQ((*s3)->name(), "s3");
  auto cos = CreateDriver("cleversafe", p, "/tmp");
  ASSERT_TRUE(cos.ok());
  EXPECT_EQ((*cos)->name(), "cleversafe");
  std::string dir = ::testing::TempDir() + "/factory-fs";
  auto fs = CreateDriver("filesystem", {{"rootdirectory", dir}}, "/unused");
  ASSERT_TRUE(fs.ok());
  EXPECT_EQ((*fs)->name(), "filesystem");
  EXPECT_TRUE((*fs)->URLFor("/x", "GET", std::chrono::seconds(60)).status().is(Code::kUnsupported));
  EXPECT_TRUE(CreateDriver("gcs", {}, "/tmp").status().is(Code::kUnsupported));
  EXPECT_TRUE(CreateDriver("s3", {}, "/tmp").status().is(Code::kInvalidArgument));
}

TEST(StorageFactory, UnreachableS3IsUnavailableQuickly) {
  Params p = Base();
  p["regionendpoint"] = "http://127.0.0.1:1";  // nothing listens on port 1
  p["maxretries"] = "2";
  auto d = CreateDriver("s3", p, "/tmp");
  ASSERT_TRUE(d.ok());
  auto start = std::chrono::steady_clock::now();
  auto st = (*d)->Stat("/docker/registry/v2/blobs");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().is(Code::kUnavailable)) << st.status().message();
  EXPECT_NE(st.status().message().find("127.0.0.1:1"), std::string::npos) << st.status().message();
  EXPECT_NE(st.status().message().find("HeadObject"), std::string::npos) << st.status().message();
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace dtr::storage
