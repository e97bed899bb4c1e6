#include "app/storage_settings.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/filesystem_driver.h"

namespace dtr::app {
namespace {

using json = nlohmann::json;

Settings S3Settings() {
  Settings s;
  s.storage_driver = "s3";
  s.storage_params = {{"accesskey", "AK"}, {"secretkey", "very-secret"}, {"bucket", "b"}};
  return s;
}

TEST(StorageSettings, SecretsAreRedactedOnlyWhenAsked) {
  json shown = json::parse(StorageSettingsJson(S3Settings(), true));
  EXPECT_EQ(shown["storage"]["s3"]["secretkey"], kRedacted);
  EXPECT_EQ(shown["storage"]["s3"]["accesskey"], "AK");
  EXPECT_EQ(shown["storage"]["delete"]["enabled"], true);
  json stored = json::parse(StorageSettingsJson(S3Settings(), false));
  EXPECT_EQ(stored["storage"]["s3"]["secretkey"], "very-secret");
}

TEST(StorageSettings, RedactedSecretSentBackKeepsItsValue) {
  auto next = ApplyStorageJson(S3Settings(), StorageSettingsJson(S3Settings(), true));
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(next->storage_driver, "s3");
  EXPECT_EQ(next->storage_params.at("secretkey"), "very-secret");
}

TEST(StorageSettings, RedactedSecretForAnotherDriverIsRefused) {
  auto next = ApplyStorageJson(
      S3Settings(), R"({"storage":{"azure":{"accountname":"a","accountkey":"<redacted>"}}})");
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("accountkey"), std::string::npos);
}

TEST(StorageSettings, ADriverMustBeNamedAndKnown) {
  EXPECT_FALSE(ApplyStorageJson(Settings{}, R"({"storage":{"delete":{"enabled":true}}})").ok());
  EXPECT_FALSE(ApplyStorageJson(Settings{}, R"({"storage":{"tape":{}}})").ok());
  EXPECT_FALSE(ApplyStorageJson(Settings{}, R"({"storage":"s3"})").ok());
  EXPECT_FALSE(ApplyStorageJson(Settings{}, "not json").ok());
  auto fs = ApplyStorageJson(S3Settings(), R"({"storage":{"filesystem":{"rootdirectory":"/x"}}})");
  ASSERT_TRUE(fs.ok()) << fs.status().message();
  EXPECT_EQ(fs->storage_driver, "filesystem");
  EXPECT_EQ(fs->storage_params.size(), 1u);  // the s3 parameters are gone
}

TEST(StorageSettings, SwapKeepsOldReadersWorking) {
  std::string a = ::testing::TempDir() + "/swap-a", b = ::testing::TempDir() + "/swap-b";
  ASSERT_TRUE(storage::MakeDirs(a).ok());
  ASSERT_TRUE(storage::MakeDirs(b).ok());
  SwappableDriver d(std::make_unique<storage::FilesystemDriver>(a));
  ASSERT_TRUE(d.PutContent("/f", "old backend").ok());
  auto reader = d.Reader("/f", 0);
  ASSERT_TRUE(reader.ok());
  d.Swap(std::make_unique<storage::FilesystemDriver>(b));
  EXPECT_TRUE(d.GetContent("/f").status().is(Code::kNotFound));
  char buf[64];
  auto n = (*reader)->Read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "old backend");
  EXPECT_TRUE(ProbeDriver(&d).ok());
  EXPECT_TRUE(d.List("/").ok());
}

}  // namespace
}  // namespace dtr::app
