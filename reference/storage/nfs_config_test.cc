#include "storage/nfs_config.h"

#include <gtest/gtest.h>

namespace dtr::storage {
namespace {

TEST(NfsConfig, UrlGivesServerAndPath) {
  auto c = ParseNfsConfig({{"url", "nfs://10.0.0.5/srv/nfs/registry/?version=3"}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server, "10.0.0.5");
  EXPECT_EQ(c->path, "/srv/nfs/registry");
  EXPECT_EQ(c->timeout, std::chrono::seconds(60));
  EXPECT_EQ(c->connections, 4);
  EXPECT_FALSE(c->uid.has_value());
  auto root = ParseNfsConfig({{"url", "nfs://filer"}});
  ASSERT_TRUE(root.ok()) << root.status().message();
  EXPECT_EQ(root->path, "/");
}

TEST(NfsConfig, Options) {
  auto c = ParseNfsConfig({{"url", "nfs://filer/export"},
                           {"timeout", "5s"},
                           {"maxretries", "0"},
                           {"uid", "1000"},
                           {"gid", "0"},
                           {"connections", "2"}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->max_retries, 0);
  EXPECT_EQ(c->uid, 1000);
  EXPECT_EQ(c->gid, 0);
  EXPECT_EQ(c->connections, 2);
}

TEST(NfsConfig, BadSettingsNameTheKey) {
  struct Case {
    std::map<std::string, std::string> params;
    const char* key;
  } cases[] = {
      {{}, "storage.nfs.url"},
      {{{"url", "http://filer/export"}}, "storage.nfs.url"},
      {{{"url", "nfs:///export"}}, "storage.nfs.url"},
      {{{"url", "nfs://filer/a/../b"}}, "storage.nfs.url"},
      {{{"url", "nfs://filer:2049/export"}}, "storage.nfs.url"},
      {{{"url", "nfs://filer/export?version=4"}}, "storage.nfs.url"},
      {{{"url", "nfs://filer/export"}, {"timeout", "500ms"}}, "storage.nfs.timeout"},
      {{{"url", "nfs://filer/export"}, {"uid", "-1"}}, "storage.nfs.uid"},
      {{{"url", "nfs://filer/export"}, {"connections", "0"}}, "storage.nfs.connections"},
  };
  for (const auto& c : cases) {
    auto r = ParseNfsConfig(c.params);
    ASSERT_FALSE(r.ok()) << c.key;
    EXPECT_TRUE(r.status().is(Code::kInvalidArgument));
    EXPECT_NE(r.status().message().find(c.key), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace dtr::storage
