#include "app/settings.h"

#include <gtest/gtest.h>

namespace dtr::app {
namespace {

TEST(SettingsTest, ReadsDistributionConfig) {
  Settings s;
  Status st = ApplyYaml(R"(
version: 0.1
log:
  level: debug
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /srv/registry
  delete:
    enabled: false
  maintenance:
    readonly:
      enabled: true
    uploadpurging:
      enabled: true
      age: 1h30m
      interval: 10m
http:
  addr: 127.0.0.1:5999
)",
                        &s);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(s.storage_driver, "filesystem");
  EXPECT_EQ(s.FilesystemRoot(), "/srv/registry");
  EXPECT_FALSE(s.delete_enabled);
  EXPECT_TRUE(s.read_only);
  EXPECT_EQ(s.upload_purge_age, std::chrono::seconds(5400));
  EXPECT_EQ(s.upload_purge_interval, std::chrono::seconds(600));
  EXPECT_EQ(s.listen, "127.0.0.1:5999");
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_FALSE(s.access_log);
}

TEST(SettingsTest, DefaultsToTheDataDirectory) {
  Settings s;
  s.data_dir = "/d";
  EXPECT_EQ(s.FilesystemRoot(), "/d/storage");
}

TEST(SettingsTest, ClearErrors) {
  Settings s;
  EXPECT_NE(ApplyYaml("storage: {floppy: {}}", &s).message().find("floppy"), std::string::npos);
  EXPECT_FALSE(ApplyYaml("storage: [", &s).ok());
  EXPECT_NE(ApplyYaml("storage: {delete: {enabled: maybe}}", &s).message().find("delete.enabled"),
            std::string::npos);
  EXPECT_NE(
      ApplyYaml("storage: {maintenance: {uploadpurging: {age: 5x}}}", &s).message().find("unit"),
      std::string::npos);
  EXPECT_FALSE(ApplyYaml("storage: {filesystem: {}, s3: {}}", &s).ok());
  EXPECT_TRUE(ApplyYaml("", &s).ok());
}

TEST(SettingsTest, HostPort) {
  std::string h;
  int p;
  ASSERT_TRUE(SplitHostPort(":5000", &h, &p).ok());
  EXPECT_EQ(h, "0.0.0.0");
  EXPECT_EQ(p, 5000);
  ASSERT_TRUE(SplitHostPort("[::1]:80", &h, &p).ok());
  EXPECT_EQ(h, "::1");
  EXPECT_FALSE(SplitHostPort("nohost", &h, &p).ok());
  EXPECT_FALSE(SplitHostPort("x:99999", &h, &p).ok());
}

}  // namespace
}  // namespace dtr::app
